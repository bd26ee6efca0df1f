name: x
run * *: prog
known some-scenario pass: it passes
