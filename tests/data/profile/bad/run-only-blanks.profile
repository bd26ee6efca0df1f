name: x
run pop3 none: 	 
