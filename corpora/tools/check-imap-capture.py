#!/usr/bin/python3
"""Check what mailrig makes of the Dovecot IMAP capture against the mailbox.

Runs `mailrig parse imap --dialogue corpora/transcripts/imap-dovecot.trs`
and compares its JSON with what the messages themselves say, message by
message, for the two folders the session fetches in full:

  INBOX    corpora/mailbox-imap/NN-*.eml is message NN
  Archive  corpora/mailbox/NN-*.eml is message NN (then two copies of
           INBOX messages 1 and 2, made by the session's COPY)

The knowledge of each message comes from the generator and from the
bytes, not from Dovecot: the MIME structure is make-mailbox.py's
hand-written SHAPES; part headers, sizes, line counts, parameters, file
names (RFC 2231 decoded), and the ENVELOPE fields (RFC 3501 7.4.2: groups,
decoded display names, mailbox and host) come from Python's email package
reading the .eml file.  Also compared: RFC822.SIZE, BODY[HEADER] and
BODY[] with the file as Dovecot serves it (capture.as_imap_served).

Where Dovecot legitimately differs from the email package, or has a quirk
of its own, KNOWN says so and the field is not compared; everything else
must match.  Standard library only:

    /usr/bin/python3 corpora/tools/check-imap-capture.py [--mailrig PATH] [TRS]
    /usr/bin/python3 corpora/tools/check-imap-capture.py --bench N [TRS]

(--bench N: corpora/bench/imap-dovecot.trs, made by capture.py --bench N,
over make-mailbox.py's N-message bench set.)

Exit status 0 when everything matches, 1 otherwise (each mismatch is
printed) or when mailrig failed.
"""

import argparse
import email
import email.header
import email.policy
import glob
import importlib.util
import json
import os
import re
import subprocess
import sys
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.normpath(os.path.join(HERE, "..", ".."))
TRS = os.path.join(TOP, "corpora", "transcripts", "imap-dovecot.trs")


def load(name, file):
    spec = importlib.util.spec_from_file_location(name, os.path.join(HERE, file))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


mm = load("make_mailbox", "make-mailbox.py")
cap = load("capture", "capture.py")

FETCH_META = cap.FETCH_META.decode()

# (message stem, what): where Dovecot 2.3 and the email package (or the
# RFC) part ways, so that the comparison is skipped.  Each is a finding
# about the server or about Python, not about mailrig.
KNOWN = {
    ("37-odd-content-types", "part 3 subtype"):
        'Python keeps the comment in "text/plain (a comment)"; Dovecot drops it',
    ("37-odd-content-types", "part 4 subtype"):
        'Dovecot sends "Content-Type: text" (no subtype) as "text" "" where RFC 2045 '
        "5.2 says text/plain; mailrig --strict reports the empty subtype",
    ("18-address-odd", "from 1 name"):
        'Dovecot takes the comment of "alice@mailrig.test (Alice in a comment)" as '
        "the display name; RFC 5322 gives the address none",
    ("18-address-odd", "cc 3 host"):
        'Dovecot fills the missing domain of "nodomain" with "MISSING_DOMAIN"',
    ("10-ew-mixed", "to 1 name"):
        'Dovecot takes the comment "(=?UTF-8?Q?Bob_in_a_comment_=C3=A9?=)" as the '
        "display name, as above",
    ("10-ew-mixed", "cc 1 name"):
        "a malformed encoded word (=?UTF-8?B?!!not-base64!!?=): Python's header "
        "parser and email.header decode it differently",
}

# Where Dovecot's MIME structure differs from the one RFC 2046 gives
# (make-mailbox.py SHAPES); the parts are then compared only where the
# structures agree.
DOVECOT_SHAPES = {
    "37-odd-content-types": (
        "multipart/mixed(text/plain,text/plain,text/plain,text/,application/x-unknown)",
        "the empty subtype above"),
    "38-boundary-lookalikes": (
        "multipart/mixed(text/plain,text/plain,text/plain,text/plain)",
        'Dovecot takes any line that starts with "--" and the boundary as a delimiter '
        '(here "--B" followed by "x" and by "-"), RFC 2046 5.1.1 only "--B" followed '
        "by white space: four parts instead of two"),
}


