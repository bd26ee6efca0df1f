# swaks 20201014 (Debian 12; Perl, Net::SSLeay), one SMTP transaction.
#
#   SMTP  EHLO (the machine's host name), (STARTTLS, EHLO), MAIL FROM
#         {from}, RCPT TO {to}, DATA with {message} as is (--data @FILE),
#         QUIT.  No AUTH.  swaks prints the whole dialogue on stdout.
#
# starttls: --tls, which makes STARTTLS mandatory (swaks stops when it is
# not advertised or refused); implicit: --tls-on-connect.  Both with
# --tls-verify --tls-ca-path {cafile}.  This swaks verifies the chain
# only, not the host name (host name checks came in a later release), so
# a certificate for another name is accepted: see the known lines.

name: swaks
description: swaks 20201014 from Debian 12 (Net::SSLeay); SMTP
requires: swaks
version: swaks --version
success: 0

run smtp none: swaks --server {host} --port {port} --from {from} --to {to} --data @{message} {features}
run smtp starttls: swaks --server {host} --port {port} --tls --tls-verify --tls-ca-path {cafile} --from {from} --to {to} --data @{message} {features}
run smtp implicit: swaks --server {host} --port {port} --tls-on-connect --tls-verify --tls-ca-path {cafile} --from {from} --to {to} --data @{message} {features}

# auth: swaks tries each mechanism the server offers (CRAM-MD5 first here).
feature smtp auth: --auth --auth-user {user} --auth-password {password}
feature smtp auth-plain: --auth PLAIN --auth-user {user} --auth-password {password}
feature smtp auth-login: --auth LOGIN --auth-user {user} --auth-password {password}
feature smtp auth-cram-md5: --auth CRAM-MD5 --auth-user {user} --auth-password {password}

# Observed with mailrig run against conformance/scenarios (swaks 20201014).
known smtp-framing-ehlo-endless hang: swaks keeps reading the endless EHLO answer
known smtp-sasl-server-aborts fail: after the 454 to AUTH CRAM-MD5 swaks tries the next mechanism offered (AUTH LOGIN, which this server then accepts) and sends the message
known smtp-starttls-cert-wrong-host fail: swaks 20201014 --tls-verify checks the chain but not the host name: it accepted a certificate for wrong.invalid and sent the message
