name: x
run * *: prog
feature http delete: --delete
