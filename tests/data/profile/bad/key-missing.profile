name: x
: prog
