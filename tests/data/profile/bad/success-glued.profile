name: x
run * *: prog
success: 0,1
