# s-nail 14.9 (Debian 12; OpenSSL), the mailx successor, in batch mode
# (-#) without resource files (-:/).  -S errexit: batch mode turns it off,
# and then s-nail exits 0 even when the mailbox could not be opened (a
# refused STLS, a bad certificate, a failed login) or a copy failed.
#
#   IMAP  (STARTTLS), CAPABILITY, LOGIN, SELECT INBOX, FETCH 1:N (FLAGS
#         UID), FETCH 1:N (RFC822.SIZE INTERNALDATE), UID FETCH n
#         (BODY.PEEK[]) for every message not flagged \Deleted ("copy *"
#         into {maildir}), then "quit": UID STORE n +FLAGS (\Seen) on the
#         copied messages that were unseen, UID STORE n +FLAGS (\Deleted)
#         again on messages the server had flagged \Deleted, CLOSE (which
#         expunges those), LOGOUT.
#   POP3  (STLS, without CAPA), APOP (the greeting has a timestamp),
#         STAT, LIST n for each, RETR n for each ("copy *",
#         pop3-bulk-load: no TOP first), QUIT; "hold": no DELE.
#   SMTP  {message} through "tr -d '\r'" (s-nail reads a local text file
#         with LF line ends) into "s-nail -t", which adds its own Date:
#         (the message keeps its own too) and User-Agent:.  HELO (EHLO only
#         when STARTTLS or AUTH needs it), MAIL, RCPT, DATA, QUIT.  After
#         STARTTLS s-nail sends HELO, not EHLO, unless it authenticates.
#
# starttls: imap-/pop3-/smtp-use-starttls; s-nail sends STARTTLS/STLS
# whether or not it is offered and stops when it is refused.  TLS:
# tls-verify=strict against tls-ca-file {cafile} only (tls-ca-no-defaults),
# with a host name check.  The user goes into the URL ({user} must not need
# percent-encoding), the password into the variable "password".  No read
# timeout.
#
# Not available: POP3 keep (no UIDL history), POP3 SASL (s-nail's POP3
# "plain" is USER/PASS or APOP), IMAP AUTHENTICATE PLAIN/LOGIN (imap-auth
# "login" is the LOGIN command), headers-only, folders.

name: s-nail
description: s-nail 14.9.24 from Debian 12 (OpenSSL); IMAP, POP3 into a Maildir; SMTP
requires: s-nail sh tr
version: s-nail -V
success: 0

run imap none: s-nail -# -:/ -S errexit -S v15-compat -S password={password} -S hold -Y "copy * {maildir}" {features} -Y quit -f imap://{user}@{host}:{port}/INBOX
run imap starttls: s-nail -# -:/ -S errexit -S v15-compat -S imap-use-starttls -S tls-verify=strict -S tls-ca-file={cafile} -S tls-ca-no-defaults -S password={password} -S hold -Y "copy * {maildir}" {features} -Y quit -f imap://{user}@{host}:{port}/INBOX
run imap implicit: s-nail -# -:/ -S errexit -S v15-compat -S tls-verify=strict -S tls-ca-file={cafile} -S tls-ca-no-defaults -S password={password} -S hold -Y "copy * {maildir}" {features} -Y quit -f imaps://{user}@{host}:{port}/INBOX

run pop3 none: s-nail -# -:/ -S errexit -S v15-compat -S password={password} -S pop3-bulk-load -S hold -Y "copy * {maildir}" {features} -Y quit -f pop3://{user}@{host}:{port}
run pop3 starttls: s-nail -# -:/ -S errexit -S v15-compat -S pop3-use-starttls -S tls-verify=strict -S tls-ca-file={cafile} -S tls-ca-no-defaults -S password={password} -S pop3-bulk-load -S hold -Y "copy * {maildir}" {features} -Y quit -f pop3://{user}@{host}:{port}
run pop3 implicit: s-nail -# -:/ -S errexit -S v15-compat -S tls-verify=strict -S tls-ca-file={cafile} -S tls-ca-no-defaults -S password={password} -S pop3-bulk-load -S hold -Y "copy * {maildir}" {features} -Y quit -f pop3s://{user}@{host}:{port}

