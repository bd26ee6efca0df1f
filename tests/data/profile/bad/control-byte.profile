name: x
description: ab
run * *: prog
