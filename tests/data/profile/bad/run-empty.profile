name: x
run * *:
