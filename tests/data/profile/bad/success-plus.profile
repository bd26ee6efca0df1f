name: x
run * *: prog
success: +1
