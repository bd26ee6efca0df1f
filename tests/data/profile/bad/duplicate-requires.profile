name: x
requires: a
requires: b
run * *: prog
