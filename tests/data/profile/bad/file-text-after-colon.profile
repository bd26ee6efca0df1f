name: x
run * *: prog
file rc * *: set user {user}
