#!/usr/bin/python3
"""Write conformance/scenarios/README.md from the scenario files.

    python3 conformance/scenarios/index.py           # rewrite README.md
    python3 conformance/scenarios/index.py --check   # exit 1 if it is out of date

The README's tables (one per protocol: scenario, class, RFC, expected
exit, what it checks) come from the metadata lines at the top of each
imap/, pop3/ and smtp/*.scn file (name, description, rfc, tags, needs,
runs) and from its "expect exit" line.  The coverage checklist is the
list COVERAGE below: each point of the library's brief, with the
scenarios that cover it; a name that matches no file is an error, so the
list cannot drift from the files either.

Python 3 standard library only.  Exit status: 0 written (or up to date
with --check), 1 out of date (--check) or an inconsistency (a scenario
named in COVERAGE missing, a file without name, protocol, description or
rfc), 2 bad usage.
"""

import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
README = os.path.join(HERE, "README.md")
PROTOCOLS = ("imap", "pop3", "smtp")
CLASSES = ("starttls", "implicit", "framing", "state", "sasl", "workflow")
KEYS = ("name", "protocol", "description", "rfc", "tags", "tls", "cert", "user",
        "password", "mailbox", "seed", "timeout", "needs", "runs", "client-timeout")

# (section, point, [scenario names]).  Keep it in the order of the
# library's brief; the first names of a point are the ones that meet it
# most directly.
COVERAGE = [
    ("STARTTLS", "stripping: STARTTLS/STLS not offered", [
        "imap-starttls-stripped-not-offered", "pop3-starttls-stripped-not-offered",
        "pop3-starttls-stripped-capa-err", "smtp-starttls-stripped-not-offered"]),
    ("STARTTLS", "stripping: answered NO (-ERR, 454)", [
        "imap-starttls-stripped-no", "pop3-starttls-stripped-err", "smtp-starttls-stripped-454"]),
    ("STARTTLS", "stripping: answered BAD (500)", [
        "imap-starttls-stripped-bad", "smtp-starttls-stripped-500"]),
    ("STARTTLS", "stripping: answered with a continuation", [
        "imap-starttls-stripped-continuation", "pop3-starttls-stripped-continuation",
        "smtp-starttls-stripped-354"]),
    ("STARTTLS", "response injection in the same segment as the reply", [
        "imap-starttls-injection-join-capability", "imap-starttls-injection-join-tagged",
        "pop3-starttls-injection-join", "smtp-starttls-injection-join"]),
    ("STARTTLS", "response injection before the reply", [
        "imap-starttls-injection-before-reply", "pop3-starttls-injection-before-reply",
        "smtp-starttls-injection-before-reply"]),
    ("STARTTLS", "response injection after the reply", [
        "imap-starttls-injection-after-reply", "pop3-starttls-injection-after-reply",
        "smtp-starttls-injection-after-reply"]),
    ("STARTTLS", "PREAUTH greeting when TLS is required", [
        "imap-starttls-preauth-greeting"]),
    ("STARTTLS", "untagged EXISTS and FETCH injected before STARTTLS", [
        "imap-starttls-injected-untagged-exists-fetch", "imap-starttls-injection-before-reply"]),
    ("STARTTLS", "untagged LIST injected before STARTTLS", [
        "imap-starttls-injected-untagged-list"]),
    ("STARTTLS", "untagged CAPABILITY and ALERT injected before STARTTLS", [
        "imap-starttls-injected-untagged-alert-capability", "imap-starttls-injection-before-reply"]),
    ("STARTTLS", "fake upgrade (OK, then no TLS)", [
        "imap-starttls-fake-upgrade", "pop3-starttls-fake-upgrade", "smtp-starttls-fake-upgrade"]),
    ("STARTTLS", "certificate: self-signed", [
        "imap-implicit-cert-self-signed", "imap-starttls-cert-self-signed",
        "pop3-starttls-cert-self-signed", "smtp-starttls-cert-self-signed"]),
    ("STARTTLS", "certificate: expired", [
        "imap-implicit-cert-expired", "imap-starttls-cert-expired",
        "pop3-starttls-cert-expired", "smtp-implicit-cert-expired"]),
    ("STARTTLS", "certificate: wrong name", [
        "imap-implicit-cert-wrong-host", "imap-starttls-cert-wrong-host",
        "pop3-implicit-cert-wrong-host", "smtp-starttls-cert-wrong-host"]),
    ("STARTTLS", "certificate: unknown CA", [
        "imap-implicit-cert-unknown-ca", "imap-starttls-cert-unknown-ca",
        "pop3-implicit-cert-unknown-ca", "smtp-implicit-cert-unknown-ca"]),
    ("framing", "literal split across segments", [
        "imap-framing-literal-split", "pop3-framing-retr-split", "smtp-framing-reply-split"]),
    ("framing", "one-byte drip", [
        "imap-framing-drip-response", "pop3-framing-retr-drip", "smtp-framing-reply-drip"]),
    ("framing", "zero-length literal", ["imap-framing-literal-zero"]),
    ("framing", "literal inside ENVELOPE", ["imap-framing-envelope-literal"]),
    ("framing", "a line of 1 MB", [
        "imap-framing-long-line-1mb", "pop3-framing-line-1mb", "smtp-framing-reply-1mb"]),
    ("framing", "announced literal of 4 GB", [
        "imap-framing-literal-4gb-eof", "imap-framing-literal-4gb-stall"]),
    ("framing", "endless multi-line POP3 and SMTP replies", [
        "pop3-framing-retr-endless", "smtp-framing-ehlo-endless"]),
    ("framing", "bare LF line ends", [
        "imap-framing-bare-lf", "pop3-framing-bare-lf", "smtp-framing-bare-lf"]),
    ("framing", "NUL bytes", ["imap-framing-nul-bytes", "pop3-framing-nul-bytes"]),
    ("framing", "invalid UTF-8", ["imap-framing-invalid-utf8", "imap-framing-8bit-headers"]),
    ("state", "unsolicited EXPUNGE and EXISTS during FETCH", [
        "imap-state-unsolicited-expunge-exists-fetch", "imap-state-exists-decreasing",
        "imap-state-exists-huge"]),
    ("state", "BYE mid-session", ["imap-state-bye-mid-session", "imap-state-bye-then-tagged-ok"]),
    ("state", "server closing mid-literal", [
        "imap-state-close-mid-literal", "imap-framing-literal-overlong-close",
        "imap-framing-literal-4gb-eof"]),
    ("state", "server closing mid-multi-line", [
        "pop3-state-close-mid-retr", "smtp-state-close-mid-ehlo"]),
    ("state", "421 in the middle of an SMTP transaction", [
        "smtp-state-421-on-rcpt", "smtp-state-421-after-data"]),
    ("state", "-ERR [IN-USE]", ["pop3-state-pass-in-use"]),
    ("state", "-ERR [LOGIN-DELAY]", ["pop3-state-pass-login-delay"]),
    ("state", "[ALERT] texts", ["imap-state-alert-texts", "imap-state-alert-login-failure"]),
    ("state", "unknown response codes and data", [
        "imap-state-unknown-codes-untagged", "pop3-state-unknown-resp-codes"]),
    ("state", "capability changes after login (or after TLS)", [
        "imap-state-capability-change-after-login", "smtp-state-starttls-capabilities-change",
        "imap-starttls-logindisabled"]),
    ("SASL", "PLAIN", ["imap-sasl-plain", "pop3-sasl-plain", "smtp-sasl-plain"]),
    ("SASL", "LOGIN", ["imap-sasl-login", "pop3-sasl-login", "smtp-sasl-login"]),
    ("SASL", "CRAM-MD5", ["imap-sasl-cram-md5", "pop3-sasl-cram-md5", "smtp-sasl-cram-md5"]),
    ("SASL", "aborted exchanges", [
        "imap-sasl-aborted-exchange", "pop3-sasl-server-aborts", "smtp-sasl-server-aborts",
        "smtp-sasl-535-failure"]),
    ("SASL", "endless challenge loops", [
        "imap-sasl-endless-challenge", "pop3-sasl-endless-challenge", "smtp-sasl-endless-334"]),
    ("workflows", "POP3 download-and-delete (DELE, QUIT commits)", ["pop3-workflow-download-delete"]),
    ("workflows", "POP3 leave-on-server (two runs, nothing fetched twice)", [
        "pop3-workflow-leave-on-server", "pop3-workflow-uidl-second-session",
        "pop3-state-uidl-duplicates"]),
    ("workflows", "IMAP flags synced back (\\Seen, \\Answered, \\Deleted)", [
        "imap-workflow-flags-synced", "imap-workflow-delete-after-download",
        "imap-state-read-only-delete"]),
    ("workflows", "IMAP headers-only fetch", ["imap-workflow-headers-only"]),
    ("workflows", "IMAP folders", [
        "imap-workflow-folders-subfolder", "imap-workflow-folders-dot-delimiter",
        "imap-workflow-folders-nil-delimiter", "imap-workflow-folders-modified-utf7"]),
    ("workflows", "SMTP submission with AUTH on 587 with STARTTLS", [
        "smtp-workflow-submission-587-starttls"]),
    ("workflows", "SMTP submission with AUTH on 465 with implicit TLS", [
        "smtp-workflow-submission-465-implicit"]),
    ("IMAP ideas", "implicit TLS, wrong host / unknown CA", [
        "imap-implicit-cert-wrong-host", "imap-implicit-cert-unknown-ca"]),
    ("IMAP ideas", "STARTTLS, self-signed / expired", [
        "imap-starttls-cert-self-signed", "imap-starttls-cert-expired"]),
    ("IMAP ideas", "FETCH items in an unusual order", ["imap-framing-fetch-items-reordered"]),
    ("IMAP ideas", "a fetch answered with extra, unrequested messages", [
        "imap-state-uid-fetch-extra-messages"]),
    ("IMAP ideas", "FETCH data for a message the client did not ask for", [
        "imap-state-unsolicited-fetch-other-message"]),
    ("IMAP ideas", "EXISTS decreasing", ["imap-state-exists-decreasing"]),
    ("IMAP ideas", "EXISTS 4294967295", ["imap-state-exists-huge"]),
    ("IMAP ideas", "untagged BYE, then a tagged OK", ["imap-state-bye-then-tagged-ok"]),
    ("IMAP ideas", "continuation \"+\" where none is expected", ["imap-state-continuation-unexpected"]),
    ("IMAP ideas", "BODYSTRUCTURE nested 1000 levels deep", ["imap-framing-bodystructure-deep-nesting"]),
    ("IMAP ideas", "a multipart of 100,000 parts", ["imap-framing-bodystructure-100000-parts"]),
    ("IMAP ideas", "quoted strings with escapes in ENVELOPE", ["imap-framing-envelope-quoted-escapes"]),
    ("IMAP ideas", "NIL where a string could be", ["imap-framing-nil-strings"]),
    ("IMAP ideas", "BODY[] as a quoted string", ["imap-framing-body-quoted-string"]),
    ("IMAP ideas", "CAPABILITY with IMAP4rev2 only", ["imap-state-capability-imap4rev2-only"]),
    ("IMAP ideas", "LOGINDISABLED with STARTTLS", ["imap-starttls-logindisabled"]),
    ("IMAP ideas", "[ALERT] on a LOGIN failure", ["imap-state-alert-login-failure"]),
    ("IMAP ideas", "LIST with a \".\" and a NIL delimiter", [
        "imap-workflow-folders-dot-delimiter", "imap-workflow-folders-nil-delimiter"]),
    ("IMAP ideas", "mailbox names in modified UTF-7", ["imap-workflow-folders-modified-utf7"]),
    ("IMAP ideas", "[READ-ONLY] while selected", ["imap-state-read-only-delete"]),
    ("IMAP ideas", "literal size larger than the data, then close", [
        "imap-framing-literal-overlong-close"]),
    ("IMAP ideas", "8-bit bytes in headers", ["imap-framing-8bit-headers"]),
]

