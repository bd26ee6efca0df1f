# Every key once (and some twice), with comments and blank lines
# between them.

name: everything and more
description:   a profile with every key; values keep inner   blanks  
requires: /usr/bin/python3 {root}/../../run/clients/client.py
version: /usr/bin/python3 -c "print('everything 1.0')"
success: 0 7

# one command for every protocol and TLS mode
run * *: /usr/bin/python3 {root}/../../run/clients/client.py {protocol} {port} --user {user} --password {password} {features} --exit 7

feature * extra: --print {host} --print {ip} --print {tls} --print {timeout}
feature pop3 extra: --print "never: the line above fits pop3 first"

env MRT_ONE: {user}:{password}
env MRT_EMPTY:
env MRT_SPACES:   inner   blanks   kept  

file config * *:
    # an indented '#' is text, not a comment
    host {host}:{port}
    from {from} to {to}
    message {message}
known plain-imap crash: never happens (matches false)
known plain-pop3 fail: never happens either