# Source routes (RFC 5322 4.4 obs-route), which the email package drops.
ROUTES = {("18-address-odd", "to 1"): "@relay1.example,@relay2.example"}


# ------------------------------------------------------------ helpers

def short(v, n=160):
    r = repr(v)
    return r if len(r) <= n else r[:n] + "...(%d characters)" % len(r)


def base(stem):
    """The generator's name of a message ("0087-44-bare-lf-cr-nul" in the
    bench set is "44-bare-lf-cr-nul")."""
    return re.sub(r"^\d{4}-", "", stem)


def raw_bytes(s):
    """The bytes of a str that email made from bytes (surrogateescape)."""
    if not isinstance(s, str):
        return s
    try:
        return s.encode("ascii", "surrogateescape")
    except UnicodeEncodeError:      # inside message/rfc822, email decoded 8-bit as UTF-8
        return s.encode("utf-8", "surrogateescape")


def lossy(b):
    """What mailrig's JSON makes of bytes (docs/cli.md: invalid UTF-8 as
    U+FFFD, the same as Python's "replace")."""
    return b.decode("utf-8", "replace")


def collapse(s):
    """Dovecot's Subject and display-name clean-up (lib-imap
    imap_append_string_for_humans): line breaks removed, runs of spaces
    and tabs one space, no white space at either end."""
    return re.sub(r"[ \t]+", " ", s.replace("\r", "").replace("\n", "")).strip()


def as_json(s):
    """A str from the email package as mailrig's JSON shows it: raw 8-bit
    header bytes (surrogates) decoded as UTF-8, invalid ones as U+FFFD."""
    if s is None or not re.search("[\udc80-\udcff]", s):
        return s
    return lossy(s.encode("utf-8", "surrogateescape"))


def decode_words(s):
    """RFC 2047 decoding for comparison (also with an RFC 2231 language
    tag, =?UTF-8*de?Q?...?=, and an unknown charset, as ASCII)."""
    if s is None:
        return None
    s = re.sub(r"=\?([^?*]+)\*[^?]*\?", r"=?\1?", s)
    try:
        words = email.header.decode_header(s)
    except (ValueError, email.errors.HeaderParseError):
        return collapse(s)
    out = []
    for w, cs in words:
        if isinstance(w, bytes):
            try:
                w = w.decode(cs or "ascii", "replace")
            except LookupError:
                w = w.decode("ascii", "replace")
        out.append(w)
    return collapse("".join(out))


def header_raw(msg, name):
    """The raw value of the first header `name` (None when absent)."""
    for k, v in msg.raw_items():
        if k.lower() == name.lower():
            return v
    return None


def decode_2231(name, value):
    """A parameter's value, decoding RFC 2231 name*=charset'lang'%XX."""
    if not name.endswith("*") or value is None:
        return value
    m = re.fullmatch(r"([^']*)'[^']*'(.*)", value, re.S)
    if not m:
        return value
    return urllib.parse.unquote(m.group(2), encoding=m.group(1) or "us-ascii", errors="replace")


def params_of(jparams):
    """{name lower case: value} of mailrig's [{"name","value"}], RFC 2231 decoded."""
    out = {}
    for p in jparams or []:
        n = p["name"]
        out[n.lower().rstrip("*")] = decode_2231(n, p["value"])
    return out


# ------------------------------------------------------------ the mailrig side

def run_mailrig(mailrig, trs):
    proc = subprocess.run([mailrig, "parse", "imap", "--dialogue", trs],
                          capture_output=True, timeout=300)
    if proc.returncode != 0:
        raise SystemExit("check-imap-capture: mailrig exited %d: %s"
                         % (proc.returncode, proc.stderr.decode(errors="replace")[:500]))
    return [json.loads(l) for l in proc.stdout.splitlines()]


