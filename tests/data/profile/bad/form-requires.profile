name: x
requires all: prog
run * *: prog
