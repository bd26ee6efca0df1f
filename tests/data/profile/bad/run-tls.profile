name: x
run imap ssl: prog