def commands(trs):
    """{tag: command text} from the client's bytes in the transcript: tags
    a001, a002, ... (the committed capture) or 1, 2, ... (the bench
    capture, whose tags are digits)."""
    with open(trs, encoding="utf-8") as f:
        segs = cap.read_back(f.read())
    client = b"".join(d for k, d in segs if k == "C")
    out = {}
    for line in client.split(b"\r\n"):
        m = re.match(rb"(a\d{3}|\d+) (.*)", line)
        if m:
            out[m.group(1).decode()] = m.group(2).decode("utf-8", "replace")
    return out


def by_command(responses, cmds):
    """[(command text, [untagged responses before its tagged answer])]."""
    out, pending = [], []
    for r in responses:
        if r["kind"] == "tagged":
            out.append((cmds.get(r["tag"], ""), pending))
            pending = []
        elif r["kind"] == "untagged":
            pending.append(r)
    return out


def fetch_items(r):
    """{item: value} of a FETCH response; BODY[section] as "BODY[section]"."""
    out = {}
    for it in r["data"]["items"]:
        name = it["item"]
        if it["section"] is not None:
            name = "%s[%s]" % (it["name"], it["section"])
        out[name] = it["value"]
    return out


def literal_text(v):
    """The text of a string value (quoted, or a literal shown as a string)."""
    if isinstance(v, dict):
        return v.get("literal", v.get("literal8"))
    return v


# ------------------------------------------------------------ comparison

