name: per-protocol
description: the first run line that fits wins; TLS other than none is another command
run pop3 none: /usr/bin/python3 {root}/../../run/clients/client.py pop3 {port} --print "pop3 line" {features}
run * starttls: /nonexistent/never-run {port}
run imap *: /usr/bin/python3 {root}/../../run/clients/client.py imap {port} --print "imap line"
run * none: /usr/bin/python3 {root}/../../run/clients/client.py {protocol} {port} --print "catch-all line"
feature pop3 extra: --print "pop3 feature"
feature * extra: --print "any feature"
file rc smtp *:
    smtp text
file rc * *:
    other text
file rc pop3 *:
    never used: an earlier line fits pop3
