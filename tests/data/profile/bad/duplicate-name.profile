name: x
run * *: prog
name: y
