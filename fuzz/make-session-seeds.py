#!/usr/bin/python3
"""Seeds for fuzz_fake_session and fuzz_mime (docs/fuzzing.md).

    fuzz/make-session-seeds.py OUTDIR

writes OUTDIR/fuzz_fake_session/<sha1> and OUTDIR/fuzz_mime/<sha1>:

- fuzz_fake_session: the client side of the captured sessions
  (corpora/transcripts/*.trs), cut at their comment blocks (one block of
  commands per seed, with and without the canned login of header bit 4),
  and a few hand-written sessions (APPEND of a multipart message, IDLE,
  SASL exchanges, STARTTLS, SMTP DATA and BDAT, POP3 TOP/DELE/RSET);
  header: setup, flags, seed (fuzz/fuzz_fake_session.c);
- fuzz_mime: the .eml files of corpora/mailbox/, corpora/mailbox-imap/
  and tests/data/fake-mime/, after 2 header bytes (no spec, no needle).
"""

import hashlib
import re
import sys
from pathlib import Path

TOP = Path(__file__).resolve().parent.parent
POP3, IMAP, SMTP = 0, 1, 2
LOGIN = 0x10

def unquote(s):
    out = bytearray()
    i = 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            n = s[i + 1]
            if n == "x":
                out.append(int(s[i + 2:i + 4], 16))
                i += 4
                continue
            out += {"r": b"\r", "n": b"\n", "t": b"\t", "0": b"\0"}.get(n, n.encode("latin-1"))
            i += 2
            continue
        out += c.encode("latin-1")
        i += 1
    return bytes(out)

def client_blocks(path):
    """The client's bytes, one list entry per comment-separated block."""
    blocks, cur, last = [], bytearray(), None
    for line in path.read_text(encoding="latin-1").splitlines():
        if line.startswith("#") or not line.strip():
            if cur and line.startswith("#"):
                blocks.append(bytes(cur))
                cur = bytearray()
            continue
        m = re.match(r'^(C|S) \S+ "(.*)"$', line)
        if m:
            last = m.group(1)
            if last == "C":
                cur += unquote(m.group(2))
            continue
        m = re.match(r'^\+ "(.*)"$', line)
        if m and last == "C":
            cur += unquote(m.group(1))
    if cur:
        blocks.append(bytes(cur))
    return blocks

def put(outdir, data):
    outdir.mkdir(parents=True, exist_ok=True)
    (outdir / hashlib.sha1(data).hexdigest()).write_bytes(data)

MULTIPART = (b"From: a@b.example\r\nTo: c@d.example\r\nSubject: t\r\n"
             b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
             b"Content-Type: text/plain\r\n\r\nhello\r\n--b\r\n"
             b"Content-Type: message/rfc822\r\n\r\nSubject: in\r\n\r\nbody\r\n--b--\r\n")

HAND = [
    (IMAP | LOGIN, b"c APPEND INBOX (\\Seen) \"01-Jan-2020 10:00:00 +0000\" {%d}\r\n" % len(MULTIPART)
     + MULTIPART + b"\r\nd FETCH * (BODYSTRUCTURE ENVELOPE BODY[1] BODY[2.HEADER] BODY[2.1]<0.3>)\r\n"
     b"e SEARCH OR BODY hello SUBJECT t\r\nf UID STORE 1:* +FLAGS (\\Deleted)\r\ng EXPUNGE\r\nh LOGOUT\r\n"),
    (IMAP | LOGIN, b"c APPEND Sent {5+}\r\nhello\r\nd COPY 1:3 Sent\r\ne MOVE 2 Archive/2024\r\n"
     b"f STATUS Sent (MESSAGES UIDNEXT UNSEEN)\r\ng CREATE a/b/c\r\nh RENAME a x\r\ni LIST \"\" *\r\n"
     b"j DELETE x/b/c\r\nk IDLE\r\nDONE\r\nl CLOSE\r\n"),
    (IMAP, b"a AUTHENTICATE PLAIN\r\nAHVzZXIAcGFzc3dvcmQ=\r\nb SELECT INBOX\r\n"
     b"c SEARCH UNSEEN SINCE 1-Jan-2000 NOT DELETED LARGER 10\r\nd FETCH 1:* (FLAGS INTERNALDATE RFC822.SIZE)\r\n"),
    (IMAP | 0x08, b"a STARTTLS\r\nb CAPABILITY\r\nc AUTHENTICATE LOGIN dXNlcg==\r\ncGFzc3dvcmQ=\r\nd EXAMINE INBOX\r\n"
     b"e FETCH 1 BODY[HEADER.FIELDS (FROM SUBJECT)]\r\n"),
    (POP3, b"CAPA\r\nUSER user\r\nPASS password\r\nSTAT\r\nLIST\r\nUIDL 2\r\nTOP 2 1\r\nRETR 3\r\n"
     b"DELE 1\r\nRSET\r\nDELE 5\r\nNOOP\r\nQUIT\r\n"),
    (POP3 | 0x08, b"STLS\r\nAUTH PLAIN\r\nAHVzZXIAcGFzc3dvcmQ=\r\nLIST 99\r\nTOP 1 999999\r\nQUIT\r\n"),
    (SMTP, b"EHLO c.example\r\nMAIL FROM:<a@b.example> SIZE=100 BODY=8BITMIME\r\nRCPT TO:<c@d.example>\r\n"
     b"DATA\r\nSubject: x\r\n\r\n..dot\r\n.\r\nMAIL FROM:<> SMTPUTF8\r\nRCPT TO:<e@f.example> NOTIFY=NEVER\r\n"
     b"BDAT 5\r\nhelloBDAT 3 LAST\r\nabcRSET\r\nVRFY x\r\nQUIT\r\n"),
    (SMTP | 0x08, b"EHLO c\r\nSTARTTLS\r\nEHLO c\r\nAUTH LOGIN\r\ndXNlcg==\r\ncGFzc3dvcmQ=\r\nAUTH PLAIN =\r\nQUIT\r\n"),
]

def main():
    out = Path(sys.argv[1])
    sess = out / "fuzz_fake_session"
    for name, proto in (("imap-dovecot", IMAP), ("pop3-dovecot-auth", POP3),
                        ("pop3-dovecot-pipelined", POP3), ("smtp-exim", SMTP)):
        for i, b in enumerate(client_blocks(TOP / "corpora" / "transcripts" / (name + ".trs"))):
            b = b[:8000]
            put(sess, bytes([proto, 0, 0]) + b)
            put(sess, bytes([proto | LOGIN | (0x40 if i % 3 == 0 else 0), (i % 8) << 4, i]) + b)
    for setup, b in HAND:
        put(sess, bytes([setup, 0, 0]) + b)
        put(sess, bytes([setup | 0x80, 0x70, 7]) + b)
    mime = out / "fuzz_mime"
    for d in ("corpora/mailbox", "corpora/mailbox-imap", "tests/data/fake-mime"):
        for f in sorted((TOP / d).rglob("*")):
            if f.is_file() and (f.suffix == ".eml" or "mailrig" in f.name):
                data = f.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
                put(mime, b"\0\0" + data[:65000])

if __name__ == "__main__":
    main()
