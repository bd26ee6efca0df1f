name x: y
run * *: prog
