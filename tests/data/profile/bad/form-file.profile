name: x
run * *: prog
file rc imap:
    text
