# getmail 6.18 (Debian 12's getmail6; Python), one rc file per run, its
# state (the oldmail file of the UIDs seen) in --getmaildir {state}.
#
#   POP3  USER/PASS, UIDL, LIST, RETR of every message, QUIT (no DELE).
#   IMAP  CAPABILITY, LOGIN, EXAMINE INBOX (SELECT with delete and
#         mark-seen), FETCH 1:N (UID RFC822.SIZE), UID FETCH n (BODY.PEEK[])
#         for every message, LOGOUT.
#
# Messages go through a shell mda into {maildir}/new: getmail's own Maildir
# destination refuses to deliver as root.  getmail 6.18 has no STARTTLS
# (for POP3 or IMAP), so there are no starttls run lines: those scenarios
# are skipped.  implicit: the SSL retrievers with ca_certs = {cafile},
# which requires a valid chain; getmail checks the host name against the
# certificate after the handshake (so a wrong-host certificate is refused
# after the TLS handshake completed).  Read timeout: getmail's default,
# 180 s.
#
# Not available: POP3 APOP and AUTH (use_apop is an rc file setting, SASL
# is not implemented), IMAP SASL mechanisms, headers-only, folders (the
# mailboxes are an rc file setting).

name: getmail6
description: getmail 6.18.11 from Debian 12 (getmail6); POP3, IMAP; no STARTTLS
requires: getmail sh
version: getmail --version
success: 0

file getmailrc pop3 none:
    [retriever]
    type = SimplePOP3Retriever
    server = {host}
    port = {port}
    username = {user}
    password = {password}

    [destination]
    type = MDA_external
    path = /bin/sh
    arguments = ("-c", "cat > {maildir}/tmp/gm.$$ && mv {maildir}/tmp/gm.$$ {maildir}/new/gm.$$")
    allow_root_commands = true

    [options]
    read_all = true
    delete = false
file getmailrc pop3 implicit:
    [retriever]
    type = SimplePOP3SSLRetriever
    server = {host}
    port = {port}
    username = {user}
    password = {password}
    ca_certs = {cafile}

    [destination]
    type = MDA_external
    path = /bin/sh
    arguments = ("-c", "cat > {maildir}/tmp/gm.$$ && mv {maildir}/tmp/gm.$$ {maildir}/new/gm.$$")
    allow_root_commands = true

    [options]
    read_all = true
    delete = false
file getmailrc imap none:
    [retriever]
    type = SimpleIMAPRetriever
    server = {host}
    port = {port}
    username = {user}
    password = {password}

    [destination]
    type = MDA_external
    path = /bin/sh
    arguments = ("-c", "cat > {maildir}/tmp/gm.$$ && mv {maildir}/tmp/gm.$$ {maildir}/new/gm.$$")
    allow_root_commands = true

    [options]
    read_all = true
    delete = false
file getmailrc imap implicit:
    [retriever]
    type = SimpleIMAPSSLRetriever
    server = {host}
    port = {port}
    username = {user}
    password = {password}
    ca_certs = {cafile}

    [destination]
    type = MDA_external
    path = /bin/sh
    arguments = ("-c", "cat > {maildir}/tmp/gm.$$ && mv {maildir}/tmp/gm.$$ {maildir}/new/gm.$$")
    allow_root_commands = true

    [options]
    read_all = true
    delete = false

run pop3 none: getmail --getmaildir {state} --rcfile {file:getmailrc} {features}
run pop3 implicit: getmail --getmaildir {state} --rcfile {file:getmailrc} {features}
run imap none: getmail --getmaildir {state} --rcfile {file:getmailrc} {features}
run imap implicit: getmail --getmaildir {state} --rcfile {file:getmailrc} {features}

feature pop3 user-pass:
# keep: --new skips the UIDs in the oldmail file (its name has the port).
feature pop3 keep: --new
feature pop3 delete: --delete
# delete: UID STORE n FLAGS (\Deleted \Seen) after each message, then
# EXPUNGE.  mark-seen: the same with the flag \SEEN instead ("-s ALL ,":
# search ALL, set \Seen "on delete").  Both replace the flags (STORE
# FLAGS, not +FLAGS): other flags of the message are lost.
feature imap delete: --delete
feature imap mark-seen: --delete --searchset "ALL ,"

# Observed with mailrig run against conformance/scenarios (getmail 6.18.11).
known imap-framing-body-quoted-string fail: getmail does not cope with BODY[] sent as a quoted string instead of a literal and crashes in its message parser (AttributeError: 'int' object has no attribute 'decode'), exit 4
known imap-framing-bodystructure-deep-nesting fail: with the unsolicited BODYSTRUCTURE in the answer getmail gets no message bytes and crashes in its message parser (AttributeError), exit 4
known imap-framing-literal-4gb-stall fail: getmail waits for the 4 GiB literal (read timeout 180 s) and does not close; it gives up only when the server drops the connection at the close-within deadline
known imap-framing-literal-zero fail: getmail cannot find message 1 in the FETCH answer with {0} literals in its ENVELOPE ("bad message from server"), skips it and exits 127
known imap-implicit-cert-wrong-host fail: getmail checks the host name only after imaplib has connected, so CAPABILITY (no credentials) goes to the wrong-host server before it gives up (exit 127)
known imap-state-alert-texts fail: getmail does not show [ALERT] texts
known imap-state-capability-imap4rev2-only fail: imaplib refuses a server whose CAPABILITY lacks IMAP4rev1 ("server not IMAP4 compliant") and getmail exits 127 before logging in
known imap-state-login-no-unavailable fail: getmail reports the refused LOGIN but exits 0
known imap-state-unsolicited-fetch-other-message fail: the unsolicited FETCH answer for another message makes getmail's message parser crash (AttributeError), exit 4
known imap-workflow-flags-synced fail: mark-seen is getmail's delete with \Seen as the flag: UID STORE n FLAGS (\SEEN) replaces \Answered, \Flagged and \Deleted, and it sends EXPUNGE
known pop3-framing-bare-lf fail: poplib takes the bare-LF "." line as the end of RETR 1 (delivered truncated); getmail then reads the rest as the answers to RETR 2, 3 and 4, skips those messages as "broken" and exits 127
known pop3-framing-line-1mb fail: the 1 MiB line exceeds the 1 MiB line limit getmail sets for poplib ("line too long"); getmail then reads the rest of message 1 as the answers to RETR 2, 3 and 4, skips those as "broken" and exits 127 (once, in a loaded run, it stalled instead on the out-of-step answers: a hang)
known pop3-framing-no-final-crlf hang: getmail waits for the end of the RETR answer (read timeout 180 s)
known pop3-framing-retr-endless hang: poplib keeps the endless RETR answer in memory with no limit (almost 600 MiB in 5 s)
known pop3-implicit-cert-wrong-host fail: getmail checks the host name only after poplib has connected; on the mismatch it sends RSET (no credentials) to the wrong-host server before it gives up (exit 127)
known pop3-state-uidl-duplicates fail: getmail refuses a UIDL list with a duplicate ("does not uniquely identify messages") and exits 127 without downloading
