# msmtp 1.8 (Debian 12; GnuTLS, GNU SASL), sending {message} read from
# stdin (through sh, since the runner gives the client /dev/null).
#
#   SMTP  EHLO, (STARTTLS, EHLO), MAIL FROM {from}, RCPT TO {to}, DATA,
#         QUIT.  No AUTH (account "mailrig": auth off).  msmtp pipelines
#         when the server offers PIPELINING.
#
# The auth features switch to the account "mailrig-auth" of the same
# file: "auth on" (msmtp picks the mechanism) with TLS, "auth plain"
# without: msmtp's own choice never sends a password in the clear ("cannot
# use a secure authentication method"), so over plaintext the method must
# be named.  starttls: "tls_starttls on", msmtp stops when STARTTLS is
# missing or refused; implicit: "tls_starttls off".  Both verify the
# certificate against tls_trust_file for the name {host}.

name: msmtp
description: msmtp 1.8.23 from Debian 12 (GnuTLS, GNU SASL); SMTP
requires: msmtp sh
version: msmtp --version
success: 0

file msmtprc smtp none:
    defaults
    host {host}
    port {port}
    from {from}
    tls off
    user {user}
    password {password}
    account mailrig
    auth off
    account mailrig-auth
    auth plain
file msmtprc smtp starttls:
    defaults
    host {host}
    port {port}
    from {from}
    tls on
    tls_starttls on
    tls_trust_file {cafile}
    user {user}
    password {password}
    account mailrig
    auth off
    account mailrig-auth
    auth on
file msmtprc smtp implicit:
    defaults
    host {host}
    port {port}
    from {from}
    tls on
    tls_starttls off
    tls_trust_file {cafile}
    user {user}
    password {password}
    account mailrig
    auth off
    account mailrig-auth
    auth on

run smtp *: sh -c "m=$1; shift; exec msmtp \"$@\" < \"$m\"" sh {message} -C {file:msmtprc} -a mailrig {features} -- {to}

feature smtp auth: -a mailrig-auth
feature smtp auth-plain: -a mailrig-auth --auth=plain
feature smtp auth-login: -a mailrig-auth --auth=login
feature smtp auth-cram-md5: -a mailrig-auth --auth=cram-md5
