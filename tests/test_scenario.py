#!/usr/bin/python3
"""The scenario reader (docs/scenarios.md) through "mailrig scenario check".

Data-driven, one case per file (docs/testing.md's habit):

  tests/data/scenario/ok/NAME.scn   a valid scenario; NAME.json is what
                                    "check --json NAME.scn" prints (indented
                                    here; compared as JSON, key order too)
  tests/data/scenario/bad/NAME.scn  an invalid one; NAME.err is the one line
                                    "NAME.scn:LINE:COL: message" on stderr

Cases run from their own folder, so FILE is the bare file name.  Every
message the reader can report (each fail() format in
fake-servers/mr_scenario.c) must be the message of some bad case, or of
the limit tests below, and every example in docs/scenarios.md must be an
ok case, byte for byte.

To write the expected files from the current output (then read them):

    tests/test_scenario.py --regen [--mailrig build/mailrig] [CASE.scn...]
"""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import mailrig_cases as mc

TESTS = Path(__file__).resolve().parent
TOP = TESTS.parent
DATA = TESTS / "data" / "scenario"
OK = sorted((DATA / "ok").glob("*.scn"))
BAD = sorted((DATA / "bad").glob("*.scn"))
READER = TOP / "fake-servers" / "mr_scenario.c"
DOC = TOP / "docs" / "scenarios.md"

# fail() formats that no case can reach through the CLI: allocation
# failure, and 4 billion lines (the line limit comes first).
UNREACHABLE = {"out of memory", "too many lines"}


def check(mailrig, *args, cwd=None):
    return subprocess.run([mailrig, "scenario", *map(str, args)], cwd=cwd,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)


def pretty(text):
    """--json output (one object per line) as the indented .json form."""
    objs = [json.loads(l) for l in text.splitlines() if l.strip()]
    return "".join(json.dumps(o, indent=2, ensure_ascii=False) + "\n" for o in objs)


# ------------------------------------------------------------ the cases

@pytest.mark.parametrize("scn", OK, ids=lambda p: p.name)
def test_ok_case(mailrig, scn):
    p = check(mailrig, "check", scn.name, cwd=scn.parent)
    mc.no_sanitizer_report(p)
    assert p.returncode == 0, p.stderr.decode("utf-8", "replace")
    assert re.fullmatch(rf"{re.escape(scn.name)}: ok \(\d+ rules?, \d+ expectations?\)\n",
                        p.stdout.decode()), p.stdout
    assert p.stderr == b""
    p = check(mailrig, "check", "--json", scn.name, cwd=scn.parent)
    mc.no_sanitizer_report(p)
    assert p.returncode == 0
    assert len(p.stdout.splitlines()) == 1
    want = scn.with_suffix(".json").read_text(encoding="utf-8")
    assert pretty(p.stdout.decode("utf-8")) == want


@pytest.mark.parametrize("scn", BAD, ids=lambda p: p.name)
def test_bad_case(mailrig, scn):
    p = check(mailrig, "check", scn.name, cwd=scn.parent)
    mc.no_sanitizer_report(p)
    assert p.returncode == 1
    assert p.stdout == b""
    want = scn.with_suffix(".err").read_text(encoding="utf-8")
    assert p.stderr.decode("utf-8", "replace") == want
    # --json prints nothing for a file that does not read
    p = check(mailrig, "check", "--json", scn.name, cwd=scn.parent)
    assert p.returncode == 1 and p.stdout == b""


def test_every_case_has_its_expectation():
    assert len(OK) >= 5 and len(BAD) >= 40
    for scn in OK:
        assert scn.with_suffix(".json").exists(), f"{scn} has no .json"
    for scn in BAD:
        assert scn.with_suffix(".err").exists(), f"{scn} has no .err"
    for f in list((DATA / "ok").iterdir()) + list((DATA / "bad").iterdir()):
        assert f.with_suffix(".scn").exists(), f"{f} has no .scn beside it"


def test_doc_examples_are_ok_cases():
    doc = DOC.read_text(encoding="utf-8")
    blocks = re.findall(r"```scenario\n(.*?)```\n\n\(`(tests/data/scenario/ok/[^`]+)`\)", doc,
                        re.S)
    assert len(blocks) == doc.count("```scenario"), "a scenario block without its case file"
    assert len(blocks) >= 5
    for text, path in blocks:
        assert (TOP / path).read_text(encoding="utf-8") == text, f"{path} differs from the docs"


# ------------------------------------------------------------ limits

def test_line_too_long(mailrig, tmp_path):
    f = tmp_path / "long.scn"
    f.write_bytes(b"name: x\nprotocol: imap\ndescription: " + b"y" * (1 << 20) + b"\n")
    p = check(mailrig, "check", f.name, cwd=tmp_path)
    assert p.returncode == 1
    assert p.stderr.decode() == f"long.scn:3:{(1 << 20) + 1}: line longer than 1048576 bytes\n"