# Points of the brief that no scenario covers, with the reason.
NOT_COVERED = [
    ("IMAP ideas", "SELECT returning a changed UIDVALIDITY",
     "the default SELECT answer carries UIDVALIDITY 1 and a rule cannot rewrite it without "
     "losing the SELECT's state; a scripted SELECT leaves the server unselected"),
    ("IMAP ideas", "[TRYCREATE]",
     "no client profile APPENDs or COPYs, so no command would ever get it"),
    ("IMAP ideas", "a tagged response with an unknown tag",
     "both ignoring it and giving up are correct, and taking it as one's own answer cannot be "
     "told apart from either by the server or the exit status"),
    ("IMAP ideas", "LITERAL+ syntax {N+} in server responses",
     "RFC 7888 does not allow it from servers; a client may refuse it or read it as a "
     "literal, so no outcome is clearly the correct one"),
]

INTRO = """\
# The scenario library

Scenario files (`.scn`, [docs/scenarios.md](../../docs/scenarios.md)) that
script `mailrig serve` into the server conditions mail clients get wrong:
STARTTLS stripping and injection, bad certificates, odd framing,
unexpected state, SASL corner cases, and the normal workflows done
right.  `mailrig run --client PROFILE conformance/scenarios` plays each
one to a real client (profiles in [../clients/](../clients/)) and judges
what it did.  What real clients did is in
[OBSERVATIONS.md](OBSERVATIONS.md).

This README is written by `index.py` from the files' metadata (do not
edit the tables by hand):

```sh
python3 conformance/scenarios/index.py          # rewrite README.md
python3 conformance/scenarios/index.py --check  # exit 1 if out of date
```

`tests/test_scenario_library.py` checks every file with `mailrig
scenario check`, the counts, the names, the metadata and that this README
is up to date.

## Files and names

- `imap/`, `pop3/`, `smtp/`: one directory per protocol.  A file is
  `CLASS-what.scn`, and its `name:` is `PROTOCOL-CLASS-what` (the file
  name without `.scn`, after the protocol): `imap/starttls-stripped-no.scn`
  is `imap-starttls-stripped-no`.  Names are unique.
- CLASS is one of:

  | class | what |
  |---|---|
  | `starttls` | STARTTLS/STLS: stripping, response injection, fake upgrade, certificates presented after STARTTLS |
  | `implicit` | implicit TLS (993, 995, 465): certificates |
  | `framing` | how responses are cut, delimited and sized: segments, drips, literals, long lines, bare LF, NUL, 8-bit |
  | `state` | what the server says and when: unsolicited data, BYE, closes mid-response, response codes, capability changes |
  | `sasl` | SASL mechanisms, aborted and endless exchanges (and APOP) |
  | `workflow` | a normal task done right: delete after download, leave on server, flags, folders, submission |

- `imap/mailboxes/`: the two mailboxes that scenarios name with
  `mailbox:` (the others use the server's default mailbox,
  [corpora/mailbox/default](../../corpora/mailbox/README.md)).

## What each file holds

In this order:

1. Metadata: `name`, `protocol`, `description` (one line: the condition
   and what the client must do), `rfc` (the sections, checked against the
   RFC texts), `tags`, and where it matters `needs` (the client
   behaviour the scenario relies on: `auth`, `auth-plain`, `auth-login`,
   `auth-cram-md5`, `apop`, `user-pass`, `delete`, `keep`, `mark-seen`,
   `headers-only`, `folders`; a profile without it skips the scenario),
   `runs` (the client runs that many times; only the last session is
   judged), `tls`, `cert`, `mailbox`, `timeout` (the server's idle limit)
   and `client-timeout` (the client's hang limit: 5 to 8 s where hanging
   is the expected bug, 10 to 15 s otherwise).
2. A comment block: why it matters (the bug class, a CVE or study where
   there is one, the RFC rule), what the rules do, and what a correct
   client does.
3. The rules that produce the condition.
4. The expectations.  The server judges `send`, `no-send`, `order`,
   `silent-after` and `close-within`; the runner judges `exit`, `output`,
   `no-output`, `memory-below`, `messages`, `flag`, `no-flag` and
   `submitted`, and always counts a crash (a signal, a sanitizer report)
   and a hang (killed at `client-timeout`) as failures.

Conventions:

- Every scenario says `expect exit success` or `expect exit failure`,
  except the few tagged `exit-either`, where the RFCs allow both (a client
  may drop injected bytes and go on, or refuse the connection: RFC 9051
  6.2.1 gives servers the same two choices; a client may accept a 1 MiB
  line or refuse it at its limit).  Those are judged on their other
  expectations and on the crash and hang checks only.
- `close-within` is only used where the server never closes (a `stall`,
  or a `half-close` with LOGOUT/QUIT left unanswered): it fails when the
  server closed first.  Elsewhere LOGOUT and QUIT get the server's own
  answer (which closes), and "the client gave up" is `expect exit
  failure`.
- A rule that must keep the server's state (LOGIN, EHLO, STLS, DATA's
  reply) uses `default`, not `send`: a scripted answer leaves the state
  unchanged.
- Body-fetch rules act on the first `BODY[]`/`BODY.PEEK[]` fetch, and on
  the first `BODY[TEXT]` fetch for clients that fetch header and text
  apart (fetchmail); literal sizes assume the default mailbox (message 1
  is 386 octets, its text 135).
- The whole library runs in well under a minute with two jobs
  (`mailrig run -j 2`); keep delays short.
"""


