name: x
run * *: progmore