def test_file_too_large(mailrig, tmp_path):
    f = tmp_path / "big.scn"
    f.write_bytes(b"name: x\nprotocol: imap\n" + b"\n" * (16 << 20))
    p = check(mailrig, "check", f.name, cwd=tmp_path)
    assert p.returncode == 1
    assert p.stderr.decode() == "big.scn:1:1: file larger than 16777216 bytes\n"


def test_too_many_steps(mailrig, tmp_path):
    f = tmp_path / "steps.scn"
    f.write_bytes(b"name: x\nprotocol: imap\n" + b"expect close-within 1\n" * 100001)
    p = check(mailrig, "check", f.name, cwd=tmp_path)
    assert p.returncode == 1
    assert p.stderr.decode() == ("steps.scn:100003:1: more than 100000 steps "
                                 "(rules, actions and expectations)\n")


def test_at_the_limits(mailrig, tmp_path):
    f = tmp_path / "max.scn"
    f.write_bytes(b"name: x\nprotocol: imap\non LOGIN\n" + b"    close\n" * 99998 +
                  b"expect close-within 1\n")
    p = check(mailrig, "check", f.name, cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert p.stdout == b"max.scn: ok (1 rule, 1 expectation)\n"


LIMIT_MESSAGES = ["line longer than 1048576 bytes", "file larger than 16777216 bytes",
                  "more than 100000 steps (rules, actions and expectations)"]


# ------------------------------------------------------------ every message

def test_every_error_has_a_case():
    fmts = mc.c_fail_formats(READER)
    assert len(fmts) > 60, fmts
    messages = LIMIT_MESSAGES + [
        re.sub(r"^[^:]*:\d+:\d+: ", "", scn.with_suffix(".err").read_text().rstrip("\n"))
        for scn in BAD if scn.with_suffix(".err").exists()]
    missing = [f for f in fmts if f not in UNREACHABLE
               and not any(mc.format_regex(f).fullmatch(m) for m in messages)]
    assert not missing, "fail() messages without a bad case:\n  " + "\n  ".join(missing)


# ------------------------------------------------------------ the command line

def test_several_files(mailrig):
    ok, bad = OK[0], BAD[0]
    p = check(mailrig, "check", ok, bad, ok)
    assert p.returncode == 1
    assert p.stdout.decode().count(": ok (") == 2
    assert p.stderr.decode().startswith(str(bad) + ":")


def test_missing_file(mailrig, tmp_path):
    p = check(mailrig, "check", tmp_path / "nope.scn")
    assert p.returncode == 1
    assert p.stderr.decode() == f"{tmp_path / 'nope.scn'}: No such file or directory\n"


@pytest.mark.parametrize("args", [[], ["check"], ["frob"], ["check", "--jsn", "x.scn"],
                                  ["check", "--json"]])
def test_usage_errors(mailrig, args):
    p = check(mailrig, *args)
    assert p.returncode == 2
    assert b"usage: mailrig scenario check" in p.stderr or b"see mailrig scenario --help" \
        in p.stderr


@pytest.mark.parametrize("args", [["--help"], ["-h"], ["check", "--help"]])
def test_help(mailrig, args):
    p = check(mailrig, *args)
    assert p.returncode == 0
    assert p.stdout.startswith(b"usage: mailrig scenario check [--json] FILE...")


def test_double_dash(mailrig, tmp_path):
    f = tmp_path / "-x.scn"
    f.write_bytes(b"name: x\nprotocol: pop3\n")
    p = check(mailrig, "check", "--", "-x.scn", cwd=tmp_path)
    assert p.returncode == 0 and p.stdout == b"-x.scn: ok (0 rules, 0 expectations)\n"


# ------------------------------------------------------------ regeneration

def regen(mailrig, cases):
    for scn in cases:
        scn = Path(scn).resolve()
        if scn.parent.name == "ok":
            p = check(mailrig, "check", "--json", scn.name, cwd=scn.parent)
            if p.returncode != 0:
                print(f"{scn}: does not read: {p.stderr.decode()}", file=sys.stderr)
                continue
            scn.with_suffix(".json").write_text(pretty(p.stdout.decode("utf-8")),
                                                encoding="utf-8")
        else:
            p = check(mailrig, "check", scn.name, cwd=scn.parent)
            if p.returncode != 1:
                print(f"{scn}: reads (exit {p.returncode})", file=sys.stderr)
                continue
            scn.with_suffix(".err").write_text(p.stderr.decode("utf-8", "replace"),
                                               encoding="utf-8")
        print(f"{scn.relative_to(TOP)}: written")


if __name__ == "__main__":
    import argparse
    ap = argparse.ArgumentParser(description="rewrite the expected .json/.err of scenario cases")
    ap.add_argument("--regen", action="store_true", required=True)
    ap.add_argument("--mailrig", default=str(TOP / "build" / "mailrig"))
    ap.add_argument("cases", nargs="*")
    a = ap.parse_args()
    regen(a.mailrig, a.cases or OK + BAD)
