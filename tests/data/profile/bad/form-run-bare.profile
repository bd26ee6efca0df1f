name: x
run: prog
