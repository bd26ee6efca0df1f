name: x
description of it: y
run * *: prog