class Checker:
    def __init__(self):
        self.problems = []
        self.known_hits = set()
        self.counts = {"messages": 0, "parts": 0, "addresses": 0, "fields": 0}

    def eq(self, stem, what, got, want):
        self.counts["fields"] += 1
        if (base(stem), what) in KNOWN:
            if got != want:
                self.known_hits.add((base(stem), what))
            return
        if got != want:
            self.problems.append("%s: %s: mailrig %s, expected %s"
                                 % (stem, what, short(got), short(want)))

    # ENVELOPE (RFC 3501 7.4.2) of a message the email package parsed.
    def envelope(self, stem, env, msg, where=""):
        p = where and where + " "
        date = header_raw(msg, "Date")
        self.eq(stem, p + "date", env["date"], collapse(date) if date is not None else None)
        subj = header_raw(msg, "Subject")
        want = None if subj is None else collapse(lossy(raw_bytes(subj)))
        self.eq(stem, p + "subject", env["subject"], want)
        if subj is not None:
            self.eq(stem, p + "subject decoded", decode_words(env["subject"]),
                    collapse(as_json(str(msg["Subject"]))))
        for key in ("message_id", "in_reply_to"):
            v = header_raw(msg, key.replace("_", "-"))
            self.eq(stem, p + key, env[key], v.strip() if v is not None else None)
        for key, hdr in (("from", "From"), ("sender", "Sender"), ("reply_to", "Reply-To"),
                         ("to", "To"), ("cc", "Cc"), ("bcc", "Bcc")):
            h = msg[hdr]
            if h is None and key in ("sender", "reply_to"):
                h = msg["From"]      # RFC 3501 7.4.2: the server defaults them to From
            self.addresses(stem, p + key, env[key], h)

    def addresses(self, stem, what, got, header):
        want = []
        if header is not None:
            for g in header.groups:
                if g.display_name is not None:
                    want.append(("group", collapse(as_json(g.display_name))))
                want += [("addr", a) for a in g.addresses]
                if g.display_name is not None:
                    want.append(("end", None))
        if not want:
            self.eq(stem, what, got, None)
            return
        if got is None or len(got) != len(want):
            self.eq(stem, what + " count", None if got is None else len(got), len(want))
            return
        for n, (g, (kind, w)) in enumerate(zip(got, want), 1):
            self.counts["addresses"] += 1
            at = "%s %d" % (what, n)
            if kind == "group":
                self.eq(stem, at + " group", decode_words(g.get("group")), w)
            elif kind == "end":
                self.eq(stem, at + " group end", g.get("group_end"), True)
            else:
                self.eq(stem, at + " name", decode_words(g.get("name")) or None,
                        collapse(as_json(w.display_name)) or None)
                self.eq(stem, at + " mailbox", g.get("mailbox"), as_json(w.username))
                self.eq(stem, at + " host", g.get("host"), as_json(w.domain) or None)
                self.eq(stem, at + " adl", g.get("adl"), ROUTES.get((base(stem), at)))

    # BODYSTRUCTURE (RFC 3501 7.4.2) against the email package's parts.
    def body(self, stem, b, part, where):
        self.counts["parts"] += 1
        ct = part.get_content_type()
        if b["multipart"]:
            self.eq(stem, where + " boundary", params_of(b.get("params")).get("boundary"),
                    part.get_boundary())
            subs = part.get_payload()
            if isinstance(subs, list) and len(subs) == len(b["parts"]):
                for n, (sb, sp) in enumerate(zip(b["parts"], subs), 1):
                    sub = "%s.%d" % (where, n) if where != "part" else "part %d" % n
                    self.body(stem, sb, sp, sub)
            return
        self.eq(stem, where + " subtype", (b["subtype"] or "").lower(), part.get_content_subtype())
        cte = (part.get("Content-Transfer-Encoding") or "7bit").strip().lower()
        self.eq(stem, where + " encoding", (b["encoding"] or "").lower(), cte)
        for key, hdr in (("id", "Content-ID"), ("description", "Content-Description"),
                         ("md5", "Content-MD5")):
            v = header_raw(part, hdr)
            if key in b:
                self.eq(stem, where + " " + key, b[key], collapse(v) if v is not None else None)
        params = params_of(b["params"])
        charset = part.get_param("charset")
        if charset is not None and "charset" in params:
            self.eq(stem, where + " charset", params["charset"], str(charset))
        loc = header_raw(part, "Content-Location")
        if "location" in b:
            self.eq(stem, where + " location", b["location"],
                    loc.replace("\r\n", "").strip() if loc is not None else None)
        lang = header_raw(part, "Content-Language")
        if "language" in b:
            got = b["language"]
            got = [got] if isinstance(got, str) else got
            self.eq(stem, where + " language", got,
                    [t.strip() for t in lang.split(",")] if lang is not None else None)
        dsp = part.get_content_disposition()
        if "disposition" in b:
            d = b["disposition"]
            self.eq(stem, where + " disposition", d["type"].lower() if d else None, dsp)
            if d and part.get_filename() is not None:
                self.eq(stem, where + " filename", params_of(d["params"]).get("filename"),
                        part.get_filename())
        payload = part.get_payload(decode=False)
        if ct == "message/rfc822":
            inner = payload[0]
            self.envelope(stem, b["envelope"], inner, where)
            self.body(stem, b["body"], inner, where + " inner")
            return
        if isinstance(payload, list):
            return      # message/delivery-status, message/global: email splits them
        if cte in ("7bit", "8bit", "binary"):
            data = part.get_payload(decode=True)    # the raw bytes, as stored
        else:
            data = raw_bytes(payload)               # base64 or QP text, ASCII
        data = cap.as_imap_served(data)
        self.eq(stem, where + " size", b["size"], len(data))
        if part.get_content_maintype() == "text":
            self.eq(stem, where + " lines", b.get("lines"), data.count(b"\n"))

    def message(self, stem, data, items):
        self.counts["messages"] += 1
        msg = email.message_from_bytes(data, policy=email.policy.default)
        self.eq(stem, "RFC822.SIZE", items.get("RFC822.SIZE"), len(cap.as_imap_served(data)))
        self.envelope(stem, items["ENVELOPE"], msg)
        bs = items["BODYSTRUCTURE"]
        shape = json_shape(bs)
        want = mm.SHAPES[base(stem)]
        if base(stem) in DOVECOT_SHAPES:
            want = DOVECOT_SHAPES[base(stem)][0]
            self.known_hits.add((base(stem), "shape"))
        self.eq(stem, "shape", shape, want)
        if shape == want:
            self.body(stem, bs, msg, "part")


def json_shape(b):
    """mailrig's BODYSTRUCTURE in make-mailbox.py's SHAPES notation."""
    if b["multipart"]:
        return "multipart/%s(%s)" % ((b["subtype"] or "").lower(),
                                     ",".join(json_shape(p) for p in b["parts"]))
    t = "%s/%s" % ((b["type"] or "").lower(), (b["subtype"] or "").lower())
    if "envelope" in b and b.get("body") is not None:
        return "%s[%s]" % (t, json_shape(b["body"]))
    return t


