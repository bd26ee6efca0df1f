name: x
run * *: prog
file rc * tls:
    text
