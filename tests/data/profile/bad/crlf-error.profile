name: x
run * *: prog
run imap nope: prog
