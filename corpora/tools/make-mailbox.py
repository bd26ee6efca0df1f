#!/usr/bin/python3
"""Generate corpora/mailbox/: a varied set of RFC 5322 messages (.eml).

The messages are what a POP3 or IMAP server hands out in RETR/TOP or
FETCH answers, so the set is chosen for what makes those answers hard to
parse: MIME structure (RFC 2045-2049), encodings (base64,
quoted-printable, 8bit, RFC 2047 headers, RFC 2231 parameters), dot
lines that POP3 must byte-stuff (RFC 1939 section 3), "From " lines that
mbox would mangle, very long lines, and degenerate messages (empty body,
no body separator, no final CRLF).

Every line ends in CRLF, as on the wire.  Output is reproducible: a
fixed seed, fixed dates, Message-IDs and MIME boundaries, and only the
standard library (the `email` package builds the messages; a few
deliberately malformed ones, which `email` would tidy up, are written as
raw bytes).  Run with Debian's interpreter:

    /usr/bin/python3 corpora/tools/make-mailbox.py          # (re)write
    /usr/bin/python3 corpora/tools/make-mailbox.py --check  # compare only

--check exits 1 if any committed file differs from what would be
generated (or is missing, or is extra).
"""

import argparse
import datetime
import email.policy
import email.utils
import io
import os
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

MESSAGES = []  # (filename, description, builder)


def message(name, description):
    """Register a builder: name is the file stem, description goes in INDEX."""
    def register(fn):
        MESSAGES.append((name, description, fn))
        return fn
    return register


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


def raw(*lines, final_crlf=True):
    """Join str/bytes lines with CRLF (for messages `email` would tidy)."""
    bl = [l.encode("utf-8") if isinstance(l, str) else l for l in lines]
    return b"\r\n".join(bl) + (b"\r\n" if final_crlf else b"")


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

@message("01-plain-ascii", "text/plain, 7bit, a few short paragraphs")
def m01(i, rng):
    m = new(i, "Plain ASCII message")
    m.set_content("Hi Bob,\n\n" + prose(rng, 2) + "\n-- \nAlice\n")
    return render(m, i)


@message("02-plain-one-line", "text/plain, a single body line (deleted by DELE 2 in the POP3 capture)")
def m02(i, rng):
    m = new(i, "One line")
    m.set_content("Just one line.\n")
    return render(m, i)


@message("03-plain-many-lines", "text/plain, 40 numbered lines (TOP 3 5 in the POP3 capture)")
def m03(i, rng):
    m = new(i, "Forty numbered lines")
    m.set_content("".join("line %02d: %s\n" % (n, sentence(rng, 6))
                          for n in range(1, 41)))
    return render(m, i)


@message("04-alternative", "multipart/alternative: text/plain + text/html")
def m04(i, rng):
    m = new(i, "Alternative text and HTML")
    text = prose(rng, 2)
    m.set_content(text)
    html = "<html><body>%s</body></html>\n" % "".join(
        "<p>%s</p>\n" % p for p in text.strip().split("\n\n"))
    m.add_alternative(html, subtype="html")
    return render(m, i)


@message("05-mixed-small-attachment", "multipart/mixed: text + 3 KB base64 application/octet-stream")
def m05(i, rng):
    m = new(i, "Small attachment")
    m.set_content("The data file is attached.\n")
    m.add_attachment(rng.randbytes(3 * 1024), maintype="application",
                     subtype="octet-stream", filename="data-3k.bin")
    return render(m, i)


@message("06-mixed-two-attachments", "multipart/mixed: text + 8 KB application/pdf + text/csv attachment")
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


@message("07-mixed-large-attachment", "multipart/mixed: text + 300 KB base64 attachment (about 405 KB encoded)")
def m07(i, rng):
    m = new(i, "Large attachment (300 KB)")
    m.set_content("The backup is attached (300 KB).\n")
    m.add_attachment(rng.randbytes(300 * 1024), maintype="application",
                     subtype="octet-stream", filename="backup-300k.bin")
    return render(m, i)


