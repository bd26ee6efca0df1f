# mpop 1.4 (Debian 12; GnuTLS, GNU SASL), one account from a config file.
#
#   POP3  CAPA, the login, STAT, LIST, UIDL, RETR of every message not
#         yet in {state}/uidls (empty at the first run) into {maildir},
#         QUIT.  "keep on": no DELE.  mpop pipelines its commands.
#
# Login: with TLS, "auth on" lets mpop pick (AUTH PLAIN here); without TLS
# mpop refuses every method that sends the password in the clear, so the
# tls none config says "auth user" (USER/PASS) explicitly.  A feature's
# --auth=... overrides either.  starttls: "tls_starttls on", and mpop stops
# when STLS is missing or refused; implicit: "tls_starttls off".  Both
# verify the certificate against tls_trust_file for the name {host}.  The
# read timeout is mpop's default (180 s).
#
# Not available: headers-only and the IMAP features (mpop is POP3 only).

name: mpop
description: mpop 1.4.18 from Debian 12 (GnuTLS, GNU SASL); POP3 into a Maildir
requires: mpop
version: mpop --version
success: 0

file mpoprc pop3 none:
    account mailrig
    host {host}
    port {port}
    tls off
    auth user
    user {user}
    password {password}
    delivery maildir {maildir}
    uidls_file {state}/uidls
    keep on
file mpoprc pop3 starttls:
    account mailrig
    host {host}
    port {port}
    tls on
    tls_starttls on
    tls_trust_file {cafile}
    auth on
    user {user}
    password {password}
    delivery maildir {maildir}
    uidls_file {state}/uidls
    keep on
file mpoprc pop3 implicit:
    account mailrig
    host {host}
    port {port}
    tls on
    tls_starttls off
    tls_trust_file {cafile}
    auth on
    user {user}
    password {password}
    delivery maildir {maildir}
    uidls_file {state}/uidls
    keep on

run pop3 *: mpop -C {file:mpoprc} {features} mailrig

feature pop3 user-pass: --auth=user
feature pop3 apop: --auth=apop
feature pop3 auth-plain: --auth=plain
feature pop3 auth-login: --auth=login
feature pop3 auth-cram-md5: --auth=cram-md5
# delete: DELE of every message after all the RETRs, then QUIT.
feature pop3 delete: --keep=off
# keep: the default (only-new, UIDLs in {state}/uidls).
feature pop3 keep:

# Observed with mailrig run against conformance/scenarios (mpop 1.4.18).
known pop3-framing-bare-lf fail: mpop rejects the bare-LF lines of RETR 1 ("POP3 server sent an invalid reply") and exits 76 without QUIT
known pop3-framing-no-final-crlf hang: mpop waits for the end of the RETR answer (read timeout 180 s)
known pop3-framing-retr-endless hang: mpop keeps reading the endless RETR answer
known pop3-sasl-endless-challenge hang: after the user name and the password mpop answers the third "+" challenge with CAPA, reads the next "+" as the start of the CAPA list and waits for its end
known pop3-state-list-stat-disagree fail: mpop rejects a LIST that disagrees with STAT ("invalid reply to command LIST") and exits 76 without downloading
