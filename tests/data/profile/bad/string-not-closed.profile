name: x
run * *: prog --say "hello world