@message("08-nested-related", "multipart/mixed > alternative > (text/plain, related > (text/html, inline image/png by Content-ID)) + attachment")
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


@message("09-rfc822-attached", "multipart/mixed with a forwarded message/rfc822 part")
def m09(i, rng):
    inner = new(100 + i, "Original message", frm="Carol <carol@mailrig.test>",
                to="Alice Example <alice@mailrig.test>")
    inner.set_content("This is the message being forwarded.\n\n" + prose(rng, 1))
    fix_boundaries(inner, "%d_inner" % i)
    m = new(i, "Fwd: Original message")
    m.set_content("Forwarding this, see below.\n")
    m.add_attachment(inner)
    return render(m, i)


@message("10-rfc822-multipart-inside", "message/rfc822 whose inner message is multipart/mixed with its own attachment")
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


@message("11-utf8-8bit", "text/plain; charset=utf-8, Content-Transfer-Encoding: 8bit (raw UTF-8 body)")
def m11(i, rng):
    m = new(i, "UTF-8 body")
    m.set_content("Grüße aus Köln! Ça va très bien.\n"
                  "Ελληνικά: καλημέρα κόσμε\n"
                  "Русский: съешь же ещё этих мягких французских булок\n"
                  "日本語: いろはにほへと ちりぬるを\n"
                  "Emoji: 📬 ✉️ 🐍\n"
                  "Right-to-left: שלום עולם / مرحبا بالعالم\n", cte="8bit")
    return render(m, i)


@message("12-rfc2047-headers", "RFC 2047 encoded-words in Subject/From/To (B and Q), ASCII body")
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


@message("13-quoted-printable", "text/plain; charset=utf-8, quoted-printable with soft breaks, =3D, encoded trailing space")
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


@message("14-qp-html", "text/html, quoted-printable, long markup lines")
def m14(i, rng):
    m = new(i, "HTML, quoted-printable")
    cells = "".join('<td style="padding:4px;color:#333">%s</td>' % rng.choice(WORDS)
                    for _ in range(30))
    m.set_content('<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head>\n'
                  '<body><table><tr>%s</tr></table>\n<p>Café — naïve façade</p>\n'
                  '</body></html>\n' % cells, subtype="html", cte="quoted-printable")
    return render(m, i)


@message("15-dot-lines", 'body lines ".", "..", ".x", "..x", " ." (POP3 dot-stuffing)')
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


@message("16-dot-last-line", 'the last body line is "." (stuffed to "..", then the terminator)')
def m16(i, rng):
    m = new(i, "Ends with a dot line")
    m.set_content("Body whose last line is a dot.\n.\n", cte="7bit")
    return render(m, i)


@message("17-from-lines", 'body lines starting "From ", ">From ", "from " (mbox escaping)')
def m17(i, rng):
    m = new(i, "From lines")
    m.set_content("From the desk of Alice:\n"
                  "From here on, lines start with From.\n"
                  ">From an already escaped line\n"
                  ">>From a doubly escaped line\n"
                  "from lower case\n"
                  " From with a leading space\n", cte="7bit")
    return render(m, i)


@message("18-long-line", "text/plain 7bit with an unfolded 2000-character line (over RFC 5322's 998 limit)")
def m18(i, rng):
    m = new(i, "2000-character line")
    long_line = ("0123456789" * 200)
    assert len(long_line) == 2000
    m.set_content("Short line.\n" + long_line + "\nShort line again.\n", cte="7bit")
    return render(m, i)


@message("19-long-headers", "a 1200-character unfolded header and a header folded over 30 lines")
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


@message("20-empty-body", "headers, the blank separator line, and no body at all")
def m20(i, rng):
    return raw(*raw_headers(i, "Empty body", extra=["MIME-Version: 1.0",
                                                     "Content-Type: text/plain"]),
               "")


