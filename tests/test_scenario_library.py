#!/usr/bin/python3
"""The scenario library, conformance/scenarios/ (its README.md says what
it is): every file is a valid scenario ("mailrig scenario check"), the
library is big enough, names are unique and follow the file names, every
scenario says what it checks (description, rfc) and what the client must
report (an "expect exit", or the tag exit-either where the RFCs allow
both outcomes), and README.md is what index.py writes.

The binary is the one the other tests use (conftest.py: $MAILRIG, else
build/mailrig).
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

TOP = Path(__file__).resolve().parent.parent
LIB = TOP / "conformance" / "scenarios"
INDEX = LIB / "index.py"
PROTOCOLS = ("imap", "pop3", "smtp")
MINIMUM = {"imap": 60, "pop3": 30, "smtp": 30}
CLASSES = {"starttls", "implicit", "framing", "state", "sasl", "workflow"}
# The client behaviours a scenario may need (the runner's fixed names).
FEATURES = {"auth", "auth-plain", "auth-login", "auth-cram-md5", "apop", "user-pass",
            "delete", "keep", "mark-seen", "headers-only", "folders"}
FILES = sorted(p for proto in PROTOCOLS for p in (LIB / proto).glob("*.scn"))
# At most this share of the library may go without an "expect exit".
MAX_EXIT_EITHER = 0.10
# The library must stay fast: no client hang limit above this (ms).
MAX_CLIENT_TIMEOUT = 15000


def words(text):
    return [w.strip() for w in (text or "").split(",") if w.strip()]


@pytest.fixture(scope="module")
def library(mailrig):
    """file -> the scenario as "mailrig scenario check --json" reads it."""
    assert FILES, "no scenario files under %s" % LIB
    p = subprocess.run([mailrig, "scenario", "check", "--json", *map(str, FILES)],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    assert p.returncode == 0, p.stderr.decode("utf-8", "replace")
    objs = [json.loads(line) for line in p.stdout.decode("utf-8").splitlines() if line.strip()]
    return {Path(o["file"]): o for o in objs}


def test_every_file_is_a_valid_scenario(library):
    assert sorted(library) == FILES


def test_counts():
    for proto, least in MINIMUM.items():
        n = len(list((LIB / proto).glob("*.scn")))
        assert n >= least, "%s: %d scenarios, at least %d wanted" % (proto, n, least)


def test_names_unique_and_match_file_names(library):
    seen = {}
    for path, sc in library.items():
        proto = path.parent.name
        assert sc["protocol"] == proto, "%s: protocol %s in %s/" % (path, sc["protocol"], proto)
        assert sc["name"] == "%s-%s" % (proto, path.stem), "%s: name %s" % (path, sc["name"])
        assert sc["name"] not in seen, "%s and %s are both %s" % (seen.get(sc["name"]), path,
                                                                 sc["name"])
        seen[sc["name"]] = path


def test_file_names_start_with_a_class():
    for path in FILES:
        cls = path.stem.split("-", 1)[0]
        assert cls in CLASSES and "-" in path.stem, "%s: not CLASS-what.scn" % path


def test_description_and_rfc(library):
    for path, sc in library.items():
        assert (sc["description"] or "").strip(), "%s: no description" % path
        assert (sc["rfc"] or "").strip(), "%s: no rfc" % path
        assert "RFC " in sc["rfc"] or "draft-" in sc["rfc"], "%s: rfc %r" % (path, sc["rfc"])


def test_why_it_matters_comment():
    for path in FILES:
        comments = [l for l in path.read_text(encoding="utf-8", errors="replace").splitlines()
                    if l.startswith("#")]
        assert len(comments) >= 4, "%s: no comment block saying why it matters" % path


def test_expect_exit(library):
    either = []
    for path, sc in library.items():
        exits = [e for e in sc["expectations"] if e["kind"] == "exit"]
        tagged = "exit-either" in words(sc["tags"])
        if tagged:
            assert not exits, "%s: tagged exit-either but has %s" % (path, exits[0]["text"])
            assert sc["expectations"], "%s: exit-either with no expectation at all" % path
            either.append(path)
        else:
            assert len(exits) == 1, "%s: %d 'expect exit' lines (one wanted, or the tag " \
                                    "exit-either)" % (path, len(exits))
    assert len(either) <= MAX_EXIT_EITHER * len(library), either


def test_needs_are_known_features(library):
    for path, sc in library.items():
        for f in words(sc["needs"]):
            assert f in FEATURES, "%s: needs %r, not one of %s" % (path, f, sorted(FEATURES))


def test_runs_and_timeouts(library):
    for path, sc in library.items():
        assert 1 <= sc["runs"] <= 10, path
        assert sc["client_timeout"] <= MAX_CLIENT_TIMEOUT, \
            "%s: client-timeout %d ms makes the library slow" % (path, sc["client_timeout"])
        if sc["runs"] > 1:
            assert "keep" in words(sc["needs"]), \
                "%s: several runs only make sense for a client that keeps state" % path


def test_mailboxes_exist(library):
    for path, sc in library.items():
        if sc["mailbox"]:
            assert (path.parent / sc["mailbox"]).is_dir(), "%s: mailbox %s" % (path, sc["mailbox"])


def test_readme_is_up_to_date():
    p = subprocess.run([sys.executable, str(INDEX), "--check"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60)
    assert p.returncode == 0, p.stderr.decode("utf-8", "replace")
