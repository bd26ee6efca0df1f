name: x
run * *: prog
known some-scenario: it fails
