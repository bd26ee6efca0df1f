name: x
description: one
description: two
run * *: prog
