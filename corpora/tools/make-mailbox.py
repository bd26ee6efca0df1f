#!/usr/bin/python3
"""Generate corpora/mailbox/ and corpora/mailbox-imap/: varied RFC 5322 messages.

corpora/mailbox/ is what a POP3 or IMAP server hands out in RETR/TOP or
FETCH answers, so the set is chosen for what makes those answers hard to
parse: MIME structure (RFC 2045-2049), encodings (base64,
quoted-printable, 8bit, RFC 2047 headers, RFC 2231 parameters), dot
lines that POP3 must byte-stuff (RFC 1939 section 3), "From " lines that
mbox would mangle, very long lines, and degenerate messages (empty body,
no body separator, no final CRLF).  corpora/mailbox-imap/ is chosen for
what an IMAP server makes of messages in ENVELOPE and BODYSTRUCTURE
(nesting, message/rfc822 parts, encoded words, groups, parameters,
extension fields, values sent as literals); see "the IMAP set" below.
The bench set (a few hundred messages drawn from both, not committed) is
for benchmarks.

Every line ends in CRLF, as on the wire (one IMAP message breaks this on
purpose: NOT_WIRE_FORM).  Output is reproducible: a fixed seed, fixed
dates, Message-IDs and MIME boundaries, and only the standard library
(the `email` package builds most of corpora/mailbox; messages that
`email` would tidy up, and all of the IMAP set, are written as raw
bytes).  Each message's MIME structure is also written down by hand
(SHAPES), for checkers.  Run with Debian's interpreter:

    /usr/bin/python3 corpora/tools/make-mailbox.py          # (re)write both sets
    /usr/bin/python3 corpora/tools/make-mailbox.py --check  # compare only
    /usr/bin/python3 corpora/tools/make-mailbox.py --set bench [--count N] [--out DIR]

--check exits 1 if any committed file differs from what would be
generated (or is missing, or is extra), or if a SHAPES entry disagrees
with what Python's email package parses (PY_SHAPE_DIFFERS lists the
deliberate exceptions).
"""

import argparse
import base64
import datetime
import email.policy
import email.utils
import hashlib
import io
import os
import quopri
import random
import struct
import sys
import zlib
from email.generator import BytesGenerator
from email.message import EmailMessage

SEED = 20240301
HERE = os.path.dirname(os.path.abspath(__file__))
OUT_DIR = os.path.normpath(os.path.join(HERE, "..", "mailbox"))

# CRLF everywhere, 8bit bodies written as raw bytes, non-ASCII headers
# RFC 2047-encoded.  UTF8 allows raw UTF-8 headers (RFC 6532).
CRLF = email.policy.SMTP.clone(cte_type="8bit")
UTF8 = email.policy.SMTPUTF8.clone(cte_type="8bit")

BASE_DATE = datetime.datetime(2024, 3, 1, 9, 0, 0,
                              tzinfo=datetime.timezone.utc)
ZONES = [0, 60, -300, 330, 540, -480, 120, -180]  # minutes east of UTC

WORDS = ("the of and to in is that for it as was with be by on not he this "
         "are or his from at which but have an they you were her she there "
         "mail server client parser line header body message protocol "
         "response command octet buffer stream segment boundary encoding "
         "quoted printable base64 attachment mailbox folder maildrop "
         "session greeting capability pipelining literal continuation").split()

MESSAGES = []       # corpora/mailbox: (filename, description, builder)
IMAP_MESSAGES = []  # corpora/mailbox-imap: the same
# What an IMAP server must report as the BODYSTRUCTURE of each message, by
# file stem: "type/subtype", children of a multipart in (...), the message
# inside a message/rfc822 part in [...].  Written by hand; --check also
# compares it with what Python's email package makes of the bytes.
SHAPES = {}


def message(name, description, shape, into=MESSAGES):
    """Register a builder: name is the file stem, description goes in INDEX,
    shape is the MIME structure (see SHAPES)."""
    def register(fn):
        into.append((name, description, fn))
        SHAPES[name] = shape
        return fn
    return register


def imap_message(name, description, shape):
    """Like message(), for the IMAP set (corpora/mailbox-imap/)."""
    return message(name, description, shape, into=IMAP_MESSAGES)


# ---------------------------------------------------------------- helpers

def date_for(i):
    tz = datetime.timezone(datetime.timedelta(minutes=ZONES[i % len(ZONES)]))
    return email.utils.format_datetime(
        (BASE_DATE + datetime.timedelta(hours=7 * i, minutes=13 * i)).astimezone(tz))


def new(i, subject, frm="Alice Example <alice@mailrig.test>",
        to="Bob Example <bob@mailrig.test>", policy=CRLF):
    m = EmailMessage(policy=policy)
    m["From"] = frm
    m["To"] = to
    m["Subject"] = subject
    m["Date"] = date_for(i)
    m["Message-ID"] = "<%04d.mailrig-corpus@mailrig.test>" % i
    return m


def sentence(rng, n):
    w = [rng.choice(WORDS) for _ in range(n)]
    return " ".join(w).capitalize() + "."


def paragraph(rng, sentences=4):
    return " ".join(sentence(rng, rng.randint(5, 12)) for _ in range(sentences))


def wrapped(text, width=72):
    """Greedy word wrap (textwrap would do, but keep it explicit)."""
    out, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            out.append(line)
            line = word
        else:
            line = (line + " " + word) if line else word
    if line:
        out.append(line)
    return "\n".join(out)


def prose(rng, paragraphs=3):
    return "\n\n".join(wrapped(paragraph(rng)) for _ in range(paragraphs)) + "\n"


def png(width, height, rng):
    """A small valid PNG (RGB, stored deflate so the bytes never depend on
    the zlib version)."""
    rows = b"".join(b"\x00" + rng.randbytes(3 * width) for _ in range(height))

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data +
                struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    return (b"\x89PNG\r\n\x1a\n" +
            chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(rows, 0)) +
            chunk(b"IEND", b""))


def fix_boundaries(msg, tag):
    """Give every multipart a fixed boundary (the generator would draw a
    random one), and drop the MIME-Version header that `email` puts on
    body parts (real clients put it on the top level only)."""
    n = 0
    for part in msg.walk():
        if part is not msg and "MIME-Version" in part:
            del part["MIME-Version"]
        if part.get_content_maintype() == "multipart" and part.get_boundary() is None:
            n += 1
            part.set_boundary("=_mailrig_%s_%d" % (tag, n))


def render(msg, tag, policy=None):
    fix_boundaries(msg, tag)
    buf = io.BytesIO()
    BytesGenerator(buf, policy=policy or msg.policy).flatten(msg)
    return buf.getvalue()


def _bytes(x):
    return x.encode("utf-8") if isinstance(x, str) else x


def raw(*lines, final_crlf=True):
    """Join str/bytes lines with CRLF (for messages `email` would tidy)."""
    return b"\r\n".join(_bytes(l) for l in lines) + (b"\r\n" if final_crlf else b"")


def raw_headers(i, subject, extra=()):
    return ["From: Alice Example <alice@mailrig.test>",
            "To: Bob Example <bob@mailrig.test>",
            "Subject: " + subject,
            "Date: " + date_for(i),
            "Message-ID: <%04d.mailrig-corpus@mailrig.test>" % i,
            *extra]


# --------------------------------------------------------------- messages
# The order matters to capture.py: POP3 message N is the Nth file by name.
# 1 and 3 are used for TOP 1 0 and TOP 3 5; 2 is deleted with DELE 2.

@message("01-plain-ascii", "text/plain, 7bit, a few short paragraphs",
         shape="text/plain")
def m01(i, rng):
    m = new(i, "Plain ASCII message")
    m.set_content("Hi Bob,\n\n" + prose(rng, 2) + "\n-- \nAlice\n")
    return render(m, i)


@message("02-plain-one-line", "text/plain, a single body line (deleted by DELE 2 in the POP3 capture)",
         shape="text/plain")
def m02(i, rng):
    m = new(i, "One line")
    m.set_content("Just one line.\n")
    return render(m, i)


@message("03-plain-many-lines", "text/plain, 40 numbered lines (TOP 3 5 in the POP3 capture)",
         shape="text/plain")
def m03(i, rng):
    m = new(i, "Forty numbered lines")
    m.set_content("".join("line %02d: %s\n" % (n, sentence(rng, 6))
                          for n in range(1, 41)))
    return render(m, i)


@message("04-alternative", "multipart/alternative: text/plain + text/html",
         shape="multipart/alternative(text/plain,text/html)")
def m04(i, rng):
    m = new(i, "Alternative text and HTML")
    text = prose(rng, 2)
    m.set_content(text)
    html = "<html><body>%s</body></html>\n" % "".join(
        "<p>%s</p>\n" % p for p in text.strip().split("\n\n"))
    m.add_alternative(html, subtype="html")
    return render(m, i)


@message("05-mixed-small-attachment", "multipart/mixed: text + 3 KB base64 application/octet-stream",
         shape="multipart/mixed(text/plain,application/octet-stream)")
def m05(i, rng):
    m = new(i, "Small attachment")
    m.set_content("The data file is attached.\n")
    m.add_attachment(rng.randbytes(3 * 1024), maintype="application",
                     subtype="octet-stream", filename="data-3k.bin")
    return render(m, i)


@message("06-mixed-two-attachments", "multipart/mixed: text + 8 KB application/pdf + text/csv attachment",
         shape="multipart/mixed(text/plain,application/pdf,text/csv)")
def m06(i, rng):
    m = new(i, "Report and figures")
    m.set_content(prose(rng, 1))
    pdf = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + rng.randbytes(8 * 1024 - 15) + b"\n%%EOF\n"
    m.add_attachment(pdf, maintype="application", subtype="pdf",
                     filename="report.pdf")
    csv = "".join("%d,%d,%s\n" % (n, rng.randint(0, 9999), rng.choice(WORDS))
                  for n in range(50))
    m.add_attachment(csv, subtype="csv", filename="figures.csv")
    return render(m, i)


