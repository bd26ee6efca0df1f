#!/usr/bin/python3
"""Write corpora/mailbox/default/: the fake servers' default mailbox, a Maildir.

    /usr/bin/python3 corpora/mailbox/make-default.py          # (re)write it
    /usr/bin/python3 corpora/mailbox/make-default.py --check  # exit 1 if it differs

INBOX is cur/ and new/; the Maildir++ folders .Sent, .Archive and
.Archive.2024 are Sent, Archive and Archive/2024.  Files are named
"NNNN.mailrig:2,FLAGS" (cur/) or "NNNN.mailrig" (new/), so that file-name
order is message order; the flags after ":2," are Maildir's (S seen, R
replied, F flagged, T trashed, D draft).  Lines end in LF, as in a real
Maildir: the loader (fake-servers/mr_mailbox.c) turns them into CRLF.

Deterministic: fixed dates, Message-IDs and boundaries, attachment bytes
from a seeded random.Random, standard library only (base64, quopri).
Internal dates come from file mtimes, which git does not keep: tests must
not depend on them.
"""

import argparse
import base64
import datetime
import os
import quopri
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "default")
SEED = 20240611

ALICE = "Alice Example <alice@mailrig.test>"
BOB = "Bob Example <bob@mailrig.test>"
USER = "Test User <user@mailrig.test>"


def hdr(n, subject, frm=ALICE, to=USER, date=None, extra=(), mime=True):
    h = ["From: " + frm, "To: " + to]
    if subject is not None:
        h.append("Subject: " + subject)
    if not date:
        when = datetime.datetime(2024, 6, 1 + n % 28, 8 + n % 10, (7 * n) % 60)
        date = when.strftime("%a, %d Jun 2024 %H:%M:00 +0200")  # C locale names
    h.append("Date: " + date)
    h.append("Message-ID: <%04d.default@mailrig.test>" % n)
    h.extend(extra)
    if mime:
        h.append("MIME-Version: 1.0")
    return h


