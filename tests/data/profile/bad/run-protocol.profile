name: x
run imap4 none: prog