@message("07-mixed-large-attachment", "multipart/mixed: text + 300 KB base64 attachment (about 405 KB encoded)",
         shape="multipart/mixed(text/plain,application/octet-stream)")
def m07(i, rng):
    m = new(i, "Large attachment (300 KB)")
    m.set_content("The backup is attached (300 KB).\n")
    m.add_attachment(rng.randbytes(300 * 1024), maintype="application",
                     subtype="octet-stream", filename="backup-300k.bin")
    return render(m, i)


@message("08-nested-related", "multipart/mixed > alternative > (text/plain, related > (text/html, inline image/png by Content-ID)) + attachment",
         shape="multipart/mixed(multipart/alternative(text/plain,multipart/related(text/html,image/png)),text/plain)")
def m08(i, rng):
    m = new(i, "Newsletter with inline image")
    related = EmailMessage(policy=CRLF)
    related.set_content('<html><body><p>Newsletter</p>'
                        '<img src="cid:logo.0008@mailrig.test" alt="logo">'
                        '</body></html>\n', subtype="html")
    related.add_related(png(16, 16, rng), maintype="image", subtype="png",
                        cid="<logo.0008@mailrig.test>", disposition="inline",
                        filename="logo.png")
    alt = EmailMessage(policy=CRLF)
    alt.set_content("Plain version of the newsletter.\n\n" + prose(rng, 1))
    alt.make_alternative()
    alt.attach(related)
    m.set_content("placeholder\n")
    m.make_mixed()
    m.set_payload([alt])
    m.add_attachment(prose(rng, 1), filename="notes.txt")
    return render(m, i)


@message("09-rfc822-attached", "multipart/mixed with a forwarded message/rfc822 part",
         shape="multipart/mixed(text/plain,message/rfc822[text/plain])")
def m09(i, rng):
    inner = new(100 + i, "Original message", frm="Carol <carol@mailrig.test>",
                to="Alice Example <alice@mailrig.test>")
    inner.set_content("This is the message being forwarded.\n\n" + prose(rng, 1))
    fix_boundaries(inner, "%d_inner" % i)
    m = new(i, "Fwd: Original message")
    m.set_content("Forwarding this, see below.\n")
    m.add_attachment(inner)
    return render(m, i)


@message("10-rfc822-multipart-inside", "message/rfc822 whose inner message is multipart/mixed with its own attachment",
         shape="multipart/mixed(text/plain,message/rfc822[multipart/mixed(text/plain,application/octet-stream)])")
def m10(i, rng):
    inner = new(100 + i, "Inner with attachment", frm="Dave <dave@mailrig.test>",
                to="Alice Example <alice@mailrig.test>")
    inner.set_content("Inner text.\n")
    inner.add_attachment(rng.randbytes(1500), maintype="application",
                         subtype="octet-stream", filename="inner.bin")
    fix_boundaries(inner, "%d_inner" % i)
    m = new(i, "Fwd: Inner with attachment")
    m.set_content("See the attached message.\n")
    m.add_attachment(inner)
    return render(m, i)


@message("11-utf8-8bit", "text/plain; charset=utf-8, Content-Transfer-Encoding: 8bit (raw UTF-8 body)",
         shape="text/plain")
def m11(i, rng):
    m = new(i, "UTF-8 body")
    m.set_content("Grüße aus Köln! Ça va très bien.\n"
                  "Ελληνικά: καλημέρα κόσμε\n"
                  "Русский: съешь же ещё этих мягких французских булок\n"
                  "日本語: いろはにほへと ちりぬるを\n"
                  "Emoji: 📬 ✉️ 🐍\n"
                  "Right-to-left: שלום עולם / مرحبا بالعالم\n", cte="8bit")
    return render(m, i)


@message("12-rfc2047-headers", "RFC 2047 encoded-words in Subject/From/To (B and Q), ASCII body",
         shape="text/plain")
def m12(i, rng):
    # Written by hand so both B and Q encodings and an encoded-word split
    # over a folded line appear exactly as real clients send them.
    return raw(
        "From: =?UTF-8?Q?Ren=C3=A9e_M=C3=BCller?= <renee@mailrig.test>",
        "To: =?ISO-8859-1?Q?J=F6rg_=C5ngstr=F6m?= <jorg@mailrig.test>,",
        " =?UTF-8?B?5bGx55Sw5aSq6YOO?= <taro@mailrig.test>",
        "Subject: =?UTF-8?B?R3LDvMOfZSBhdXMgS8O2bG4g8J+TrA==?=",
        " =?UTF-8?Q?_und_noch_mehr_=E2=80=94_Teil_2?=",
        "Date: " + date_for(i),
        "Message-ID: <%04d.mailrig-corpus@mailrig.test>" % i,
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=us-ascii",
        "Content-Transfer-Encoding: 7bit",
        "",
        "The headers of this message are RFC 2047 encoded-words.",
        "The body is plain ASCII.")


@message("13-quoted-printable", "text/plain; charset=utf-8, quoted-printable with soft breaks, =3D, encoded trailing space",
         shape="text/plain")
def m13(i, rng):
    m = new(i, "Quoted-printable")
    m.set_content("Equals sign: a=b, 1+1=2\n"
                  "Trailing space here: \n"
                  "Trailing tab here:\t\n"
                  "Umlauts: äöü ÄÖÜ ß, euro € \n"
                  + "A long line that must be soft-broken by the encoder: "
                  + " ".join(rng.choice(WORDS) for _ in range(40)) + "\n"
                  ".A line starting with a dot\n"
                  "From the quoted-printable department\n",
                  cte="quoted-printable")
    return render(m, i)


@message("14-qp-html", "text/html, quoted-printable, long markup lines",
         shape="text/html")
def m14(i, rng):
    m = new(i, "HTML, quoted-printable")
    cells = "".join('<td style="padding:4px;color:#333">%s</td>' % rng.choice(WORDS)
                    for _ in range(30))
    m.set_content('<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head>\n'
                  '<body><table><tr>%s</tr></table>\n<p>Café — naïve façade</p>\n'
                  '</body></html>\n' % cells, subtype="html", cte="quoted-printable")
    return render(m, i)


@message("15-dot-lines", 'body lines ".", "..", ".x", "..x", " ." (POP3 dot-stuffing)',
         shape="text/plain")
def m15(i, rng):
    m = new(i, "Dot lines")
    m.set_content("The next line is a single dot:\n"
                  ".\n"
                  "The next line is two dots:\n"
                  "..\n"
                  ".leading dot\n"
                  "..two leading dots\n"
                  "...three\n"
                  " .space then dot\n"
                  ".\n"
                  "After the second single dot.\n", cte="7bit")
    return render(m, i)


@message("16-dot-last-line", 'the last body line is "." (stuffed to "..", then the terminator)',
         shape="text/plain")
def m16(i, rng):
    m = new(i, "Ends with a dot line")
    m.set_content("Body whose last line is a dot.\n.\n", cte="7bit")
    return render(m, i)


@message("17-from-lines", 'body lines starting "From ", ">From ", "from " (mbox escaping)',
         shape="text/plain")
def m17(i, rng):
    m = new(i, "From lines")
    m.set_content("From the desk of Alice:\n"
                  "From here on, lines start with From.\n"
                  ">From an already escaped line\n"
                  ">>From a doubly escaped line\n"
                  "from lower case\n"
                  " From with a leading space\n", cte="7bit")
    return render(m, i)


@message("18-long-line", "text/plain 7bit with an unfolded 2000-character line (over RFC 5322's 998 limit)",
         shape="text/plain")
def m18(i, rng):
    m = new(i, "2000-character line")
    long_line = ("0123456789" * 200)
    assert len(long_line) == 2000
    m.set_content("Short line.\n" + long_line + "\nShort line again.\n", cte="7bit")
    return render(m, i)


@message("19-long-headers", "a 1200-character unfolded header and a header folded over 30 lines",
         shape="text/plain")