def parse(path):
    """Metadata (dict) and expectation lines (list) of one .scn file."""
    meta, expects = {}, []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.rstrip("\r\n")
            if line.startswith("expect "):
                expects.append(line)
                continue
            m = re.match(r"^([a-z-]+):(.*)$", line)
            if m and m.group(1) in KEYS and m.group(1) not in meta:
                meta[m.group(1)] = m.group(2).strip()
    return meta, expects


def scenarios():
    out = []
    for proto in PROTOCOLS:
        d = os.path.join(HERE, proto)
        for fn in sorted(os.listdir(d)):
            if not fn.endswith(".scn"):
                continue
            meta, expects = parse(os.path.join(d, fn))
            tags = [t.strip() for t in meta.get("tags", "").split(",") if t.strip()]
            exit_ = "either" if "exit-either" in tags else "?"
            for e in expects:
                w = e.split()
                if len(w) >= 3 and w[1] == "exit":
                    exit_ = w[2]
            out.append({"proto": proto, "file": proto + "/" + fn, "stem": fn[:-4],
                        "cls": fn.split("-", 1)[0], "meta": meta, "exit": exit_,
                        "tags": tags})
    return out


def cell(text):
    """Text for a Markdown table cell."""
    text = text.replace("|", "\\|").replace("*", "\\*").replace("<", "&lt;")
    return text.replace("_", "\\_")


