name: x
run * *: prog
known a-scenario fail extra words: a reason
