name: x
run * *: prog
require: prog
