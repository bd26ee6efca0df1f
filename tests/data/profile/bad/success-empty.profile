name: x
run * *: prog
success:   
