name: x
  run * *: prog
