name: x
run * *: prog
env: A=B
