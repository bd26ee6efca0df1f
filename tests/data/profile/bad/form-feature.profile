name: x
run * *: prog
feature delete: --delete
