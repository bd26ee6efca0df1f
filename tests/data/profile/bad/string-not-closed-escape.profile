name: x
requires: prog
version: prog "--version\"
run * *: prog
