name:	 
run * *: prog
