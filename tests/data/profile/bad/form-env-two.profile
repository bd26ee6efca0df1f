name: x
run * *: prog
env LANG C: x