@message("21-header-only", "headers only: no blank separator line, no body")
def m21(i, rng):
    return raw(*raw_headers(i, "Header only"))


@message("22-no-final-crlf", "the last body line has no CRLF (server must add one before the terminator)")
def m22(i, rng):
    return raw(*raw_headers(i, "No final CRLF"), "",
               "First line.", "Last line, without CRLF.", final_crlf=False)


@message("23-latin1-8bit", "text/plain; charset=iso-8859-1, 8bit: bytes that are not UTF-8")
def m23(i, rng):
    m = new(i, "Latin-1 body")
    m.set_content("Grüße, café, naïve, Ångström, £10, ±5°, ¿qué?\n"
                  "Not UTF-8 on the wire: one byte per character.\n",
                  charset="iso-8859-1", cte="8bit")
    return render(m, i)


@message("24-utf8-raw-headers", "raw UTF-8 in Subject/From (RFC 6532, SMTPUTF8 style), 8bit body")
def m24(i, rng):
    m = new(i, "Grüße — 你好 — Привет", frm="Zoë Ünal <zoe@mailrig.test>", policy=UTF8)
    m.set_content("Headers with raw UTF-8, no encoded-words.\nBody: ½ ¾ ∞\n", cte="8bit")
    return render(m, i)


@message("25-base64-text", "text/plain; charset=utf-8 encoded as base64")
def m25(i, rng):
    m = new(i, "Base64 text")
    m.set_content("Text sent as base64.\n" + prose(rng, 2) + "Ünïcödé ✓\n", cte="base64")
    return render(m, i)


@message("26-calendar", "multipart/alternative: text/plain + text/calendar; method=REQUEST")
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


@message("27-preamble-epilogue", "multipart/mixed with a preamble and an epilogue")
def m27(i, rng):
    m = new(i, "Preamble and epilogue")
    m.set_content("First part.\n")
    m.add_attachment("Second part.\n", filename="second.txt")
    m.preamble = "This is a multi-part message in MIME format.\nIgnore this preamble."
    m.epilogue = "This epilogue is after the closing boundary.\n"
    return render(m, i)


@message("28-digest", "multipart/digest of three messages (implicit message/rfc822 parts)")
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


@message("29-signed", "multipart/signed (protocol=application/pgp-signature) with a placeholder signature")
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


@message("30-delivery-report", "multipart/report; report-type=delivery-status (a bounce) with message/delivery-status and text/rfc822-headers")
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


@message("31-many-recipients", "long To and Cc lists, folded by the generator")
def m31(i, rng):
    to = ", ".join("User %02d <user%02d@mailrig.test>" % (n, n) for n in range(25))
    cc = ", ".join("list%02d@lists.mailrig.test" % n for n in range(15))
    m = new(i, "Many recipients", to=to)
    m["Cc"] = cc
    m["Reply-To"] = "Alice Example <alice@mailrig.test>"
    m.set_content("Sent to a lot of people.\n")
    return render(m, i)


@message("32-whitespace", "blank lines, whitespace-only lines, tabs, trailing spaces in a 7bit body")
def m32(i, rng):
    m = new(i, "Whitespace")
    m.set_content("\n\nTwo blank lines above.\n   \n\t\nTab\tseparated\tvalues\n"
                  "trailing spaces   \n\n\n\nThree blank lines above.\n\n", cte="7bit")
    return render(m, i)


@message("33-many-attachments", "multipart/mixed with six small attachments (text, json, csv, xml, base64 binary, empty file)")
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


@message("34-rfc2231-filename", "attachment whose non-ASCII filename is RFC 2231 encoded (filename*=utf-8''...)")
def m34(i, rng):
    m = new(i, "Non-ASCII filename")
    m.set_content("The attachment has a non-ASCII file name.\n")
    m.add_attachment(rng.randbytes(600), maintype="application", subtype="octet-stream",
                     filename=("utf-8", "", "Übersicht März 2024 – 日本.bin"))
    return render(m, i)


