name: x
run * *: prog
this line has no colon
