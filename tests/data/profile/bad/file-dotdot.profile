name: x
run * *: prog
file .. * *:
    text
