"""Real-server transcripts in corpora/transcripts/ parse to their expected output.

Each NAME.trs (captured from Dovecot or Exim on loopback, see
docs/corpora.md) has NAME.expected.jsonl beside it: what
`mailrig parse PROTO --dialogue NAME.trs` printed when it was reviewed.
The Dovecot session is also checked against an independent oracle: the
mailbox it served (corpora/mailbox/), message by message.

To refresh an expected file after a reviewed change:
    build/mailrig parse pop3 --dialogue corpora/transcripts/X.trs > corpora/transcripts/X.expected.jsonl
"""
import glob
import json
import os

import pytest

import mailrig_cases as mc
from mailrig_cases import parse_transcript, protocol_of

TRANSCRIPTS = os.path.join(mc.TOP, "corpora", "transcripts")
MAILBOX = os.path.join(mc.TOP, "corpora", "mailbox")

TRS = sorted(glob.glob(os.path.join(TRANSCRIPTS, "*.trs")))


def test_there_are_real_transcripts():
    protos = {protocol_of(p) for p in TRS}
    assert {"pop3", "smtp", "imap"} <= protos


@pytest.mark.parametrize("path", TRS, ids=[os.path.basename(p) for p in TRS])
def test_transcript_matches_expected(mailrig, path):
    rc, got, err = parse_transcript(mailrig, path)
    assert rc == 0, err.decode(errors="replace")
    with open(path[:-len(".trs")] + ".expected.jsonl", encoding="utf-8") as f:
        want = [json.loads(l) for l in f if l.strip()]
    assert len(got) == len(want)
    for i, (g, w) in enumerate(zip(got, want)):
        assert g == w, "response %d differs" % i
    mc.assert_ranges_tile(got)


# What strict mode rightly reports about the real servers (docs/corpora.md):
# Dovecot sends "Content-Type: text" (no subtype) as "text" "" in BODYSTRUCTURE.
STRICT_EXPECTED = {"imap-dovecot.trs": [("untagged", "empty media type or subtype")]}


@pytest.mark.parametrize("path", TRS, ids=[os.path.basename(p) for p in TRS])
def test_real_servers_are_clean_in_strict_mode(mailrig, path):
    """Dovecot and Exim follow the RFCs: strict mode reports only their known quirks."""
    rc, got, _ = parse_transcript(mailrig, path, "--strict")
    assert rc == 0
    diags = [(r["kind"], d["message"]) for r in got for d in r["diagnostics"]]
    want = STRICT_EXPECTED.get(os.path.basename(path), [])
    assert [(k, m) for k, m in diags if not any(w in m for _, w in want)] == []
    assert len(diags) == len(want)


def test_dovecot_retr_bodies_are_the_mailbox(mailrig):
    rc, got, _ = parse_transcript(mailrig, os.path.join(TRANSCRIPTS, "pop3-dovecot.trs"))
    assert rc == 0
    files = sorted(glob.glob(os.path.join(MAILBOX, "*.eml")))
    stat = [r for r in got if r["kind"] == "stat" and r["status"] == "+OK"]
    assert stat and stat[0]["fields"]["count"] == len(files)
    lists = [r for r in got if r["kind"] == "list" and r["status"] == "+OK"]
    assert [e["msg"] for e in lists[0]["fields"]["entries"]] == list(range(1, len(files) + 1))
    uidls = [r for r in got if r["kind"] == "uidl" and r["status"] == "+OK"]
    uids = [e["uid"] for e in uidls[0]["fields"]["entries"]]
    assert len(set(uids)) == len(files)
    retrs = [r for r in got if r["kind"] == "retr" and r["status"] == "+OK"]
    assert len(retrs) >= len(files)
    for path, r in zip(files, retrs):
        with open(path, "rb") as f:
            data = f.read()
        if not data.endswith(b"\r\n"):
            data += b"\r\n"  # a POP3 server ends the last line (RFC 1939 3)
        assert r["body_bytes"] == len(data), path
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            continue  # JSON replaces invalid UTF-8; the byte count above still holds
        assert "".join(l + "\r\n" for l in r["lines"]) == text, path
