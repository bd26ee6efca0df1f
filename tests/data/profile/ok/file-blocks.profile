name: file-blocks
run * *: /usr/bin/python3 {root}/../../run/clients/client.py {protocol} {port}

file lead * *:

    after a blank line
file inner * *:
    one

    three, after a blank line
      indented deeper
file tabbed * *:
	one tab
		two tabs
file trailing * *:
    text


file empty-mid * *:


file hash * *:
    # text
# a comment: the block ended
file empty-eof * *:


