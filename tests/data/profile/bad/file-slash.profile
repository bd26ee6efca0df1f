name: x
run * *: prog
file .config/rc * *:
    text
