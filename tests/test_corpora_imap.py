"""The Dovecot IMAP capture parses, and says what the mailbox holds.

corpora/transcripts/imap-dovecot.trs was captured from Dovecot on loopback
over corpora/mailbox-imap/ (INBOX) and corpora/mailbox/ (Archive) by
corpora/tools/capture.py (docs/corpora.md).  `mailrig parse imap
--dialogue` must read it without error, and
corpora/tools/check-imap-capture.py compares every ENVELOPE and
BODYSTRUCTURE it reports, and every BODY[HEADER] and BODY[], with what
the generator (make-mailbox.py) and the .eml files say: the MIME shape,
each part's type, parameters, sizes, line counts, dispositions and RFC
2231 file names, groups, decoded display names, mailbox and host of every
address.  Known differences (Dovecot quirks, the email package's own) are
listed in the checker and skipped; anything else fails here.
"""
import importlib.util
import os
import subprocess

import mailrig_cases as mc

TOOLS = os.path.join(mc.TOP, "corpora", "tools")
TRS = os.path.join(mc.TOP, "corpora", "transcripts", "imap-dovecot.trs")


def load_checker():
    spec = importlib.util.spec_from_file_location(
        "check_imap_capture", os.path.join(TOOLS, "check-imap-capture.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def parse(mailrig, *args):
    return mc.parse_transcript(mailrig, TRS, *args)


def test_mailboxes_are_what_the_generator_makes():
    """corpora/mailbox and corpora/mailbox-imap are byte for byte what
    make-mailbox.py writes, and its hand-written SHAPES agree with Python's
    email package (except where make-mailbox.py says why not)."""
    proc = subprocess.run(["/usr/bin/python3", os.path.join(TOOLS, "make-mailbox.py"),
                           "--check"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


def test_imap_capture_parses(mailrig):
    rc, got, err = parse(mailrig)
    assert rc == 0, err.decode(errors="replace")
    assert got[0]["greeting"] is True
    assert got[-1]["kind"] == "tagged" and got[-1]["cmd"] == "LOGOUT"
    mc.assert_ranges_tile(got)
    # Every tagged response names the command it completes.
    assert all(r["cmd"] for r in got if r["kind"] == "tagged")


def test_imap_capture_matches_the_mailbox(mailrig):
    chk = load_checker()
    rc, got, err = parse(mailrig)
    assert rc == 0, err.decode(errors="replace")
    c = chk.check(got, chk.commands(TRS), chk.committed_folders())
    assert c.problems == []
    # The comparison really happened: both folders, every part, every address.
    assert c.counts["messages"] == 44 + 40 + 2
    assert c.counts["parts"] > 200 and c.counts["addresses"] > 500
    # And every known difference is still there (else it is stale).
    assert {k for k in c.known_hits} == set(chk.KNOWN) | {
        (s, "shape") for s in chk.DOVECOT_SHAPES}


def test_imap_capture_strict_finds_only_dovecots_empty_subtype(mailrig):
    """In strict mode the one thing to report is Dovecot's "text" ""
    BODYSTRUCTURE for a part whose Content-Type has no subtype
    (37-odd-content-types.eml, part 4)."""
    rc, got, _ = parse(mailrig, "--strict")
    assert rc == 0
    diags = [(r["type"], r["number"], d["message"]) for r in got for d in r["diagnostics"]]
    assert diags == [("FETCH", 37, "empty media type or subtype")]
