# mbsync (isync 1.4, Debian 12; OpenSSL), pulling from the server into
# {maildir}, one channel per call.
#
#   IMAP  (STARTTLS, CAPABILITY), AUTHENTICATE (the strongest mechanism
#         offered: CRAM-MD5 here), NAMESPACE, LIST "" "*", SELECT INBOX,
#         UID FETCH 1:N (UID FLAGS), UID FETCH n (BODY.PEEK[]) for every
#         message, LOGOUT.  "Sync Pull", "Expunge None": nothing changes
#         on the server.  mbsync pipelines its commands.
#
# The sync state goes to {state}, so a second run against the same
# server fetches nothing new.  The config is the same for every TLS mode
# but SSLType: None, STARTTLS (mandatory: mbsync stops when STARTTLS is not
# offered) or IMAPS; CertificateFile adds {cafile} to the trusted CAs and
# mbsync checks the host name {host}.  "Timeout 10" is mbsync's read
# timeout (its default is 20 s, the runner's hang limit).  The sections
# of the config must be separated by blank lines.
#
# folders: the channel "folders" (every folder but INBOX, into Maildir++
# subfolders of {maildir}) runs before "mailrig", on the same connection.
# Not available: delete, mark-seen, headers-only (a Pull sync does none of
# them), and a chosen SASL mechanism (AuthMechs is a config setting).

name: mbsync
description: mbsync from isync 1.4.4, Debian 12 (OpenSSL); IMAP into a Maildir
requires: mbsync
version: mbsync --version
success: 0

file mbsyncrc imap none:
    IMAPAccount mailrig
    Host {host}
    Port {port}
    User {user}
    Pass {password}
    SSLType None
    Timeout 10

    IMAPStore far
    Account mailrig

    MaildirStore near
    Inbox {maildir}
    SubFolders Maildir++

    Channel mailrig
    Far :far:
    Near :near:
    Patterns INBOX
    Sync Pull
    Create Near
    Expunge None
    SyncState {state}/

    Channel folders
    Far :far:
    Near :near:
    Patterns * !INBOX
    Sync Pull
    Create Near
    Expunge None
    SyncState {state}/
file mbsyncrc imap starttls:
    IMAPAccount mailrig
    Host {host}
    Port {port}
    User {user}
    Pass {password}
    SSLType STARTTLS
    CertificateFile {cafile}
    Timeout 10

    IMAPStore far
    Account mailrig

    MaildirStore near
    Inbox {maildir}
    SubFolders Maildir++

    Channel mailrig
    Far :far:
    Near :near:
    Patterns INBOX
    Sync Pull
    Create Near
    Expunge None
    SyncState {state}/

    Channel folders
    Far :far:
    Near :near:
    Patterns * !INBOX
    Sync Pull
    Create Near
    Expunge None
    SyncState {state}/
file mbsyncrc imap implicit:
    IMAPAccount mailrig
    Host {host}
    Port {port}
    User {user}
    Pass {password}
    SSLType IMAPS
    CertificateFile {cafile}
    Timeout 10

    IMAPStore far
    Account mailrig

    MaildirStore near
    Inbox {maildir}
    SubFolders Maildir++

    Channel mailrig
    Far :far:
    Near :near:
    Patterns INBOX
    Sync Pull
    Create Near
    Expunge None
    SyncState {state}/

    Channel folders
    Far :far:
    Near :near:
    Patterns * !INBOX
    Sync Pull
    Create Near
    Expunge None
    SyncState {state}/

run imap *: mbsync -c {file:mbsyncrc} {features} mailrig

feature imap folders: folders

# Observed with mailrig run against conformance/scenarios (isync 1.4.4).
known imap-framing-bodystructure-deep-nesting fail: mbsync rejects the unsolicited 1000-deep BODYSTRUCTURE ("bogus FETCH response") and exits 1 without LOGOUT
known imap-framing-fetch-items-reordered fail: mbsync rejects a FETCH answer whose items come in another order ("received extraneous data in FETCH response") and exits 1
known imap-framing-nul-bytes fail: mbsync rejects the LIST answer with NUL bytes ("malformed LIST response") and exits 1
known imap-starttls-injected-untagged-alert-capability fail: mbsync prints the [ALERT] text injected before STARTTLS ("*** IMAP ALERT *** ... http://evil.test/")
known imap-starttls-injected-untagged-list crash: mbsync dies of SIGSEGV on the untagged LIST answers that come with the greeting, before it sends anything
known imap-state-bye-mid-session fail: mbsync reports the unexpected BYE but does not close the connection; the server gives up at the close-within deadline
known imap-state-continuation-unexpected fail: mbsync rejects a "+" continuation it did not ask for ("unexpected command continuation request") and exits 1
known imap-state-unknown-codes-untagged fail: mbsync stops at the unknown untagged response with a literal ("unexpected tag )") and exits 1
known imap-workflow-folders-nil-delimiter fail: with a NIL hierarchy delimiter mbsync cannot open Archive/2024 ("server's hierarchy delimiter not known") and exits 1
