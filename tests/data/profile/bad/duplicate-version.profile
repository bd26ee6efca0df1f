name: x
version: a --version
version: b --version
run * *: prog