def m19(i, rng):
    refs = " ".join("<ref%03d.%d@mailrig.test>" % (n, rng.randint(1000, 9999))
                    for n in range(30))
    folded = "References: " + "\r\n\t".join(refs.split(" "))
    return raw(*raw_headers(i, "Long headers", extra=[
        "X-Long-Unfolded: " + "".join(rng.choice("abcdefghij") for _ in range(1200)),
        folded,
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=us-ascii"]),
        "",
        "Two of the headers above are long: one unfolded, one folded.")


@message("20-empty-body", "headers, the blank separator line, and no body at all",
         shape="text/plain")
def m20(i, rng):
    return raw(*raw_headers(i, "Empty body", extra=["MIME-Version: 1.0",
                                                     "Content-Type: text/plain"]),
               "")


@message("21-header-only", "headers only: no blank separator line, no body",
         shape="text/plain")
def m21(i, rng):
    return raw(*raw_headers(i, "Header only"))


@message("22-no-final-crlf", "the last body line has no CRLF (server must add one before the terminator)",
         shape="text/plain")
def m22(i, rng):
    return raw(*raw_headers(i, "No final CRLF"), "",
               "First line.", "Last line, without CRLF.", final_crlf=False)


@message("23-latin1-8bit", "text/plain; charset=iso-8859-1, 8bit: bytes that are not UTF-8",
         shape="text/plain")
def m23(i, rng):
    m = new(i, "Latin-1 body")
    m.set_content("Grüße, café, naïve, Ångström, £10, ±5°, ¿qué?\n"
                  "Not UTF-8 on the wire: one byte per character.\n",
                  charset="iso-8859-1", cte="8bit")
    return render(m, i)


@message("24-utf8-raw-headers", "raw UTF-8 in Subject/From (RFC 6532, SMTPUTF8 style), 8bit body",
         shape="text/plain")
def m24(i, rng):
    m = new(i, "Grüße — 你好 — Привет", frm="Zoë Ünal <zoe@mailrig.test>", policy=UTF8)
    m.set_content("Headers with raw UTF-8, no encoded-words.\nBody: ½ ¾ ∞\n", cte="8bit")
    return render(m, i)


@message("25-base64-text", "text/plain; charset=utf-8 encoded as base64",
         shape="text/plain")
def m25(i, rng):
    m = new(i, "Base64 text")
    m.set_content("Text sent as base64.\n" + prose(rng, 2) + "Ünïcödé ✓\n", cte="base64")
    return render(m, i)


@message("26-calendar", "multipart/alternative: text/plain + text/calendar; method=REQUEST",
         shape="multipart/alternative(text/plain,text/calendar)")
def m26(i, rng):
    m = new(i, "Invitation: protocol review")
    m.set_content("You are invited to the protocol review.\n")
    ics = ("BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//mailrig//corpus//EN\n"
           "METHOD:REQUEST\nBEGIN:VEVENT\nUID:0026@mailrig.test\n"
           "DTSTAMP:20240301T090000Z\nDTSTART:20240305T140000Z\n"
           "DTEND:20240305T150000Z\nSUMMARY:Protocol review\n"
           "DESCRIPTION:A long description line that iCalendar folds at 75 oct\n"
           " ets with a leading space on the continuation line.\n"
           "END:VEVENT\nEND:VCALENDAR\n")
    m.add_alternative(ics, subtype="calendar", params={"method": "REQUEST"})
    return render(m, i)


@message("27-preamble-epilogue", "multipart/mixed with a preamble and an epilogue",
         shape="multipart/mixed(text/plain,text/plain)")
def m27(i, rng):
    m = new(i, "Preamble and epilogue")
    m.set_content("First part.\n")
    m.add_attachment("Second part.\n", filename="second.txt")
    m.preamble = "This is a multi-part message in MIME format.\nIgnore this preamble."
    m.epilogue = "This epilogue is after the closing boundary.\n"
    return render(m, i)


@message("28-digest", "multipart/digest of three messages (implicit message/rfc822 parts)",
         shape="multipart/digest(message/rfc822[text/plain],message/rfc822[text/plain],message/rfc822[text/plain])")
def m28(i, rng):
    parts = []
    for n in range(3):
        parts.append(raw("From: list%d@mailrig.test" % n,
                         "Subject: Digest item %d" % (n + 1), "",
                         wrapped(paragraph(rng, 2)).replace("\n", "\r\n")))
    b = "=_mailrig_%d_digest" % i
    body = b"".join(b"--" + b.encode() + b"\r\n\r\n" + p for p in parts)
    return raw(*raw_headers(i, "Digest, 3 messages", extra=[
        "MIME-Version: 1.0",
        'Content-Type: multipart/digest; boundary="%s"' % b]), "") + \
        body + b"--" + b.encode() + b"--\r\n"


@message("29-signed", "multipart/signed (protocol=application/pgp-signature) with a placeholder signature",
         shape="multipart/signed(text/plain,application/pgp-signature)")
def m29(i, rng):
    b = "=_mailrig_%d_signed" % i
    sig = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
                  for _ in range(64 * 6))
    sig_lines = [sig[k:k + 64] for k in range(0, len(sig), 64)]
    return raw(*raw_headers(i, "Signed message", extra=[
        "MIME-Version: 1.0",
        'Content-Type: multipart/signed; micalg=pgp-sha256;',
        '\tprotocol="application/pgp-signature"; boundary="%s"' % b]),
        "", "--" + b,
        "Content-Type: text/plain; charset=us-ascii", "",
        "This part is covered by the (placeholder) signature.",
        "--" + b,
        'Content-Type: application/pgp-signature; name="signature.asc"',
        "Content-Description: OpenPGP digital signature (placeholder, not a real signature)",
        "", "-----BEGIN PGP SIGNATURE-----", "", *sig_lines, "=AbCd",
        "-----END PGP SIGNATURE-----", "--" + b + "--")


@message("30-delivery-report", "multipart/report; report-type=delivery-status (a bounce) with message/delivery-status and text/rfc822-headers",
         shape="multipart/report(text/plain,message/delivery-status,text/rfc822-headers)")
def m30(i, rng):
    b = "=_mailrig_%d_report" % i
    return raw(
        "From: Mail Delivery System <MAILER-DAEMON@mailrig.test>",
        "To: alice@mailrig.test",
        "Subject: Undelivered Mail Returned to Sender",
        "Date: " + date_for(i),
        "Message-ID: <%04d.mailrig-corpus@mailrig.test>" % i,
        "Auto-Submitted: auto-replied",
        "MIME-Version: 1.0",
        'Content-Type: multipart/report; report-type=delivery-status;',
        '\tboundary="%s"' % b, "",
        "--" + b, "Content-Type: text/plain; charset=us-ascii", "",
        "Your message could not be delivered to nobody@elsewhere.example.", "",
        "--" + b, "Content-Type: message/delivery-status", "",
        "Reporting-MTA: dns; mx.mailrig.test", "",
        "Final-Recipient: rfc822; nobody@elsewhere.example",
        "Action: failed", "Status: 5.1.1",
        "Diagnostic-Code: smtp; 550 5.1.1 <nobody@elsewhere.example>: user unknown", "",
        "--" + b, "Content-Type: text/rfc822-headers", "",
        "From: alice@mailrig.test", "To: nobody@elsewhere.example",
        "Subject: Hello", "",
        "--" + b + "--")


@message("31-many-recipients", "long To and Cc lists, folded by the generator",
         shape="text/plain")
def m31(i, rng):
    to = ", ".join("User %02d <user%02d@mailrig.test>" % (n, n) for n in range(25))
    cc = ", ".join("list%02d@lists.mailrig.test" % n for n in range(15))
    m = new(i, "Many recipients", to=to)
    m["Cc"] = cc
    m["Reply-To"] = "Alice Example <alice@mailrig.test>"
    m.set_content("Sent to a lot of people.\n")
    return render(m, i)


@message("32-whitespace", "blank lines, whitespace-only lines, tabs, trailing spaces in a 7bit body",
         shape="text/plain")
def m32(i, rng):
    m = new(i, "Whitespace")
    m.set_content("\n\nTwo blank lines above.\n   \n\t\nTab\tseparated\tvalues\n"
                  "trailing spaces   \n\n\n\nThree blank lines above.\n\n", cte="7bit")
    return render(m, i)


@message("33-many-attachments", "multipart/mixed with six small attachments (text, json, csv, xml, base64 binary, empty file)",
         shape="multipart/mixed(text/plain,text/plain,text/json,text/csv,text/xml,application/octet-stream,application/octet-stream)")
def m33(i, rng):
    m = new(i, "Six attachments")
    m.set_content("Six files attached.\n")
    m.add_attachment("plain text file\n", filename="a.txt")
    m.add_attachment('{"key": "value", "n": [1, 2, 3]}\n', subtype="json",
                     filename="b.json")
    m.add_attachment("x,y\n1,2\n3,4\n", subtype="csv", filename="c.csv")
    m.add_attachment('<?xml version="1.0"?>\n<root><item/></root>\n', subtype="xml",
                     filename="d.xml")
    m.add_attachment(rng.randbytes(700), maintype="application",
                     subtype="octet-stream", filename="e.bin")
    m.add_attachment(b"", maintype="application", subtype="octet-stream",
                     filename="f-empty.bin")
    return render(m, i)


@message("34-rfc2231-filename", "attachment whose non-ASCII filename is RFC 2231 encoded (filename*=utf-8''...)",
         shape="multipart/mixed(text/plain,application/octet-stream)")
def m34(i, rng):
    m = new(i, "Non-ASCII filename")
    m.set_content("The attachment has a non-ASCII file name.\n")
    m.add_attachment(rng.randbytes(600), maintype="application", subtype="octet-stream",
                     filename=("utf-8", "", "Übersicht März 2024 – 日本.bin"))
    return render(m, i)


@message("35-deep-nesting", "multipart nested six levels deep",
         shape="multipart/mixed(multipart/mixed(text/plain,multipart/mixed(text/plain,multipart/mixed(text/plain,multipart/mixed(text/plain,multipart/mixed(text/plain,text/plain))))))")
def m35(i, rng):
    leaf = EmailMessage(policy=CRLF)
    leaf.set_content("Innermost text part (level 6).\n")
    node = leaf
    for level in range(5, 0, -1):
        parent = EmailMessage(policy=CRLF)
        parent.set_content("Text at level %d.\n" % level)
        parent.make_mixed()
        parent.attach(node)
        node = parent
    m = new(i, "Six levels of multipart")
    m.set_content("placeholder\n")
    m.make_mixed()
    m.set_payload([node])
    return render(m, i)


@message("36-empty-parts", "multipart/mixed whose parts are empty (no headers, no body; headers and no body)",
         shape="multipart/mixed(text/plain,text/plain,text/plain)")
def m36(i, rng):
    b = "=_mailrig_%d_empty" % i
    return raw(*raw_headers(i, "Empty MIME parts", extra=[
        "MIME-Version: 1.0",
        'Content-Type: multipart/mixed; boundary="%s"' % b]), "",
        "--" + b, "", "",
        "--" + b, "Content-Type: text/plain", "",
        "--" + b, "Content-Type: text/plain", "", "Only this part has a body.",
        "--" + b + "--")


@message("37-html-only", "single-part text/html, 7bit",
         shape="text/html")
def m37(i, rng):
    m = new(i, "HTML only")
    m.set_content("<html><body><h1>Hello</h1><p>%s</p></body></html>\n"
                  % paragraph(rng, 1), subtype="html", cte="7bit")
    return render(m, i)


@message("38-boundary-lookalikes", "a boundary using every odd character RFC 2046 allows; body lines that start like it but are not delimiters by RFC 2046 5.1.1 (lenient parsers may disagree)",
         shape="multipart/mixed(text/plain,text/plain)")
def m38(i, rng):
    b = "=_mailrig '()+_,-./:=?"
    return raw(*raw_headers(i, "Boundary look-alikes", extra=[
        "MIME-Version: 1.0",
        'Content-Type: multipart/mixed; boundary="%s"' % b]), "",
        "--" + b, "Content-Type: text/plain", "",
        "--=_mailrig '()+_,-./:=",
        "-- " + b,
        "--" + b + "x",
        "--" + b + "-",
        "The four lines above are not delimiters (RFC 2046 5.1.1).",
        "--" + b, "Content-Type: text/plain", "", "Second part.",
        "--" + b + "--", "")


@message("39-image-only", "the whole message is one base64 image/png",
         shape="image/png")
def m39(i, rng):
    m = new(i, "Just an image")
    m.set_content(png(32, 24, rng), maintype="image", subtype="png",
                  disposition="inline", filename="pixel-art.png")
    return render(m, i)


@message("40-odd-headers", "repeated Received headers, tab and multi-line folding, no space after colon, mixed-case names, empty header value",
         shape="text/plain")
def m40(i, rng):
    received = []
    for n in range(5):
        received += ["Received: from hop%d.mailrig.test (hop%d.mailrig.test [127.0.0.%d])" % (n, n, n + 1),
                     "\tby hop%d.mailrig.test with ESMTP id %08X" % (n + 1, rng.getrandbits(32)),
                     "\tfor <bob@mailrig.test>; " + date_for(i)]
    return raw(*received,
               "from: Alice Example <alice@mailrig.test>",
               "TO:Bob Example <bob@mailrig.test>",
               "Subject:no space after the colon",
               "X-Empty:",
               "X-Folded-Value: first",
               "  second",
               "\tthird",
               "Date: " + date_for(i),
               "Message-ID: <%04d.mailrig-corpus@mailrig.test>" % i,
               "", "Header oddities above.")


# ====================================================== the IMAP set
# corpora/mailbox-imap/: what an IMAP server turns into ENVELOPE and
# BODYSTRUCTURE (RFC 3501 7.4.2, RFC 9051 7.5.2), so the set is chosen for
# what makes those hard: nesting, message/rfc822 parts, encoded words,
# groups, parameters, extension fields, and header values that Dovecot
# sends as literals instead of quoted strings.  Dovecot 2.3's rules (read
# in lib-imap/imap-quote.c; the capture confirms them for folded, quoted,
# backslashed and 8-bit values): the Subject is sent as a
# literal when it holds a CR or LF (a folded header), a TAB, two spaces
# in a row, leading or trailing white space, a '"' or '\\', or a byte >=
# 0x80, and then with line breaks removed and white space collapsed; a
# display name the same way, but its white space was already collapsed by
# the address parser, so only '"', '\\' and 8-bit bytes matter; Date,
# Message-ID, In-Reply-To, mailbox and host only for a CR, LF or 8-bit
# byte, or more than four '"' or '\\' (up to four are escaped in a quoted
# string).  All are written as raw bytes so that every header and
# boundary is exactly as given here.

def crlf(text, charset="utf-8"):
    """Text with LF line ends as bytes with CRLF line ends."""
    return text.replace("\n", "\r\n").encode(charset)


def b64lines(data):
    """Base64 in 76-character lines, each ending in CRLF (RFC 2045 6.8)."""
    e = base64.b64encode(data)
    return b"".join(e[k:k + 76] + b"\r\n" for k in range(0, len(e), 76))


def entity(headers, body=b""):
    """A message or body part: header lines (str, or bytes for raw 8-bit
    values; a line starting with white space continues the one before),
    the blank line, the body (bytes, or str with LF line ends)."""
    if isinstance(body, str):
        body = crlf(body)
    return b"".join(_bytes(h) + b"\r\n" for h in headers) + b"\r\n" + body


def multipart_body(boundary, parts, preamble=None, epilogue=None, final_crlf=True):
    """The body of a multipart (RFC 2046 5.1.1): each part after a
    delimiter line; the CRLF before each delimiter belongs to the
    delimiter, so a part ending in CRLF keeps that CRLF as content."""
    bnd = _bytes(boundary)
    out = crlf(preamble) + b"\r\n" if preamble is not None else b""
    out += b"\r\n".join(b"--" + bnd + b"\r\n" + p for p in parts)
    out += b"\r\n--" + bnd + b"--"
    if epilogue is not None:
        out += b"\r\n" + crlf(epilogue)
    elif final_crlf:
        out += b"\r\n"
    return out


def imap_date(i):
    """Dates out of message-number order, so that SORT (DATE) and
    SORT (ARRIVAL) differ."""
    return date_for(200 + (i * 17) % 47)


def imap_id(i):
    return "<%04d.mailrig-imap@mailrig.test>" % i


def imap_headers(i, subject, frm="Alice Example <alice@mailrig.test>",
                 to="Bob Example <bob@mailrig.test>", extra=(), mime=True):
    """Header lines for the IMAP set; extra lines follow, MIME-Version
    last but one when mime (the caller adds Content-* lines)."""
    h = [name + ": " + value if isinstance(value, str) else name.encode() + b": " + value
         for name, value in (("From", frm), ("To", to), ("Subject", subject))
         if value is not None]
    h += ["Date: " + imap_date(i), "Message-ID: " + imap_id(i), *extra]
    if mime:
        h.append("MIME-Version: 1.0")
    return h


def text_part(body, ctype="text/plain; charset=us-ascii", cte="7bit", extra=()):
    h = ["Content-Type: " + ctype]
    if cte:
        h.append("Content-Transfer-Encoding: " + cte)
    return entity(h + list(extra), body)


def gif1x1():
    """A valid 1x1 GIF (fixed bytes)."""
    return (b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04"
            b"\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")


def qp(text):
    """Quoted-printable (RFC 2045 6.7) of UTF-8 text, CRLF line ends."""
    return quopri.encodestring(text.encode("utf-8")).replace(b"\n", b"\r\n")


def html_of(text):
    return "<html><body>\n%s</body></html>\n" % "".join(
        "<p>%s</p>\n" % p.replace("\n", " ") for p in text.strip().split("\n\n"))


@imap_message("01-plain", "text/plain; charset=us-ascii, 7bit: the baseline (THREAD root of 42 and 43)",
              shape="text/plain")
def i01(i, rng):
    return entity(imap_headers(i, "Plain text, the baseline", extra=[
        "Content-Type: text/plain; charset=us-ascii",
        "Content-Transfer-Encoding: 7bit"]), prose(rng, 2))


@imap_message("02-mixed-alternative-related", "mixed > (alternative > (text/plain format=flowed, related > (text/html, inline PNG and GIF by Content-ID)), PDF attachment with a description, quoted-printable text attachment)",
              shape="multipart/mixed(multipart/alternative(text/plain,multipart/related(text/html,image/png,image/gif)),application/pdf,text/plain)")
def i02(i, rng):
    text = prose(rng, 2)
    html = ('<html><body><p>Newsletter</p><img src="cid:logo.0002@mailrig.test">'
            '<img src="cid:dot.0002@mailrig.test"></body></html>\n')
    related = multipart_body("=_rel_0002", [
        text_part(html, "text/html; charset=us-ascii"),
        entity(["Content-Type: image/png; name=logo.png",
                "Content-Transfer-Encoding: base64",
                "Content-ID: <logo.0002@mailrig.test>",
                'Content-Disposition: inline; filename="logo.png"'], b64lines(png(8, 8, rng))),
        entity(["Content-Type: image/gif",
                "Content-Transfer-Encoding: base64",
                "Content-ID: <dot.0002@mailrig.test>",
                "Content-Disposition: inline"], b64lines(gif1x1()))])
    alt = multipart_body("=_alt_0002", [
        text_part(text, "text/plain; charset=us-ascii; format=flowed"),
        entity(['Content-Type: multipart/related; type="text/html";',
                '\tboundary="=_rel_0002"'], related)])
    pdf = b"%PDF-1.4\n" + rng.randbytes(2000) + b"\n%%EOF\n"
    notes = "Notes with an equals sign = and a long line " + " ".join(
        rng.choice(WORDS) for _ in range(20)) + "\n"
    body = multipart_body("=_mixed_0002", [
        entity(['Content-Type: multipart/alternative; boundary="=_alt_0002"'], alt),
        entity(['Content-Type: application/pdf; name="report.pdf"',
                "Content-Transfer-Encoding: base64",
                "Content-Description: Quarterly report (PDF)",
                'Content-Disposition: attachment; filename="report.pdf"'], b64lines(pdf)),
        entity(["Content-Type: text/plain; charset=utf-8",
                "Content-Transfer-Encoding: quoted-printable",
                "Content-Disposition: attachment; filename=notes.txt"],
               qp(notes))],
        preamble="This is a multi-part message in MIME format.")
    return entity(imap_headers(i, "Newsletter: nested alternative and related", extra=[
        'Content-Type: multipart/mixed; boundary="=_mixed_0002"']), body)


def inner_message(i, subject, frm, to, ctype_lines, body, extra=()):
    return entity(["From: " + frm, "To: " + to, "Subject: " + subject,
                   "Date: " + imap_date(100 + i), "Message-ID: " + imap_id(100 + i),
                   *extra, "MIME-Version: 1.0", *ctype_lines], body)


@imap_message("03-rfc822-forward", "mixed > (text/plain, message/rfc822 > text/plain): a forwarded message whose Subject is an encoded word",
              shape="multipart/mixed(text/plain,message/rfc822[text/plain])")
def i03(i, rng):
    inner = inner_message(i, "=?UTF-8?Q?Caf=C3=A9_meeting?=", "Carol <carol@mailrig.test>",
                          "Alice Example <alice@mailrig.test>",
                          ["Content-Type: text/plain; charset=us-ascii"], prose(rng, 1))
    body = multipart_body("=_fwd_0003", [
        text_part("Forwarding this one, see below.\n"),
        entity(["Content-Type: message/rfc822",
                "Content-Description: Forwarded message",
                "Content-Disposition: inline"], inner)])
    return entity(imap_headers(i, "=?UTF-8?Q?Fwd=3A_Caf=C3=A9_meeting?=", extra=[
        'Content-Type: multipart/mixed; boundary="=_fwd_0003"']), body)


@imap_message("04-rfc822-twice", "message/rfc822 inside message/rfc822: mixed > (text, rfc822 > mixed > (text, rfc822 > alternative > (plain, html)))",
              shape="multipart/mixed(text/plain,message/rfc822[multipart/mixed(text/plain,message/rfc822[multipart/alternative(text/plain,text/html)])])")
def i04(i, rng):
    text = prose(rng, 1)
    deepest = inner_message(200 + i, "The original", "Erin <erin@mailrig.test>",
                            "Dave <dave@mailrig.test>",
                            ['Content-Type: multipart/alternative; boundary="=_alt_0004"'],
                            multipart_body("=_alt_0004", [
                                text_part(text), text_part(html_of(text), "text/html; charset=us-ascii")]))
    middle = inner_message(i, "Fwd: The original", "Dave <dave@mailrig.test>",
                           "Carol <carol@mailrig.test>",
                           ['Content-Type: multipart/mixed; boundary="=_mid_0004"'],
                           multipart_body("=_mid_0004", [
                               text_part("Dave forwards Erin's message.\n"),
                               entity(["Content-Type: message/rfc822"], deepest)]))
    body = multipart_body("=_top_0004", [
        text_part("A forward of a forward.\n"),
        entity(["Content-Type: message/rfc822"], middle)])
    return entity(imap_headers(i, "Fwd: Fwd: The original", extra=[
        'Content-Type: multipart/mixed; boundary="=_top_0004"']), body)


@imap_message("05-rfc822-toplevel", "the whole body is message/rfc822 (no multipart around it), the inner message multipart/alternative",
              shape="message/rfc822[multipart/alternative(text/plain,text/html)]")
def i05(i, rng):
    text = prose(rng, 1)
    inner = inner_message(i, "Wrapped message", "Frank <frank@mailrig.test>",
                          "Bob Example <bob@mailrig.test>",
                          ['Content-Type: multipart/alternative; boundary="=_alt_0005"'],
                          multipart_body("=_alt_0005", [
                              text_part(text), text_part(html_of(text), "text/html; charset=us-ascii")]))
    return entity(imap_headers(i, "A message that is only a message", extra=[
        "Content-Type: message/rfc822"]), inner)


@imap_message("06-rfc822-8bit-inner", "message/rfc822 part (8bit) whose inner message has raw UTF-8 headers: literals inside the nested ENVELOPE",
              shape="multipart/mixed(text/plain,message/rfc822[text/plain])")
def i06(i, rng):
    inner = inner_message(i, "Grüße aus Köln — 8-bit header", "Zoë Ünal <zoe@mailrig.test>",
                          "Jörg <jorg@mailrig.test>",
                          ["Content-Type: text/plain; charset=utf-8",
                           "Content-Transfer-Encoding: 8bit"],
                          "Ünïcödé body of the inner message.\n")
    body = multipart_body("=_8bit_0006", [
        text_part("The attached message has raw UTF-8 headers.\n"),
        entity(["Content-Type: message/rfc822",
                "Content-Transfer-Encoding: 8bit"], inner)])
    return entity(imap_headers(i, "Fwd: 8-bit headers inside", extra=[
        'Content-Type: multipart/mixed; boundary="=_8bit_0006"']), body)


@imap_message("07-ew-utf8-b", "RFC 2047 UTF-8 B encoded words in Subject, From, To and Cc (with an emoji)",
              shape="text/plain")
def i07(i, rng):
    return entity(imap_headers(
        i, "=?UTF-8?B?8J+TrCBQb3N0IGbDvHIgZGljaA==?=",
        frm="=?UTF-8?B?UmVuw6llIE3DvGxsZXI=?= <renee@mailrig.test>",
        to="=?UTF-8?B?5bGx55SwIOWkqumDjg==?= <taro@mailrig.test>, =?UTF-8?B?w4Zzw6Z0aGVy?= <aesa@mailrig.test>",
        extra=["Cc: =?UTF-8?B?0JjQstCw0L0g0J/QtdGC0YDQvtCy?= <ivan@mailrig.test>",
               "Content-Type: text/plain; charset=us-ascii"]),
        "The Subject is a mailbox emoji and \"Post fuer dich\", B encoded.\n")


@imap_message("08-ew-utf8-q", "RFC 2047 Q encoded words: underscores, =5F, =3F, =22, a Subject of three encoded words over folded lines",
              shape="text/plain")
def i08(i, rng):
    return entity(imap_headers(
        i, "=?UTF-8?Q?Caf=C3=A9_=22au_lait=22_=3F?=\r\n =?UTF-8?Q?_under=5Fscore_and_?=\r\n =?UTF-8?Q?na=C3=AFve_fa=C3=A7ade?=",
        frm="=?UTF-8?Q?Ren=C3=A9e_M=C3=BCller?= <renee@mailrig.test>",
        to="=?UTF-8?Q?Fran=C3=A7ois_=22Fran=C3=A7ou=22_Dupont?= <francois@mailrig.test>",
        extra=["Content-Type: text/plain; charset=us-ascii"]),
        "Q encoded words in the headers.\n")


@imap_message("09-ew-latin1", "encoded words in ISO-8859-1 (Q and lower-case b), ISO-8859-15, windows-1252, and one with an RFC 2231 language tag",
              shape="text/plain")
def i09(i, rng):
    return entity(imap_headers(
        i, "=?ISO-8859-15?Q?Preis_=A4_100?= =?windows-1252?Q?=93smart=94_quotes?=",
        frm="=?ISO-8859-1?Q?J=F6rg_M=FCller?= <jorg@mailrig.test>",
        to="=?iso-8859-1?b?xW5nc3Ry9m0=?= <angstrom@mailrig.test>",
        extra=["Cc: =?UTF-8*de?Q?Gr=C3=BC=C3=9Fe?= <gruesse@mailrig.test>",
               "Content-Type: text/plain; charset=us-ascii"]),
        "Latin-1, Latin-9 and windows-1252 encoded words.\n")


@imap_message("10-ew-mixed", "encoded words next to plain words, two charsets in one header, one inside a quoted string, one in a comment, a malformed one",
              shape="text/plain")
def i10(i, rng):
    return entity(imap_headers(
        i, "Re: =?UTF-8?B?w6k=?= plain =?ISO-8859-1?Q?=E9?= =?UTF-8?Q?=C3=A9?= end",
        frm='"=?UTF-8?Q?Quoted_=C3=A9ncoded?=" <quoted@mailrig.test>',
        to="bob@mailrig.test (=?UTF-8?Q?Bob_in_a_comment_=C3=A9?=)",
        extra=["Cc: =?UTF-8?B?!!not-base64!!?= <bad@mailrig.test>, =?X-UNKNOWN?Q?abc?= <unknown@mailrig.test>",
               "Content-Type: text/plain; charset=us-ascii"]),
        "Encoded words in odd places.\n")


@imap_message("11-group-undisclosed", 'To: "undisclosed-recipients:;", an empty group (RFC 5322 3.4)',
              shape="text/plain")
def i11(i, rng):
    return entity(imap_headers(i, "To undisclosed recipients", to="undisclosed-recipients:;",
                               extra=["Content-Type: text/plain; charset=us-ascii"]),
                  "Sent to an empty group.\n")


@imap_message("12-group-named", "named groups with members: a plain one, one whose name is an encoded word, an empty one, addresses around them",
              shape="text/plain")
def i12(i, rng):
    return entity(imap_headers(
        i, "Groups with members",
        to='Project Team: alice@mailrig.test, "Bob Example" <bob@mailrig.test>;, carol@mailrig.test',
        extra=["Cc: =?UTF-8?Q?Gr=C3=BC=C3=9Fe_Team?=: dave@mailrig.test,",
               " =?UTF-8?B?5bGx55Sw?= <taro@mailrig.test>;, Empty List:;",
               "Bcc: Hidden: erin@mailrig.test;",
               "Content-Type: text/plain; charset=us-ascii"]),
        "Addressed to groups.\n")


@imap_message("13-quote-backslash", 'a Subject and a display name with " and \\ (sent as literals), an In-Reply-To with four (escaped in a quoted string) and a Message-ID with six (a literal)',
              shape="text/plain")
def i13(i, rng):
    h = imap_headers(i, 'A "quoted" word and a back\\slash \\o/',
                     frm='"Bob \\"the builder\\" Example" <bob@mailrig.test>',
                     to="Alice Example <alice@mailrig.test>",
                     extra=['In-Reply-To: <"weird\\"id"@mailrig.test>',
                            "Content-Type: text/plain; charset=us-ascii"])
    h = [x if not x.startswith("Message-ID:") else 'Message-ID: <"a\\"b\\"c"@mailrig.test>' for x in h]
    return entity(h, "Quoted-specials in the headers.\n")


@imap_message("14-utf8-raw-headers", "raw UTF-8 (RFC 6532) in Subject, display names and an address (sent as literals), 8bit body",
              shape="text/plain")
def i14(i, rng):
    return entity(imap_headers(
        i, "Grüße — 你好 — Привет", frm="Zoë Ünal <zoe@mailrig.test>",
        to="山田太郎 <山田@例え.テスト>, Jörg <jörg@mailrig.test>",
        extra=["Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit"]),
        "Raw UTF-8 headers, no encoded words. ½ ¾ ∞\n")


@imap_message("15-latin1-raw-headers", "raw ISO-8859-1 bytes (not UTF-8) in Subject and From (literals with bytes that are not UTF-8)",
              shape="text/plain")
def i15(i, rng):
    return entity(imap_headers(
        i, "Gr\u00fc\u00dfe aus K\u00f6ln".encode("latin-1"),
        frm="J\u00f6rg M\u00fcller <jorg@mailrig.test>".encode("latin-1"),
        extra=["Content-Type: text/plain; charset=iso-8859-1", "Content-Transfer-Encoding: 8bit"]),
        crlf("Gr\u00fc\u00dfe, caf\u00e9.\n", "latin-1"))


@imap_message("16-folded-whitespace", "a Subject folded over three lines with tabs, double spaces and a trailing space (a literal, white space collapsed)",
              shape="text/plain")
def i16(i, rng):
    return entity(imap_headers(
        i, "Folded\r\n\tsubject with\ttabs and  double  spaces\r\n  and a trailing space ",
        frm="Alice   Example\t<alice@mailrig.test>",
        extra=["Content-Type: text/plain; charset=us-ascii"]),
        "Folded headers.\n")


@imap_message("17-long-subject", "a 400-character Subject of plain words on one line (a long quoted string) and 30 recipients whose names have commas",
              shape="text/plain")
def i17(i, rng):
    words = []
    while len(" ".join(words)) < 400:
        words.append(rng.choice(WORDS))
    subject = " ".join(words)[:400].rstrip()
    to = ",\r\n ".join('"Doe, John %02d" <john%02d@mailrig.test>' % (n, n) for n in range(30))
    return entity(imap_headers(i, subject, to=to,
                               extra=["Content-Type: text/plain; charset=us-ascii"]),
                  "A long subject.\n")


@imap_message("18-address-odd", "odd addresses: a comment as the name, Sender and two Reply-To, a source route, quoted local parts, no domain",
              shape="text/plain")
def i18(i, rng):
    return entity(imap_headers(
        i, "Odd addresses", frm="alice@mailrig.test (Alice in a comment)",
        to="Route Example <@relay1.example,@relay2.example:bob@mailrig.test>",
        extra=["Sender: Secretary <secretary@mailrig.test>",
               "Reply-To: Alice Home <alice@home.example>, Alice Work <alice@work.example>",
               'Cc: "john..doe"@mailrig.test, "local part with spaces"@mailrig.test, nodomain',
               "Content-Type: text/plain; charset=us-ascii"]),
        "Addresses that are hard to parse.\n")


@imap_message("19-minimal-headers", "only a From header: no Date, Subject, To or Message-ID (NIL in ENVELOPE), no MIME headers (text/plain by default)",
              shape="text/plain")
def i19(i, rng):
    return entity(["From: alice@mailrig.test"], "Almost no headers.\n")


@imap_message("20-empty-values", "Subject, To, Cc and In-Reply-To present but empty or only white space",
              shape="text/plain")
def i20(i, rng):
    return entity(["From: Alice Example <alice@mailrig.test>", "To:", "Cc:   ",
                   "Subject:", "In-Reply-To: ", "Date: " + imap_date(i),
                   "Message-ID: " + imap_id(i)], "Empty header values.\n")


@imap_message("21-rfc2231-params", "RFC 2231 parameters: an encoded filename*, a filename split over encoded continuations, plain continuations, a title* with a language, and an RFC 2047 name=",
              shape="multipart/mixed(text/plain,application/pdf,text/plain,application/octet-stream)")
def i21(i, rng):
    body = multipart_body("=_2231_0021", [
        text_part("Three attachments with RFC 2231 parameters.\n"),
        entity(['Content-Type: application/pdf; name="=?UTF-8?Q?=E2=82=AC_rates.pdf?="',
                "Content-Transfer-Encoding: base64",
                "Content-Disposition: attachment; filename*=UTF-8''%E2%82%AC%20rates.pdf"],
               b64lines(b"%PDF-1.4\n" + rng.randbytes(300))),
        entity(["Content-Type: text/plain; charset=us-ascii;",
                " title*=iso-8859-1'de'Gr%FC%DFe",
                "Content-Disposition: attachment;",
                " filename*0*=UTF-8''%C3%9Cbersicht%20;",
                " filename*1*=M%C3%A4rz%20;",
                ' filename*2="2024.txt"'], "A text file.\n"),
        entity(["Content-Type: application/octet-stream",
                "Content-Transfer-Encoding: base64",
                "Content-Disposition: attachment;",
                ' filename*0="a-very-long-file-name-that-was-split-";',
                ' filename*1="over-two-continuations.bin"'], b64lines(rng.randbytes(200)))])
    return entity(imap_headers(i, "RFC 2231 file names", extra=[
        'Content-Type: multipart/mixed; boundary="=_2231_0021"']), body)


@imap_message("22-lang-loc-md5", "every BODYSTRUCTURE extension field: Content-MD5, -Disposition, -Language (one and two tags), -Location (also folded), -ID, -Description, on parts and on the multipart",
              shape="multipart/mixed(text/plain,text/html)")
def i22(i, rng):
    text = crlf(prose(rng, 1))
    html = crlf(html_of(prose(rng, 1)))
    md5 = base64.b64encode(hashlib.md5(text).digest()).decode()
    body = multipart_body("=_ext_0022", [
        entity(["Content-Type: text/plain; charset=us-ascii",
                "Content-Transfer-Encoding: 7bit",
                "Content-ID: <text.0022@mailrig.test>",
                "Content-Description: The text, in two languages",
                "Content-MD5: " + md5,
                "Content-Disposition: inline",
                "Content-Language: en, de-CH",
                "Content-Location: https://mailrig.test/doc/22/text.txt"], text),
        entity(["Content-Type: text/html; charset=us-ascii",
                "Content-Language: fr",
                "Content-Location: https://mailrig.test/doc/22/a/rather/long/",
                " path/page.html"], html)])
    return entity(imap_headers(i, "Extension fields", extra=[
        'Content-Type: multipart/mixed; boundary="=_ext_0022"',
        "Content-Language: en",
        "Content-Location: https://mailrig.test/doc/22/",
        "Content-Disposition: inline"]), body)


@imap_message("23-disposition-params", "Content-Disposition variants: inline with filename, size and RFC 2183 dates; attachment without parameters; an unknown disposition type; upper case INLINE",
              shape="multipart/mixed(text/plain,image/jpeg,application/octet-stream,text/plain)")
def i23(i, rng):
    jpeg = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + rng.randbytes(500) + b"\xff\xd9"
    body = multipart_body("=_dsp_0023", [
        text_part("Dispositions.\n", extra=["Content-Disposition: INLINE"]),
        entity(["Content-Type: image/jpeg",
                "Content-Transfer-Encoding: base64",
                'Content-Disposition: inline; filename="photo.jpg"; size=%d;' % len(jpeg),
                ' creation-date="Wed, 12 Feb 1997 16:29:51 -0500";',
                ' modification-date="Thu, 13 Feb 1997 09:00:00 +0100"'], b64lines(jpeg)),
        entity(["Content-Type: application/octet-stream",
                "Content-Transfer-Encoding: base64",
                "Content-Disposition: attachment"], b64lines(rng.randbytes(100))),
        text_part("A part with an unknown disposition.\n",
                  extra=["Content-Disposition: x-custom; foo=bar"])])
    return entity(imap_headers(i, "Dispositions", extra=[
        'Content-Type: multipart/mixed; boundary="=_dsp_0023"']), body)


@imap_message("24-no-final-crlf", "text/plain whose last line has no CRLF",
              shape="text/plain")
def i24(i, rng):
    return entity(imap_headers(i, "No final CRLF", extra=[
        "Content-Type: text/plain; charset=us-ascii"]),
        b"First line.\r\nLast line, without CRLF.")


@imap_message("25-multipart-no-final-crlf", "multipart/alternative whose closing delimiter is the last thing in the message, with no CRLF",
              shape="multipart/alternative(text/plain,text/html)")
def i25(i, rng):
    text = prose(rng, 1)
    body = multipart_body("=_nocrlf_0025", [
        text_part(text), text_part(html_of(text), "text/html; charset=us-ascii")],
        final_crlf=False)
    return entity(imap_headers(i, "Multipart without a final CRLF", extra=[
        'Content-Type: multipart/alternative; boundary="=_nocrlf_0025"']), body)


@imap_message("26-empty-body", "headers, the blank line, and no body (BODYSTRUCTURE size 0, lines 0)",
              shape="text/plain")
def i26(i, rng):
    return entity(imap_headers(i, "Empty body", extra=[
        "Content-Type: text/plain; charset=us-ascii"]))


@imap_message("27-header-only", "headers only, no blank line after them",
              shape="text/plain")
def i27(i, rng):
    return raw(*imap_headers(i, "Header only", mime=False))


@imap_message("28-8bit-utf8", "text/plain; charset=utf-8, 8bit body",
              shape="text/plain")
def i28(i, rng):
    return entity(imap_headers(i, "8bit UTF-8 body", extra=[
        "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit"]),
        "Grüße aus Köln! Ça va très bien.\nΕλληνικά: καλημέρα κόσμε\n日本語: いろはにほへと\n")


@imap_message("29-8bit-latin1", 'text/plain; charset="ISO-8859-1" (quoted, upper case), 8bit body that is not UTF-8',
              shape="text/plain")
def i29(i, rng):
    return entity(imap_headers(i, "8bit Latin-1 body", extra=[
        'Content-Type: text/plain; charset="ISO-8859-1"', "Content-Transfer-Encoding: 8bit"]),
        crlf("Gr\u00fc\u00dfe, caf\u00e9, na\u00efve, \u00c5ngstr\u00f6m, \u00a310.\n", "latin-1"))


@imap_message("30-binary-cte", "application/octet-stream with Content-Transfer-Encoding: binary, 2000 bytes with no line break",
              shape="application/octet-stream")
def i30(i, rng):
    data = bytes(b for b in rng.randbytes(2400) if b not in (0, 10, 13))[:2000]
    return entity(imap_headers(i, "Binary body", extra=[
        "Content-Type: application/octet-stream",
        "Content-Transfer-Encoding: binary"]), data)


@imap_message("31-image-single", "a single-part base64 image/png with Content-ID, Content-Description and an inline disposition",
              shape="image/png")
def i31(i, rng):
    return entity(imap_headers(i, "Just an image", extra=[
        'Content-Type: image/png; name="pixels.png"',
        "Content-Transfer-Encoding: base64",
        "Content-ID: <pixels.0031@mailrig.test>",
        "Content-Description: Some pixels",
        'Content-Disposition: inline; filename="pixels.png"']), b64lines(png(12, 10, rng)))


@imap_message("32-application-json", "a single-part application/json with a charset (not text/*: no line count in BODYSTRUCTURE)",
              shape="application/json")
def i32(i, rng):
    return entity(imap_headers(i, "JSON document", extra=[
        "Content-Type: application/json; charset=utf-8",
        "Content-Transfer-Encoding: 7bit"]),
        '{\n  "kind": "mailrig",\n  "items": [1, 2, 3],\n  "ok": true\n}\n')


@imap_message("33-alternative-params", "multipart/alternative with an unquoted boundary: text/plain with several parameters (format=flowed; delsp=yes), text/enriched, text/html",
              shape="multipart/alternative(text/plain,text/enriched,text/html)")
def i33(i, rng):
    text = prose(rng, 1)
    body = multipart_body("unquoted_boundary_0033", [
        text_part(qp(text),
                  'text/plain; charset="utf-8"; format=flowed; delsp=yes',
                  "quoted-printable"),
        text_part("<bold>Enriched</bold> text.\n", "text/enriched; charset=us-ascii"),
        text_part(html_of(text), "text/html; charset=UTF-8")])
    return entity(imap_headers(i, "Three alternatives", extra=[
        "Content-Type: multipart/alternative; boundary=unquoted_boundary_0033"]), body)


@imap_message("34-encrypted", "multipart/encrypted (RFC 1847): application/pgp-encrypted control part and an application/octet-stream placeholder",
              shape="multipart/encrypted(application/pgp-encrypted,application/octet-stream)")
def i34(i, rng):
    armor = base64.b64encode(rng.randbytes(240)).decode()
    lines = [armor[k:k + 64] for k in range(0, len(armor), 64)]
    body = multipart_body("=_enc_0034", [
        entity(["Content-Type: application/pgp-encrypted",
                "Content-Description: PGP/MIME version identification"], "Version: 1\n"),
        entity(['Content-Type: application/octet-stream; name="encrypted.asc"',
                "Content-Description: OpenPGP encrypted message (placeholder)",
                'Content-Disposition: inline; filename="encrypted.asc"'],
               "-----BEGIN PGP MESSAGE-----\n\n" + "\n".join(lines) +
               "\n-----END PGP MESSAGE-----\n")])
    return entity(imap_headers(i, "Encrypted (placeholder)", extra=[
        'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted";',
        ' boundary="=_enc_0034"']), body)


@imap_message("35-report-with-message", "multipart/report (delivery-status) returning the whole original message as message/rfc822",
              shape="multipart/report(text/plain,message/delivery-status,message/rfc822[text/plain])")
def i35(i, rng):
    original = inner_message(i, "Hello", "Alice Example <alice@mailrig.test>",
                             "nobody@elsewhere.example",
                             ["Content-Type: text/plain; charset=us-ascii"], "Hello there.\n")
    body = multipart_body("=_report_0035", [
        text_part("Your message could not be delivered.\n"),
        entity(["Content-Type: message/delivery-status"],
               "Reporting-MTA: dns; mx.mailrig.test\n\n"
               "Final-Recipient: rfc822; nobody@elsewhere.example\n"
               "Action: failed\nStatus: 5.1.1\n"),
        entity(["Content-Type: message/rfc822",
                "Content-Description: Undelivered message"], original)])
    h = imap_headers(i, "Undelivered Mail Returned to Sender",
                     frm="Mail Delivery System <MAILER-DAEMON@mailrig.test>",
                     to="alice@mailrig.test", extra=[
                         "Content-Type: multipart/report; report-type=delivery-status;",
                         '\tboundary="=_report_0035"'])
    return entity(h, body)


@imap_message("36-message-global", "message/global part (RFC 6532) holding a message with raw UTF-8 headers (a basic body in IMAP4rev1; RFC 9051 gives it an ENVELOPE like message/rfc822)",
              shape="multipart/mixed(text/plain,message/global)")
def i36(i, rng):
    inner = inner_message(i, "Привет из message/global", "Иван <ivan@mailrig.test>",
                          "Alice Example <alice@mailrig.test>",
                          ["Content-Type: text/plain; charset=utf-8",
                           "Content-Transfer-Encoding: 8bit"], "Тело письма.\n")
    body = multipart_body("=_global_0036", [
        text_part("An internationalized message is attached.\n"),
        entity(["Content-Type: message/global",
                "Content-Transfer-Encoding: 8bit"], inner)])
    return entity(imap_headers(i, "message/global attached", extra=[
        'Content-Type: multipart/mixed; boundary="=_global_0036"']), body)


@imap_message("37-odd-content-types", "parts with no Content-Type, an upper-case one, comments in it, one without a subtype, an unknown type with odd parameter values",
              shape="multipart/mixed(text/plain,text/plain,text/plain,text/plain,application/x-unknown)")
def i37(i, rng):
    body = multipart_body("=_odd_0037", [
        entity([], "No Content-Type: text/plain; charset=us-ascii by default.\n"),
        entity(["Content-Type: TEXT/PLAIN; CHARSET=US-ASCII"], "Upper case.\n"),
        entity(["Content-Type: text/plain (a comment); charset=utf-8 (another)"], "Comments.\n"),
        entity(["Content-Type: text"], "No subtype (invalid).\n"),
        entity(['Content-Type: application/x-unknown; x-param="a;b=c"; empty="";',
                ' name=file.dat'], "unknown\n")])
    return entity(imap_headers(i, "Odd Content-Type headers", extra=[
        'Content-Type: multipart/mixed; boundary="=_odd_0037"']), body)


@imap_message("38-digest-default", "multipart/digest: a part with no headers (message/rfc822 by default), an explicit text/plain, an explicit message/rfc822 holding a multipart",
              shape="multipart/digest(message/rfc822[text/plain],text/plain,message/rfc822[multipart/alternative(text/plain,text/html)])")
def i38(i, rng):
    text = prose(rng, 1)
    m1 = entity(["From: list1@mailrig.test", "Subject: Digest item 1"], wrapped(paragraph(rng, 2)) + "\n")
    m3 = inner_message(i, "Digest item 3", "list3@mailrig.test", "list@mailrig.test",
                       ['Content-Type: multipart/alternative; boundary="=_alt_0038"'],
                       multipart_body("=_alt_0038", [
                           text_part(text), text_part(html_of(text), "text/html; charset=us-ascii")]))
    body = multipart_body("=_digest_0038", [
        b"\r\n" + m1,
        text_part("Table of contents: items 1 and 3.\n"),
        entity(["Content-Type: message/rfc822"], m3)])
    return entity(imap_headers(i, "Digest with defaults", extra=[
        'Content-Type: multipart/digest; boundary="=_digest_0038"']), body)


@imap_message("39-deep-nesting-message", "eight levels: mixed > related > message/rfc822 > mixed > alternative > message/rfc822 > mixed > text",
              shape="multipart/mixed(multipart/related(text/html,message/rfc822[multipart/mixed(multipart/alternative(text/plain,message/rfc822[multipart/mixed(text/plain,text/plain)]),text/plain)]),text/plain)")
def i39(i, rng):
    inmost = inner_message(300 + i, "Level 6", "deep@mailrig.test", "deeper@mailrig.test",
                           ['Content-Type: multipart/mixed; boundary="=_l7_0039"'],
                           multipart_body("=_l7_0039", [text_part("Level 8, first.\n"),
                                                        text_part("Level 8, second.\n")]))
    alt = multipart_body("=_l5_0039", [text_part("Level 5 text.\n"),
                                       entity(["Content-Type: message/rfc822"], inmost)])
    mid = inner_message(i, "Level 3", "middle@mailrig.test", "deep@mailrig.test",
                        ['Content-Type: multipart/mixed; boundary="=_l4_0039"'],
                        multipart_body("=_l4_0039", [
                            entity(['Content-Type: multipart/alternative; boundary="=_l5_0039"'], alt),
                            text_part("Level 4 text.\n")]))
    related = multipart_body("=_l2_0039", [
        text_part("<html><body>Level 2</body></html>\n", "text/html; charset=us-ascii"),
        entity(["Content-Type: message/rfc822"], mid)])
    body = multipart_body("=_l1_0039", [
        entity(['Content-Type: multipart/related; boundary="=_l2_0039"'], related),
        text_part("Level 1 text.\n")])
    return entity(imap_headers(i, "Eight levels with messages inside", extra=[
        'Content-Type: multipart/mixed; boundary="=_l1_0039"']), body)


@imap_message("40-many-parts", "multipart/mixed with 25 small named text parts",
              shape="multipart/mixed(%s)" % ",".join(["text/plain"] * 25))
def i40(i, rng):
    parts = [text_part("Part %d: %s\n" % (n, sentence(rng, 5)),
                       'text/plain; charset=us-ascii; name="part-%02d.txt"' % n,
                       extra=['Content-Disposition: attachment; filename="part-%02d.txt"' % n])
             for n in range(1, 26)]
    return entity(imap_headers(i, "Twenty-five parts", extra=[
        'Content-Type: multipart/mixed; boundary="=_many_0040"']),
        multipart_body("=_many_0040", parts))


@imap_message("41-long-address-lists", "40 To addresses folded over many lines, Cc names with commas, quotes, parentheses and backslashes, Reply-To a group",
              shape="text/plain")
def i41(i, rng):
    to = ",\r\n\t".join("user%02d@lists.mailrig.test" % n for n in range(40))
    cc = ('"Smith, Anna (Sales)" <anna@mailrig.test>, "O\'Brien \\"Ob\\" Pat" <pat@mailrig.test>,'
          '\r\n "Back\\\\slash" <bs@mailrig.test>, Plain Name <plain@mailrig.test>')
    return entity(imap_headers(i, "Long address lists", to=to, extra=[
        "Cc: " + cc, "Reply-To: Replies: alice@mailrig.test, bob@mailrig.test;",
        "Content-Type: text/plain; charset=us-ascii"]), "Many recipients.\n")


@imap_message("42-reply", 'a reply to 01 ("Re:", In-Reply-To and References) for THREAD',
              shape="text/plain")
def i42(i, rng):
    return entity(imap_headers(i, "Re: Plain text, the baseline", frm="Bob Example <bob@mailrig.test>",
                               to="Alice Example <alice@mailrig.test>", extra=[
                                   "In-Reply-To: " + imap_id(1), "References: " + imap_id(1),
                                   "Content-Type: text/plain; charset=us-ascii"]),
                  "> " + wrapped(paragraph(rng, 1)).replace("\n", "\n> ") + "\n\nAgreed.\n")


@imap_message("43-reply-to-reply", "a reply to 42 (References: 01 42) for THREAD",
              shape="text/plain")
def i43(i, rng):
    return entity(imap_headers(i, "Re: Re: Plain text, the baseline", extra=[
        "In-Reply-To: " + imap_id(42), "References: %s\r\n %s" % (imap_id(1), imap_id(42)),
        "Content-Type: text/plain; charset=us-ascii"]), "Thanks.\n")


@imap_message("44-bare-lf-cr-nul", "the one message not in wire form: body lines ending in a bare LF, a bare CR inside a line, a NUL byte (Dovecot sends LF as CRLF, NUL as 0x80 in BODY[], the NUL in a BINARY[] literal8)",
              shape="text/plain")
def i44(i, rng):
    return entity(imap_headers(i, "Bare LF, bare CR and NUL", extra=[
        "Content-Type: text/plain; charset=us-ascii"]),
        b"This line ends in a bare LF.\nSo does this one.\n"
        b"A bare CR\rinside this line.\r\n"
        b"A NUL byte: <\0>.\r\n")


# ------------------------------------------------------------------- main

IMAP_DIR = os.path.normpath(os.path.join(HERE, "..", "mailbox-imap"))
BENCH_DIR = os.path.normpath(os.path.join(HERE, "..", "..", "build", "mailbox-bench"))
BENCH_COUNT = 300

# Where Python's email package sees another structure than SHAPES says
# (SHAPES is what RFC 2045-2046 and RFC 3501 give, and what Dovecot sends).
PY_SHAPE_DIFFERS = {
    # email treats every message/* type as holding sub-messages.
    "30-delivery-report": "message/delivery-status is not message/rfc822 in IMAP",
    "35-report-with-message": "message/delivery-status, as above",
    # email parses message/global like message/rfc822; IMAP4rev1 does not.
    "36-message-global": "message/global",
    # email keeps the comment in "text/plain (a comment)".
    "37-odd-content-types": "comment in Content-Type",
}


# Messages that break the wire form on purpose (check_wire_form skips them).
NOT_WIRE_FORM = {"44-bare-lf-cr-nul"}


def check_wire_form(name, data):
    """Every LF must be preceded by CR and every CR followed by LF."""
    if any(name == n or name.endswith("-" + n) for n in NOT_WIRE_FORM):
        return      # also "0087-44-..." in the bench set
    bare = data.replace(b"\r\n", b"")
    if b"\n" in bare or b"\r" in bare:
        raise SystemExit("%s: bare CR or LF" % name)
    if b"\0" in data:
        raise SystemExit("%s: NUL byte" % name)


def python_shape(data):
    """The MIME structure in SHAPES notation, as Python's email package
    parses the bytes (an independent check of the hand-written SHAPES)."""
    msg = email.message_from_bytes(data, policy=email.policy.default)

    def walk(m):
        ct = m.get_content_type()
        if ct == "message/rfc822":
            return "%s[%s]" % (ct, walk(m.get_payload(0)))
        if m.is_multipart():
            return "%s(%s)" % (ct, ",".join(walk(c) for c in m.get_payload()))
        return ct
    return walk(msg)


def bench_messages(count):
    """The benchmark set: count messages drawn in turn from both committed
    sets' builders, each with its own number (dates and Message-IDs
    differ) and its own random stream (the text and bytes differ)."""
    builders = MESSAGES + IMAP_MESSAGES
    for k in range(1, count + 1):
        name, desc, fn = builders[(k - 1) % len(builders)]
        yield "%04d-%s" % (k, name), desc, fn, 1000 + k, "%d/bench/%d/%s" % (SEED, k, name)


def generate(which, count=BENCH_COUNT):
    """{file name: bytes} for one set: "mailbox", "imap" or "bench"."""
    if which == "bench":
        todo = list(bench_messages(count))
        title = "corpora/tools/make-mailbox.py --set bench --count %d (not committed)" % count
    else:
        msgs = MESSAGES if which == "mailbox" else IMAP_MESSAGES
        # Each message draws from its own stream so that editing one does
        # not change the others.
        todo = [(name, desc, fn, n, "%d/%s" % (SEED, name))
                for n, (name, desc, fn) in enumerate(msgs, 1)]
        title = "corpora/%s" % ("mailbox" if which == "mailbox" else "mailbox-imap")
    out = {}
    index = ["# %s: generated by corpora/tools/make-mailbox.py (seed %d)." % (title, SEED),
             "# Do not edit by hand; change the script and regenerate.",
             "# file\tbytes\twhat it covers"]
    for name, desc, fn, n, stream in todo:
        data = fn(n, random.Random(stream))
        check_wire_form(name, data)
        fname = name + ".eml"
        out[fname] = data
        index.append("%s\t%d\t%s" % (fname, len(data), desc))
    out["INDEX"] = ("\n".join(index) + "\n").encode("utf-8")
    return out


def shape_problems(which, files):
    """Hand-written SHAPES that Python's email package does not confirm."""
    bad = []
    for fname, data in sorted(files.items()):
        stem = fname[:-len(".eml")] if fname.endswith(".eml") else None
        if stem is None or stem in PY_SHAPE_DIFFERS:
            continue
        got = python_shape(data)
        if got != SHAPES[stem]:
            bad.append("shape: %s: SHAPES says %s, email parses %s" % (fname, SHAPES[stem], got))
    return bad


def check(which, files, out):
    existing = set()
    if os.path.isdir(out):
        existing = {f for f in os.listdir(out) if f.endswith(".eml") or f == "INDEX"}
    bad = []
    for f, data in sorted(files.items()):
        p = os.path.join(out, f)
        if not os.path.exists(p):
            bad.append("missing: " + f)
        else:
            with open(p, "rb") as fh:
                if fh.read() != data:
                    bad.append("differs: " + f)
    bad += ["extra: " + f for f in sorted(existing - set(files))]
    if which != "bench":
        bad += shape_problems(which, files)
    for b in bad:
        print("%s: %s" % (os.path.relpath(out), b), file=sys.stderr)
    print("make-mailbox: %s: %d files, %s" % (os.path.relpath(out), len(files),
                                              "OK" if not bad else "%d problems" % len(bad)))
    return not bad


def write(files, out):
    os.makedirs(out, exist_ok=True)
    existing = {f for f in os.listdir(out) if f.endswith(".eml") or f == "INDEX"}
    for f in sorted(existing - set(files)):
        os.unlink(os.path.join(out, f))
    for f, data in sorted(files.items()):
        with open(os.path.join(out, f), "wb") as fh:
            fh.write(data)
    print("make-mailbox: wrote %d messages to %s" % (len(files) - 1, os.path.relpath(out)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true",
                    help="compare with the files on disk, write nothing")
    ap.add_argument("--set", choices=("mailbox", "imap", "bench"), action="append",
                    help="which set (repeatable; default: the committed sets, "
                    "mailbox and imap)")
    ap.add_argument("--out", help="output directory (only with one --set; defaults: "
                    "corpora/mailbox, corpora/mailbox-imap, build/mailbox-bench)")
    ap.add_argument("--count", type=int, default=BENCH_COUNT,
                    help="messages in the bench set (default %(default)s)")
    args = ap.parse_args()
    sets = args.set or ["mailbox", "imap"]
    if args.out and len(sets) != 1:
        ap.error("--out needs exactly one --set")
    ok = True
    for which in sets:
        out = args.out or {"mailbox": OUT_DIR, "imap": IMAP_DIR, "bench": BENCH_DIR}[which]
        files = generate(which, args.count)
        if args.check:
            ok = check(which, files, out) and ok
        else:
            write(files, out)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
