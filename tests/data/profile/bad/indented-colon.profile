name: x
run * *: prog
	  	: nothing
