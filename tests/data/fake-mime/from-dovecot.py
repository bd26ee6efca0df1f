#!/usr/bin/python3
"""Write tests/data/fake-mime/dovecot-*.{eml,expected} from the Dovecot capture.

The expectations of these cases are what Dovecot 2.3.19.1 answered for
corpora/mailbox-imap/NN-*.eml in corpora/transcripts/imap-dovecot.trs
(FETCH 1:* ENVELOPE BODYSTRUCTURE, and the section fetches a029/a030),
so they check fake-servers/mr_mime.c against an independent server.
Messages where mr_mime.c deliberately answers otherwise are not here
(their cases are written by hand; see README.md).

    /usr/bin/python3 tests/data/fake-mime/from-dovecot.py
"""
import glob
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
TRS = os.path.join(TOP, "corpora", "transcripts", "imap-dovecot.trs")
MBOX = os.path.join(TOP, "corpora", "mailbox-imap")
CASES = [1, 2, 3, 4, 5, 7, 11, 12, 14, 15, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 38, 39, 41]
ESC = {"r": b"\r", "n": b"\n", "t": b"\t", "0": b"\0", "\\": b"\\", '"': b'"'}


def unquote(s):
    out, i = bytearray(), 0
    while i < len(s):
        if s[i] == "\\":
            if s[i + 1] == "x":
                out.append(int(s[i + 2:i + 4], 16))
                i += 4
            else:
                out += ESC[s[i + 1]]
                i += 2
        else:
            out += s[i].encode("utf-8")
            i += 1
    return bytes(out)


def server_bytes(tag):
    segs, on, out = [], False, b""
    for line in open(TRS, encoding="utf-8"):
        m = re.match(r'^([SC+])(?: [0-9.]+)? "(.*)"\s*$', line)
        if not m:
            continue
        d, b = m.group(1), unquote(m.group(2))
        if d == "+":
            segs[-1][1] += b
        else:
            segs.append([d, b])
    for d, b in segs:
        if d == "C":
            on = b.startswith(tag + b" ")
        elif on:
            out += b
    return out


def esc(b):
    """The .expected escapes: \\r \\n \\\\ \\xHH; other printable bytes and UTF-8 as they are."""
    out = []
    for ch in b.decode("utf-8", "surrogateescape"):
        o = ord(ch)
        if ch == "\r":
            out.append("\\r")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\\":
            out.append("\\\\")
        elif 0xDC80 <= o <= 0xDCFF:
            out.append("\\x%02x" % (o - 0xDC00))
        elif o < 0x20 or o == 0x7F:
            out.append("\\x%02x" % o)
        else:
            out.append(ch)
    return "".join(out)


def sections(tag):
    """(msgno, [(section, bytes)]) of the BODY[...] items (not partial ones) in
    tag's answer, which must be a FETCH of one message."""
    data = server_bytes(tag)
    n = int(re.match(rb"\* (\d+) FETCH ", data).group(1))
    items = []
    for it in re.finditer(rb"BODY\[([^\]]*)\](<\d+>)? (?:\{(\d+)\}\r\n|\"((?:[^\"\\]|\\.)*)\")", data):
        if it.group(2):
            continue
        if it.group(3):
            val = data[it.end():it.end() + int(it.group(3))]
        else:
            val = re.sub(rb"\\(.)", rb"\1", it.group(4))
        items.append((it.group(1).decode(), val))
    return n, items


def main():
    data = b"\r\n" + server_bytes(b"a026")
    secs = {}
    for tag in (b"a029", b"a030"):
        n, items = sections(tag)
        secs.setdefault(n, []).extend(items)
    files = sorted(glob.glob(os.path.join(MBOX, "*.eml")))
    for n in CASES:
        src = files[n - 1]
        stem = "dovecot-" + os.path.basename(src)[:-4]
        m = re.search(rb"\r\n\* %d FETCH .*? ENVELOPE (.*?) BODYSTRUCTURE (.*?)\)(?=\r\n\* %d FETCH|\r\na026)" % (n, n + 1),
                      data, re.S)
        lines = ["# Dovecot 2.3.19.1's answer for corpora/mailbox-imap/%s (message %d of" % (os.path.basename(src), n),
                 "# corpora/transcripts/imap-dovecot.trs); written by from-dovecot.py",
                 "ENVELOPE " + esc(m.group(1)), "BODYSTRUCTURE " + esc(m.group(2))]
        for spec, val in secs.get(n, []):
            lines.append("SECTION [%s] %s" % (spec, esc(val)))
        with open(os.path.join(HERE, stem + ".eml"), "wb") as f:
            f.write(open(src, "rb").read())
        with open(os.path.join(HERE, stem + ".expected"), "w", encoding="utf-8", newline="\n") as f:
            f.write("\n".join(lines) + "\n")
    print("wrote %d cases" % len(CASES))


if __name__ == "__main__":
    main()
