name: x
description:
run * *: prog
