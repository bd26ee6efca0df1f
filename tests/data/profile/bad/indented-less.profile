name: x
run * *: prog
file rc * *:
    first line
      deeper is fine
  less is not
