name:	crlf-tabs	
run	*	*	:	/usr/bin/python3	{root}/../../run/clients/client.py	{protocol}	{port}	{features}	
feature	pop3	extra:	--print	"a	b"
env MRT_CRLF: value
file crlf.txt * *:
	line one
		line two

