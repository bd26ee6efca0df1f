name: x
success imap: 0
run * *: prog
