# only a run line
run * *: prog