@message("35-deep-nesting", "multipart nested six levels deep")
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


@message("36-empty-parts", "multipart/mixed whose parts are empty (no headers, no body; headers and no body)")
def m36(i, rng):
    b = "=_mailrig_%d_empty" % i
    return raw(*raw_headers(i, "Empty MIME parts", extra=[
        "MIME-Version: 1.0",
        'Content-Type: multipart/mixed; boundary="%s"' % b]), "",
        "--" + b, "", "",
        "--" + b, "Content-Type: text/plain", "",
        "--" + b, "Content-Type: text/plain", "", "Only this part has a body.",
        "--" + b + "--")


@message("37-html-only", "single-part text/html, 7bit")
def m37(i, rng):
    m = new(i, "HTML only")
    m.set_content("<html><body><h1>Hello</h1><p>%s</p></body></html>\n"
                  % paragraph(rng, 1), subtype="html", cte="7bit")
    return render(m, i)


@message("38-boundary-lookalikes", "a boundary using every odd character RFC 2046 allows; body lines that start like it but are not delimiters by RFC 2046 5.1.1 (lenient parsers may disagree)")
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


@message("39-image-only", "the whole message is one base64 image/png")
def m39(i, rng):
    m = new(i, "Just an image")
    m.set_content(png(32, 24, rng), maintype="image", subtype="png",
                  disposition="inline", filename="pixel-art.png")
    return render(m, i)


@message("40-odd-headers", "repeated Received headers, tab and multi-line folding, no space after colon, mixed-case names, empty header value")
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


# ------------------------------------------------------------------- main

def check_wire_form(name, data):
    """Every LF must be preceded by CR and every CR followed by LF."""
    if data.replace(b"\r\n", b"").count(b"\n") or data.replace(b"\r\n", b"").count(b"\r"):
        raise SystemExit("%s: bare CR or LF" % name)
    if b"\0" in data:
        raise SystemExit("%s: NUL byte" % name)


def generate():
    out = {}
    index = ["# corpora/mailbox: generated by corpora/tools/make-mailbox.py (seed %d)."
             % SEED,
             "# Do not edit by hand; change the script and regenerate.",
             "# file\tbytes\twhat it covers"]
    for n, (name, desc, fn) in enumerate(MESSAGES, 1):
        # Each message draws from its own stream so that editing one does
        # not change the others.
        sub = random.Random("%d/%s" % (SEED, name))
        data = fn(n, sub)
        check_wire_form(name, data)
        fname = name + ".eml"
        out[fname] = data
        index.append("%s\t%d\t%s" % (fname, len(data), desc))
    out["INDEX"] = ("\n".join(index) + "\n").encode("utf-8")
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true",
                    help="compare with the files on disk, write nothing")
    ap.add_argument("--out", default=OUT_DIR, help="output directory (default %(default)s)")
    args = ap.parse_args()

    files = generate()
    existing = set()
    if os.path.isdir(args.out):
        existing = {f for f in os.listdir(args.out) if f.endswith(".eml") or f == "INDEX"}

    if args.check:
        bad = []
        for f, data in sorted(files.items()):
            p = os.path.join(args.out, f)
            if not os.path.exists(p):
                bad.append("missing: " + f)
            else:
                with open(p, "rb") as fh:
                    if fh.read() != data:
                        bad.append("differs: " + f)
        bad += ["extra: " + f for f in sorted(existing - set(files))]
        for b in bad:
            print(b, file=sys.stderr)
        print("make-mailbox: %d files, %s" % (len(files), "OK" if not bad else "%d problems" % len(bad)))
        return 1 if bad else 0

    os.makedirs(args.out, exist_ok=True)
    for f in sorted(existing - set(files)):
        os.unlink(os.path.join(args.out, f))
    for f, data in sorted(files.items()):
        with open(os.path.join(args.out, f), "wb") as fh:
            fh.write(data)
    print("make-mailbox: wrote %d messages to %s" % (len(files) - 1, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
