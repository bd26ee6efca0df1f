# The profile of tests/test_run.py: clients/client.py, one short session
# with the fake server, and what each scenario asks of it through its
# "needs:" line (a feature per behaviour).  Only TLS "none" has a run
# line, so TLS scenarios are skipped.

name: fake
description: tests/data/run/clients/client.py, a scripted fake client
requires: /usr/bin/python3 {root}/clients/client.py
version: /usr/bin/python3 --version
success: 0 5

run * none: /usr/bin/python3 {root}/clients/client.py {protocol} {port} --user {user} --password {password} {features}

# the session
feature pop3 dele: --dele 1
feature imap store: --store 4 \Seen
feature smtp send: --send {message}
feature * login: --login
feature * noop: --command NOOP
feature * no-connect: --no-connect
feature * count: --state-count
feature * first-noop: --first-command NOOP
# the process
feature * hello: --print hello --eprint "to stderr"
feature * big-output: --print-bytes 3000000
feature * exit3: --exit 3
feature * exit5: --exit 5
feature * segv: --signal SEGV
feature * sanitizer: --sanitizer
feature * sanitizer-8bit: --sanitizer-8bit
feature * hang: --hang
feature * alloc100: --alloc 100
# what the runner gave it
feature * words: --print "two words" {user} "{{braces}" "" "say \"hi\" \\ back"
feature * show-files: --cat rc.txt --cat {file:other.txt}

env MRT_WHO: {user}@{ip}:{port}
env MRT_BRACE: {{literal}
env MRT_TWICE: first
env MRT_TWICE: second

file rc.txt imap *:
    only for IMAP
file rc.txt * *:
    user {user}
    password {password}
    port {port}
      indented {{x}

    state {state}


file other.txt * *:
	a tab-indented line for {protocol}

known exit-three fail: exits with status 3 on purpose
known output-missing crash: listed with the wrong verdict on purpose
