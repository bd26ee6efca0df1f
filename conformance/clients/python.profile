# Python 3's imaplib, poplib and smtplib, through the drivers in
# drivers/ (drivers/README.md says what each session does).  Debian's
# /usr/bin/python3 is named as the program so that no other python on
# PATH (pyenv, a virtualenv) is used.
#
#   IMAP  LOGIN, LIST "" *, SELECT INBOX, FETCH of every message with
#         BODY.PEEK[] into {maildir}, LOGOUT.
#   POP3  USER/PASS, STAT, LIST, UIDL, RETR of every message into
#         {maildir}, QUIT (no DELE).
#   SMTP  EHLO, MAIL FROM {from}, RCPT TO {to}, DATA {message}, QUIT.
#
# starttls: the drivers send STARTTLS/STLS and stop when it is missing or
# refused; TLS verifies the chain against {cafile} and the name {host}.
# Each read has the drivers' default timeout of 10 s.  {cafile} is empty with
# tls none; the drivers do not use it then.

name: python
description: Python 3.11 imaplib, poplib and smtplib from Debian 12, through drivers/py-imap, py-pop3 and py-smtp
requires: /usr/bin/python3 {root}/drivers/py-imap {root}/drivers/py-pop3 {root}/drivers/py-smtp
version: /usr/bin/python3 --version
success: 0

run imap *: /usr/bin/python3 {root}/drivers/py-imap --host {host} --port {port} --tls {tls} --cafile {cafile} --user {user} --password {password} --maildir {maildir} {features}
run pop3 *: /usr/bin/python3 {root}/drivers/py-pop3 --host {host} --port {port} --tls {tls} --cafile {cafile} --user {user} --password {password} --maildir {maildir} {features}
run smtp *: /usr/bin/python3 {root}/drivers/py-smtp --host {host} --port {port} --tls {tls} --cafile {cafile} --from {from} --to {to} --message {message} {features}

feature imap auth-plain: --auth plain
feature imap auth-login: --auth sasl-login
feature imap auth-cram-md5: --auth cram-md5
feature imap headers-only: --headers-only
feature imap mark-seen: --mark-seen
feature imap delete: --delete 1:*

feature pop3 user-pass: --auth user
feature pop3 apop: --auth apop
feature pop3 auth-plain: --auth plain
feature pop3 auth-login: --auth login
feature pop3 auth-cram-md5: --auth cram-md5
feature pop3 delete: --delete
feature pop3 keep: --uidl-file {state}/uidl

feature smtp auth: --user {user} --password {password}
feature smtp auth-plain: --user {user} --password {password} --auth plain
feature smtp auth-login: --user {user} --password {password} --auth login
feature smtp auth-cram-md5: --user {user} --password {password} --auth cram-md5

# Observed with mailrig run against conformance/scenarios (Python 3.11.2).
known imap-framing-bodystructure-deep-nesting fail: py-imap's BODYSTRUCTURE parser recurses once per level and fails on the 1000-deep nesting (RecursionError), exit 1 without LOGOUT
known imap-framing-literal-4gb-stall fail: imaplib waits for the 4 GiB literal; the driver's 10 s read timeout is longer than the scenario's 4 s close-within, so the server gives up first
known imap-sasl-endless-challenge fail: imaplib answers every "+" challenge with the same PLAIN response and never cancels with "*"; it stops only when the server drops the connection at the close-within deadline
known imap-starttls-stripped-continuation hang: imaplib ignores the "+ go ahead" answer to STARTTLS and waits for the tagged answer; the driver's 10 s read timeout is longer than the scenario's 6 s limit
known imap-state-alert-texts fail: py-imap does not show [ALERT] texts (imaplib keeps untagged responses, the driver prints none of them)
known imap-state-capability-imap4rev2-only fail: imaplib refuses a server whose CAPABILITY lacks IMAP4rev1 ("server not IMAP4 compliant") and exits 1 before logging in
known pop3-framing-bare-lf fail: poplib takes the bare-LF "." line as the end of RETR 1 (65 of 386 octets), then reads the rest as the answer to RETR 2 (error_proto) and exits 1 without QUIT
known pop3-framing-line-1mb fail: poplib rejects the 1 MiB line ("line too long": its line limit is 2048 octets) and exits 1 without QUIT
known pop3-framing-no-final-crlf hang: poplib waits for the end of the RETR answer; the driver's 10 s read timeout is longer than the scenario's 8 s limit
known pop3-framing-retr-endless hang: poplib keeps the endless RETR answer in memory with no limit (more than 700 MiB in 5 s)
known smtp-framing-ehlo-endless hang: smtplib keeps the endless EHLO answer in memory with no limit (more than 800 MiB in 5 s)
known smtp-state-ehlo-refused-helo fail: py-smtp sends only EHLO; when it is refused with 500 the driver gives up (exit 1) instead of falling back to HELO
