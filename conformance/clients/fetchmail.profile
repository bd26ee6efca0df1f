# fetchmail 6.4 (Debian 12), polling one account once (-N: no daemon).
#
#   POP3  login (the strongest method the server offers: CRAM-MD5 here),
#         STAT, LAST, UIDL, then LIST n and RETR n for each message not
#         yet in the UIDL list ({state}/fetchids, empty at the first run),
#         QUIT.  --keep: no DELE.  So a second run against the same server
#         downloads nothing and exits 1 ("no mail"), which is a success.
#   IMAP  login, SELECT INBOX, FETCH n RFC822.HEADER and FETCH n
#         BODY.PEEK[TEXT] for every message (--all: seen ones too), then
#         STORE n +FLAGS (\Seen) for each: fetchmail always marks what it
#         downloaded as read.  --keep: nothing deleted.  LOGOUT.
#
# Each message goes through the mda into {maildir}/new (written to tmp/
# first).  starttls: "sslproto TLS1.2+" without "ssl" makes STARTTLS/STLS
# mandatory; sslcertck verifies the certificate against sslcertfile for
# the poll name {host} (fetchmail ignores IP addresses in certificates).
# implicit: "ssl".  none: sslproto '' (no TLS at all).  Its read timeout is
# the default 300 s, so a stalled server shows up as a hang.  The pid file
# is in {state} so that runs in parallel do not see each other (as root
# fetchmail would use /var/run/fetchmail.pid).
#
# Not available: POP3 AUTH PLAIN and LOGIN, IMAP AUTHENTICATE PLAIN and
# LOGIN (fetchmail does not implement them: with only those offered it
# gives up, "we've run out of authentication methods"); headers-only,
# folders (it would need every folder named in the rc file).

name: fetchmail
description: fetchmail 6.4.37 from Debian 12 (OpenSSL); POP3, IMAP; delivers through an mda into a Maildir
requires: fetchmail sh
version: sh -c "fetchmail --version 2>/dev/null"
success: 0 1
env FETCHMAILHOME: {state}

file fetchmailrc pop3 none:
    set no syslog
    poll {host} protocol POP3 service {port}
        user "{user}" there with password "{password}"
        sslproto ''
        mda "cat > {maildir}/tmp/fm.$$ && mv {maildir}/tmp/fm.$$ {maildir}/new/fm.$$"
file fetchmailrc pop3 starttls:
    set no syslog
    poll {host} protocol POP3 service {port}
        user "{user}" there with password "{password}"
        sslproto TLS1.2+ sslcertck sslcertfile "{cafile}"
        mda "cat > {maildir}/tmp/fm.$$ && mv {maildir}/tmp/fm.$$ {maildir}/new/fm.$$"
file fetchmailrc pop3 implicit:
    set no syslog
    poll {host} protocol POP3 service {port}
        user "{user}" there with password "{password}"
        ssl sslproto TLS1.2+ sslcertck sslcertfile "{cafile}"
        mda "cat > {maildir}/tmp/fm.$$ && mv {maildir}/tmp/fm.$$ {maildir}/new/fm.$$"
file fetchmailrc imap none:
    set no syslog
    poll {host} protocol IMAP service {port}
        user "{user}" there with password "{password}"
        sslproto ''
        mda "cat > {maildir}/tmp/fm.$$ && mv {maildir}/tmp/fm.$$ {maildir}/new/fm.$$"
file fetchmailrc imap starttls:
    set no syslog
    poll {host} protocol IMAP service {port}
        user "{user}" there with password "{password}"
        sslproto TLS1.2+ sslcertck sslcertfile "{cafile}"
        mda "cat > {maildir}/tmp/fm.$$ && mv {maildir}/tmp/fm.$$ {maildir}/new/fm.$$"
file fetchmailrc imap implicit:
    set no syslog
    poll {host} protocol IMAP service {port}
        user "{user}" there with password "{password}"
        ssl sslproto TLS1.2+ sslcertck sslcertfile "{cafile}"
        mda "cat > {maildir}/tmp/fm.$$ && mv {maildir}/tmp/fm.$$ {maildir}/new/fm.$$"

run pop3 *: fetchmail -N -f {file:fetchmailrc} --idfile {state}/fetchids --pidfile {state}/fetchmail.pid --keep {features}
run imap *: fetchmail -N -f {file:fetchmailrc} --idfile {state}/fetchids --pidfile {state}/fetchmail.pid --keep --all {features}

# keep: the default already skips the UIDLs in {state}/fetchids.  (--uidl
# would make fetchmail fetch with TOP n 99999999 instead of RETR.)
feature pop3 keep:
# delete: --all so that fetchmail uses RETR (without it: TOP n 99999999).
feature pop3 delete: --nokeep --all
feature pop3 user-pass: --auth password
feature pop3 apop: --protocol APOP
feature pop3 auth-cram-md5: --auth cram-md5

# delete: STORE n +FLAGS (\Seen \Deleted) and EXPUNGE after each message
# (and an EXPUNGE right after SELECT).
feature imap delete: --nokeep
feature imap mark-seen:
feature imap auth-cram-md5: --auth cram-md5

# Observed with mailrig run against conformance/scenarios (fetchmail 6.4.37).
known imap-framing-body-quoted-string hang: fetchmail expects BODY[TEXT] as a literal; given a quoted string it waits for more data (its read timeout is 300 s)
known imap-framing-bodystructure-deep-nesting fail: fetchmail rejects the unsolicited 1000-deep BODYSTRUCTURE ("Incorrect FETCH response"), gives up the mailbox and exits 7
known imap-framing-literal-4gb-stall fail: fetchmail waits for the 4 GiB literal (read timeout 300 s) and does not close; it exits 2 only when the server drops the connection at the close-within deadline
known imap-starttls-stripped-continuation hang: fetchmail ignores the "+ go ahead" answer to STARTTLS and waits for the tagged answer (read timeout 300 s)
known imap-state-alert-login-failure fail: fetchmail does not show the [ALERT] text; after the refused CRAM-MD5 it also tries LOGIN
known imap-state-alert-texts fail: fetchmail does not show [ALERT] texts
known imap-state-exists-huge fail: fetchmail rejects "* 4294967295 EXISTS" ("bogus message count") and exits 4 without downloading
known imap-state-read-only-delete fail: with --nokeep fetchmail sends EXPUNGE right after SELECT, removing message 7 (flagged \Deleted by another client) before it downloads anything
known imap-state-uid-fetch-extra-messages fail: fetchmail takes the unsolicited FETCH answers for other messages as a "client/server synchronization error" and exits 7
known imap-state-unsolicited-fetch-other-message fail: fetchmail takes the unsolicited FETCH answer for another message as a "client/server synchronization error" and exits 7
known pop3-framing-bare-lf fail: fetchmail takes the bare-LF "." line as the end of RETR 1 and delivers a truncated message 1, then reads the rest as the answer to LIST 2: protocol error, exit 4
known pop3-framing-no-final-crlf hang: fetchmail waits for the end of the RETR answer (read timeout 300 s)
known pop3-framing-retr-endless hang: fetchmail keeps reading the endless RETR answer although LIST said 386 octets
