name: x
run * *: prog
file rc * *:
    text
# a comment ends the block
    so this is not text
