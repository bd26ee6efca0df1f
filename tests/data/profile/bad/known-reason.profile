name: x
run * *: prog
known some-scenario hang:   