def render(scs, errors):
    by_name = {s["meta"].get("name"): s for s in scs}
    for s in scs:
        for k in ("name", "protocol", "description", "rfc"):
            if k not in s["meta"]:
                errors.append("%s: no %s" % (s["file"], k))
    out = [INTRO]
    counts = {p: sum(1 for s in scs if s["proto"] == p) for p in PROTOCOLS}
    out.append("## Scenarios\n")
    out.append("%d scenarios: %s.  Exit: the outcome the client must report "
               "(`either`: tag exit-either).  Needs: the client behaviour the "
               "scenario relies on.\n" % (
                   len(scs), ", ".join("%d %s" % (counts[p], p.upper()) for p in PROTOCOLS)))
    for proto in PROTOCOLS:
        out.append("### %s (%d)\n" % (proto.upper(), counts[proto]))
        out.append("| scenario | class | RFC | exit | needs | what it checks |")
        out.append("|---|---|---|---|---|---|")
        for s in scs:
            if s["proto"] != proto:
                continue
            m = s["meta"]
            needs = m.get("needs", "")
            if "runs" in m:
                needs = (needs + ", " if needs else "") + "runs: " + m["runs"]
            out.append("| [%s](%s) | %s | %s | %s | %s | %s |" % (
                m.get("name", s["stem"]), s["file"], s["cls"], cell(m.get("rfc", "")),
                s["exit"], cell(needs), cell(m.get("description", ""))))
        out.append("")
    out.append("## Coverage\n")
    out.append("Each point of the library's brief and the scenarios that cover it "
               "(from `COVERAGE` in index.py).\n")
    section = None
    for sec, point, names in COVERAGE:
        if sec != section:
            if section is not None:
                out.append("")
            out.append("### %s\n" % sec)
            out.append("| point | scenarios |")
            out.append("|---|---|")
            section = sec
        links = []
        for n in names:
            s = by_name.get(n)
            if s is None:
                errors.append("COVERAGE names %s, which no file has" % n)
                links.append(n)
            else:
                links.append("[%s](%s)" % (n, s["file"]))
        out.append("| %s | %s |" % (cell(point), ", ".join(links)))
    out.append("")
    out.append("### Not covered\n")
    out.append("| point | why |")
    out.append("|---|---|")
    for sec, point, why in NOT_COVERED:
        out.append("| %s: %s | %s |" % (sec, cell(point), cell(why)))
    out.append("")
    return "\n".join(out)


def main(argv):
    check = False
    for a in argv[1:]:
        if a == "--check":
            check = True
        elif a in ("-h", "--help"):
            print(__doc__.strip())
            return 0
        else:
            print("usage: index.py [--check]", file=sys.stderr)
            return 2
    errors = []
    text = render(scenarios(), errors)
    for e in errors:
        print("index.py: " + e, file=sys.stderr)
    if errors:
        return 1
    if check:
        try:
            with open(README, encoding="utf-8") as f:
                old = f.read()
        except OSError:
            old = None
        if old != text:
            print("index.py: %s is out of date: run python3 conformance/scenarios/index.py"
                  % os.path.relpath(README), file=sys.stderr)
            return 1
        return 0
    with open(README, "w", encoding="utf-8") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