run smtp none: sh -c "m=$1; shift; tr -d '\r' < \"$m\" | s-nail \"$@\"" sh {message} -# -:/ -S errexit -S v15-compat -S mta=smtp://{host}:{port} -S smtp-auth=none -r {from} {features} -t -. {to}
run smtp starttls: sh -c "m=$1; shift; tr -d '\r' < \"$m\" | s-nail \"$@\"" sh {message} -# -:/ -S errexit -S v15-compat -S mta=smtp://{host}:{port} -S smtp-use-starttls -S tls-verify=strict -S tls-ca-file={cafile} -S tls-ca-no-defaults -S smtp-auth=none -r {from} {features} -t -. {to}
run smtp implicit: sh -c "m=$1; shift; tr -d '\r' < \"$m\" | s-nail \"$@\"" sh {message} -# -:/ -S errexit -S v15-compat -S mta=smtps://{host}:{port} -S tls-verify=strict -S tls-ca-file={cafile} -S tls-ca-no-defaults -S smtp-auth=none -r {from} {features} -t -. {to}

feature imap auth-cram-md5: -S imap-auth=cram-md5
# mark-seen: "quit" does it anyway.
feature imap mark-seen:
# delete: UID STORE n +FLAGS (\Deleted) for each message, then CLOSE (no
# EXPUNGE command).
feature imap delete: -Y "delete *"

feature pop3 user-pass: -S pop3-no-apop
# apop: the default.
feature pop3 apop:
feature pop3 delete: -Y "delete *"

feature smtp auth: -S smtp-auth=plain -S user={user} -S password={password}
feature smtp auth-plain: -S smtp-auth=plain -S user={user} -S password={password}
feature smtp auth-login: -S smtp-auth=login -S user={user} -S password={password}
feature smtp auth-cram-md5: -S smtp-auth=cram-md5 -S user={user} -S password={password}

# Observed with mailrig run against conformance/scenarios (s-nail 14.9.24).
known imap-framing-envelope-literal hang: s-nail does not read the literal inside the ENVELOPE of the FETCH answer and waits for data that never comes (no read timeout)
known imap-framing-literal-4gb-stall fail: s-nail waits for the 4 GiB literal and does not close; it fails only when the server drops the connection at the close-within deadline
known imap-framing-literal-zero hang: s-nail does not read the {0} literals inside the ENVELOPE of the FETCH answer and waits for data that never comes (no read timeout)
known imap-starttls-injected-untagged-alert-capability fail: s-nail prints the [ALERT] text injected before STARTTLS ("IMAP alert: ... http://evil.test/")
known imap-starttls-stripped-continuation hang: s-nail ignores the "+ go ahead" answer to STARTTLS and waits for the tagged answer (no read timeout)
known imap-state-alert-texts fail: s-nail shows the [ALERT]s of the untagged OK answers but not the one in the untagged NO
known imap-state-read-only-delete fail: the refused STOREs do not change s-nail's exit status: it logs out without CLOSE but exits 0
known imap-workflow-flags-synced fail: on quit s-nail stores \Deleted again on message 7 (flagged \Deleted by another client) and its CLOSE expunges it
known pop3-framing-no-final-crlf hang: s-nail waits for the end of the RETR answer (no read timeout)
known pop3-framing-retr-endless hang: s-nail keeps reading the endless RETR answer
known pop3-state-apop-no-timestamp fail: s-nail cannot be made to require APOP: with no timestamp in the greeting it falls back to USER/PASS and sends the password in the clear
known pop3-state-list-stat-disagree fail: s-nail trusts STAT (20 messages) over LIST and sends LIST 16 and RETR 16 for messages that do not exist
known smtp-framing-ehlo-endless hang: s-nail keeps reading the endless answer to HELO