# ------------------------------------------------------------ main

def folder_files(directory):
    out = []
    for p in sorted(glob.glob(os.path.join(directory, "*.eml"))):
        with open(p, "rb") as f:
            out.append((os.path.basename(p)[:-4], f.read()))
    return out


def committed_folders():
    """The folders imap-dovecot.trs fetches in full, in the order it does."""
    inbox = folder_files(os.path.join(TOP, "corpora", "mailbox-imap"))
    archive = folder_files(os.path.join(TOP, "corpora", "mailbox"))
    return [inbox, archive + inbox[:2]]       # COPY 1:2 "Archive"


def bench_folders(count):
    """The folder of corpora/bench/imap-dovecot.trs (capture.py --bench N)."""
    return [[(f[:-4], data) for f, data in cap.bench_messages(count)]]


def check(responses, cmds, folders):
    """Compare; folders are the message lists of the FETCH_META commands,
    in order (BODY[HEADER] and BODY[] are checked for the first)."""
    c = Checker()
    groups = by_command(responses, cmds)
    meta = [rs for cmd, rs in groups if cmd == FETCH_META]
    if len(meta) != len(folders):
        c.problems.append("expected %d %r, found %d" % (len(folders), FETCH_META, len(meta)))
        return c
    for folder, rs in zip(folders, meta):
        fetched = {r["number"]: fetch_items(r) for r in rs if r["type"] == "FETCH"}
        if sorted(fetched) != list(range(1, len(folder) + 1)):
            c.problems.append("FETCH answered messages %r" % sorted(fetched))
            continue
        for n, (stem, data) in enumerate(folder, 1):
            c.message(stem, data, fetched[n])
    # BODY[HEADER] and BODY[] of the first folder: the files as served.
    for cmd, item, cut in (("FETCH 1:* BODY.PEEK[HEADER]", "BODY[HEADER]", cap.header_of),
                           ("FETCH 1:* BODY.PEEK[]", "BODY[]", lambda d: d)):
        rs = [rs for k, rs in groups if k == cmd]
        got = {r["number"]: literal_text(fetch_items(r).get(item))
               for r in (rs[0] if rs else []) if r["type"] == "FETCH"}
        for n, (stem, data) in enumerate(folders[0], 1):
            c.eq(stem, item, got.get(n), lossy(cap.as_imap_served(cut(data))))
    return c


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("trs", nargs="?", help="the transcript (default "
                    "corpora/transcripts/imap-dovecot.trs, or "
                    "corpora/bench/imap-dovecot.trs with --bench)")
    ap.add_argument("--bench", type=int, metavar="N",
                    help="check a capture.py --bench N capture instead")
    ap.add_argument("--mailrig", default=os.environ.get("MAILRIG",
                                                        os.path.join(TOP, "build", "mailrig")))
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="also list the known differences that were seen")
    args = ap.parse_args()
    if args.bench is not None:
        trs = args.trs or os.path.join(TOP, "corpora", "bench", "imap-dovecot.trs")
        folders = bench_folders(args.bench)
    else:
        trs = args.trs or TRS
        folders = committed_folders()
    responses = run_mailrig(args.mailrig, trs)
    c = check(responses, commands(trs), folders)
    for p in c.problems:
        print("mismatch: " + p)
    reasons = dict(KNOWN)
    reasons.update({(stem, "shape"): "%s: %s" % v for stem, v in DOVECOT_SHAPES.items()})
    if args.verbose:
        for k in sorted(c.known_hits):
            print("known: %s: %s: %s" % (k[0], k[1], reasons[k]))
    if args.bench is None:
        for k in sorted(set(reasons) - c.known_hits):
            print("note: known difference not seen: %s: %s" % k)
    print("check-imap-capture: %d messages, %d body parts, %d addresses, %d fields "
          "compared; %d mismatches, %d known differences"
          % (c.counts["messages"], c.counts["parts"], c.counts["addresses"],
             c.counts["fields"], len(c.problems), len(c.known_hits)))
    return 1 if c.problems else 0


if __name__ == "__main__":
    sys.exit(main())
