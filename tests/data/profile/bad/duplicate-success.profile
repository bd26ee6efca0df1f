name: x
success: 0
run * *: prog
success: 1
