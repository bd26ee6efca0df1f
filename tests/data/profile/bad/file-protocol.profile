name: x
run * *: prog
file rc http *:
    text
