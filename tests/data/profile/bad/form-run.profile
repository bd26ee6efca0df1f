name: x
run imap: prog
