name: x
run * *: prog
success: 99999999999999999999999
