name: x
version imap: prog --version
run * *: prog