def msg(headers, body):
    """A message: header lines, a blank line, the body (LF line ends)."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    return ("\n".join(headers) + "\n\n").encode("utf-8") + body


def b64(data):
    return base64.encodebytes(data).decode("ascii")


def qp(text):
    return quopri.encodestring(text.encode("utf-8")).decode("ascii")


def build():
    rnd = random.Random(SEED)
    m = []  # (folder, file name, bytes)

    def add(folder, n, flags, headers, body, new=False):
        name = "%04d.mailrig" % n if new else "%04d.mailrig:2,%s" % (n, flags)
        m.append((folder, "new" if new else "cur", name, msg(headers, body)))

    # --- INBOX
    add("", 1, "S", hdr(1, "Welcome to mailrig", extra=["Content-Type: text/plain; charset=us-ascii"]),
        "Hello,\n\nthis is the default mailbox of the mailrig fake servers.\n"
        "It has plain text, MIME structures and odd headers.\n\n-- \nAlice\n")
    add("", 2, "RS", hdr(2, "Quoted-printable text", frm=BOB, extra=[
        "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: quoted-printable"]),
        qp("Caf\u00e9 cr\u00e8me costs 3\u20ac = three euros.\n"
           "This line is long enough that the quoted-printable encoder has to break it with a soft line break somewhere.\n"
           "Trailing space here \n"))
    add("", 3, "F", hdr(3, "Base64 text", extra=[
        "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: base64"]),
        b64("Base64 encoded text body.\nZweite Zeile: Gr\u00fc\u00dfe.\n".encode("utf-8")))
    add("", 4, "", hdr(4, "Alternative: plain and HTML", extra=[
        'Content-Type: multipart/alternative; boundary="=_alt_0004"']),
        "--=_alt_0004\nContent-Type: text/plain; charset=us-ascii\n\nPlain version.\n\n"
        "--=_alt_0004\nContent-Type: text/html; charset=us-ascii\n\n"
        "<html><body><p>HTML <b>version</b>.</p></body></html>\n\n--=_alt_0004--\n")
    pdf = bytes(rnd.randrange(256) for _ in range(600))
    add("", 5, "S", hdr(5, "Report attached", frm=BOB, extra=[
        'Content-Type: multipart/mixed; boundary="=_mix_0005"']),
        "This is a multi-part message in MIME format.\n\n"
        "--=_mix_0005\nContent-Type: text/plain; charset=us-ascii\n\nThe report is attached.\n\n"
        "--=_mix_0005\nContent-Type: application/pdf; name=\"report.pdf\"\n"
        "Content-Transfer-Encoding: base64\n"
        "Content-Disposition: attachment; filename=\"report.pdf\"\n\n" + b64(pdf) +
        "\n--=_mix_0005--\n")
    inner = ("From: Carol <carol@mailrig.test>\nTo: " + ALICE + "\nSubject: The original\n"
             "Date: Fri, 31 May 2024 17:00:00 +0100\nMessage-ID: <inner.0006@mailrig.test>\n"
             "MIME-Version: 1.0\nContent-Type: multipart/alternative; boundary=\"=_in_0006\"\n\n"
             "--=_in_0006\nContent-Type: text/plain; charset=us-ascii\n\nInner plain.\n\n"
             "--=_in_0006\nContent-Type: text/html; charset=us-ascii\n\n<p>Inner HTML.</p>\n\n--=_in_0006--\n")
    add("", 6, "S", hdr(6, "Fwd: The original", extra=[
        'Content-Type: multipart/mixed; boundary="=_fwd_0006"']),
        "--=_fwd_0006\nContent-Type: text/plain; charset=us-ascii\n\nForwarding this.\n\n"
        "--=_fwd_0006\nContent-Type: message/rfc822\nContent-Description: Forwarded message\n"
        "Content-Disposition: inline\n\n" + inner + "\n--=_fwd_0006--\n")
    add("", 7, "T", hdr(7, "=?UTF-8?B?R3LDvMOfZSBhdXMgS8O2bG4=?= =?UTF-8?Q?_und_M=C3=BCnchen?=",
                        frm="=?UTF-8?Q?J=C3=B6rg_M=C3=BCller?= <joerg@mailrig.test>",
                        extra=["Content-Type: text/plain; charset=us-ascii"]),
        "An RFC 2047 subject and sender; this message is marked deleted.\n")
    add("", 8, "S", hdr(8, "Team meeting", to="Team: alice@mailrig.test, \"Bob Example\" <bob@mailrig.test>;, "
                        + USER, extra=["Cc: undisclosed-recipients:;",
                                       "Content-Type: text/plain; charset=us-ascii"]),
        "Addressed to a group.\n")
    add("", 9, "", hdr(9, "A subject that is long enough to be folded over\n several lines by the sender,"
                       "\n\tonce with a tab", to=", ".join("User %d <user%d@mailrig.test>" % (i, i) for i in range(1, 4))
                       + ",\n " + ", ".join("User %d <user%d@mailrig.test>" % (i, i) for i in range(4, 8)),
                       extra=["References: <a.0001@mailrig.test>\n <b.0002@mailrig.test>\n <c.0003@mailrig.test>",
                              "X-Long-Header: " + " ".join("word%d" % i for i in range(60)),
                              "Content-Type: text/plain; charset=us-ascii"]),
        "Long and folded headers.\n")
    add("", 10, "S", hdr(10, None, extra=["Content-Type: text/plain; charset=us-ascii"]),
        "This message has no Subject header.\n")
    add("", 11, "RS", hdr(11, "8-bit body", extra=[
        "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit"]),
        "Gr\u00fc\u00dfe aus K\u00f6ln \u2014 \u4f60\u597d \u2014 \u041f\u0440\u0438\u0432\u0435\u0442.\n")
    png = bytes(rnd.randrange(256) for _ in range(120))
    add("", 12, "FS", hdr(12, "Newsletter with an inline image", extra=[
        'Content-Type: multipart/related; boundary="=_rel_0012"; type="text/html"']),
        "--=_rel_0012\nContent-Type: text/html; charset=us-ascii\nContent-Transfer-Encoding: 7bit\n\n"
        "<html><body><img src=\"cid:logo.0012@mailrig.test\"></body></html>\n\n"
        "--=_rel_0012\nContent-Type: image/png\nContent-ID: <logo.0012@mailrig.test>\n"
        "Content-Transfer-Encoding: base64\nContent-Disposition: inline; filename=logo.png\n\n"
        + b64(png) + "\n--=_rel_0012--\n")
    add("", 13, "S", hdr(13, "Re: Welcome to mailrig", frm=BOB, to=ALICE, extra=[
        "In-Reply-To: <0001.default@mailrig.test>", "References: <0001.default@mailrig.test>",
        "Reply-To: Bob at home <bob@home.example>", "Content-Type: text/plain; charset=us-ascii"]),
        "> this is the default mailbox\n\nThanks!\n")
    add("", 14, "D", hdr(14, "Draft: not sent yet", frm=USER, to=BOB, extra=[
        "Content-Type: text/plain; charset=us-ascii"]), "Unfinished draft.\n")
    add("", 15, "", hdr(15, "Just delivered", frm=BOB, extra=[
        "Content-Type: text/plain; charset=us-ascii"]), "This message is in new/ (\\Recent).\n", new=True)
    # --- Sent
    add(".Sent", 1, "S", hdr(101, "Lunch?", frm=USER, to=ALICE, extra=[
        "Content-Type: text/plain; charset=us-ascii"]), "Lunch at noon?\n")
    add(".Sent", 2, "S", hdr(102, "Re: Report attached", frm=USER, to=BOB, extra=[
        "In-Reply-To: <0005.default@mailrig.test>", "Content-Type: text/plain; charset=us-ascii"]),
        "Got it, thanks.\n")
    # --- Archive
    add(".Archive", 1, "S", hdr(201, "Old news", extra=[
        "Content-Type: text/plain; charset=iso-8859-1", "Content-Transfer-Encoding: 8bit"]),
        "Caf\u00e9 (Latin-1)\n".encode("iso-8859-1"))
    add(".Archive", 2, "RS", hdr(202, "Old reply", frm=BOB, mime=False), "No MIME headers at all.\n")
    # --- Archive/2024
    add(".Archive.2024", 1, "S", hdr(301, "Quarterly numbers", extra=[
        'Content-Type: multipart/mixed; boundary="=_csv_0301"']),
        "--=_csv_0301\nContent-Type: text/plain; charset=us-ascii\n\nNumbers attached.\n\n"
        "--=_csv_0301\nContent-Type: text/csv; charset=us-ascii; name=q1.csv\n"
        "Content-Disposition: attachment; filename=q1.csv\n\nquarter,value\nq1,42\n\n--=_csv_0301--\n")
    add(".Archive.2024", 2, "FS", hdr(302, "Flagged in the archive", extra=[
        "Content-Type: text/plain; charset=us-ascii"]), "Keep this one.\n")
    return m


def files():
    out = {}
    for folder in ("", ".Sent", ".Archive", ".Archive.2024"):
        for sub in ("cur", "new", "tmp"):
            out[os.path.join(folder, sub, ".gitkeep")] = b""
    for folder, sub, name, data in build():
        out[os.path.join(folder, sub, name)] = data
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="compare only; exit 1 on a difference")
    args = ap.parse_args()
    want = files()
    have = set()
    for root, _dirs, names in os.walk(OUT):
        for n in names:
            have.add(os.path.relpath(os.path.join(root, n), OUT))
    if args.check:
        bad = sorted(set(want) ^ have)
        for rel, data in want.items():
            p = os.path.join(OUT, rel)
            if rel in have and open(p, "rb").read() != data:
                bad.append(rel)
        for b in bad:
            print("differs: " + b)
        return 1 if bad else 0
    for rel in have - set(want):
        os.unlink(os.path.join(OUT, rel))
    for rel, data in want.items():
        p = os.path.join(OUT, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)
    print("wrote %d files in %s" % (len(want), OUT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
