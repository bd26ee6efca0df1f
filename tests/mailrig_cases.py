"""Data-driven parser cases: load tests/data/<protocol>/*.case and run them.

A case file is a mailrig transcript (docs/transcript.md) with header
comments, then "=== expected" and the expected JSON Lines, then optionally
"=== stderr" and substrings that stderr must contain.  docs/testing.md
describes the format; tests/test_cases.py runs every case, tests/regen.py
rewrites the expected section from the current output, and
tests/unit/test_chunking.c re-runs every case at every chunking.

Also the helpers the pytest files share for running mailrig (cli,
objects, stderr_of, no_sanitizer_report, parse_transcript), for writing
transcripts (quote), and for checking that every error message of a C
reader has a test case (c_fail_formats, format_regex).
"""

import json
import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

TESTS = Path(__file__).resolve().parent
TOP = TESTS.parent
DATA = TESTS / "data"

EXPECTED_MARK = b"=== expected"
STDERR_MARK = b"=== stderr"
HEADER_RE = re.compile(rb"^#[ \t]*(why|args|mode|exit):[ \t]*(.*?)[ \t]*$")


class CaseError(Exception):
    """The case file itself is malformed."""


@dataclass
class Case:
    path: Path
    protocol: str
    transcript: bytes          # everything before the "=== expected" line
    why: str = ""
    args: list = field(default_factory=list)
    mode: str = "dialogue"
    exit: int = 0
    expected: list = field(default_factory=list)  # JSON text, one per line
    expected_lines: list = field(default_factory=list)  # their line numbers in the file
    stderr: list = field(default_factory=list)    # substrings

    @property
    def id(self):
        return f"{self.path.parent.name}/{self.path.name}"


def all_cases():
    """Every case file, sorted (ids like "pop3/capa.case")."""
    return sorted(DATA.glob("*/*.case"))


def _strip_eol(line):
    return line[:-1] if line.endswith(b"\r") else line


def load(path):
    path = Path(path)
    raw = path.read_bytes()
    lines = raw.split(b"\n")
    try:
        mark = next(i for i, l in enumerate(lines) if _strip_eol(l) == EXPECTED_MARK)
    except StopIteration:
        raise CaseError(f"{path}: no '=== expected' line") from None
    case = Case(path=path, protocol=path.parent.name,
                transcript=b"\n".join(lines[:mark]) + b"\n")
    if not raw.startswith(b"# mailrig transcript 1"):
        raise CaseError(f"{path}:1: the first line must be '# mailrig transcript 1'")
    why = []
    for n, line in enumerate(lines[:mark], 1):
        m = HEADER_RE.match(_strip_eol(line))
        if not m:
            continue
        key, val = m.group(1).decode(), m.group(2).decode("utf-8", "replace")
        if key == "why":
            why.append(val)
        elif key == "args":
            case.args = val.split()
        elif key == "mode":
            if val not in ("dialogue", "raw"):
                raise CaseError(f"{path}:{n}: mode must be dialogue or raw, not {val!r}")
            case.mode = val
        elif key == "exit":
            if not val.isdigit():
                raise CaseError(f"{path}:{n}: exit must be a number, not {val!r}")
            case.exit = int(val)
    case.why = " ".join(w for w in why if w)
    if not case.why:
        raise CaseError(f"{path}: a '# why: ...' line is required "
                        "(why the case exists: RFC section or bug)")
    section = "expected"
    for n, line in enumerate(lines[mark + 1:], mark + 2):
        line = _strip_eol(line)
        if line == STDERR_MARK:
            section = "stderr"
            continue
        if not line.strip():
            continue
        if section == "expected":
            case.expected.append(line.decode("utf-8"))
            case.expected_lines.append(n)
        else:
            case.stderr.append(line.decode("utf-8"))
    return case


# --------------------------------------------------------------- transcript

_ESC = {ord("r"): b"\r", ord("n"): b"\n", ord("t"): b"\t", ord("0"): b"\0",
        ord("\\"): b"\\", ord('"'): b'"'}
_NAMED = {v[0]: "\\" + chr(k) for k, v in _ESC.items()}  # byte -> its escape


def quote(data):
    """Bytes as a transcript string: printable ASCII as itself, the named
    escapes, every other byte as \\xHH (the inverse of _decode_string)."""
    return '"' + "".join(_NAMED.get(c) or (chr(c) if 32 <= c < 127 else "\\x%02x" % c)
                         for c in data) + '"'


def _decode_string(line, n):
    start = line.index(b'"') + 1
    out = bytearray()
    i = start
    while i < len(line):
        c = line[i]
        if c == ord('"'):
            return bytes(out)
        if c == ord("\\"):
            e = line[i + 1]
            if e == ord("x"):
                out.append(int(line[i + 2:i + 4], 16))
                i += 4
                continue
            out += _ESC[e]
            i += 2
            continue
        out.append(c)
        i += 1
    raise CaseError(f"line {n}: string has no closing quote")


def server_bytes(transcript):
    """The S segments of a transcript, concatenated: the input of a raw case.

    Only valid transcripts are decoded right (test_chunking.c reads raw
    cases with the C reader too, and fails on a syntax error)."""
    out = bytearray()
    current = None
    for n, line in enumerate(transcript.split(b"\n"), 1):
        line = _strip_eol(line)
        kind = line[:1]
        if kind in (b"S", b"C"):
            current = kind
            if kind == b"S":
                out += _decode_string(line, n)
        elif kind == b"+":
            if current == b"S":
                out += _decode_string(line, n)
        elif kind == b"E":
            current = None
    return bytes(out)


# --------------------------------------------------------------- running

def command(case, mailrig):
    """argv and stdin bytes for running the case."""
    argv = [mailrig, "parse", case.protocol]
    if case.mode == "dialogue":
        argv.append("--dialogue")
        stdin = case.transcript
    else:
        stdin = server_bytes(case.transcript)
    argv += case.args
    argv.append("-")
    return argv, stdin


def sanitizer_env():
    """Environment that makes a sanitizer report distinguishable from exit 1."""
    env = dict(os.environ)
    env["ASAN_OPTIONS"] = (env.get("ASAN_OPTIONS", "") + ":exitcode=86").lstrip(":")
    env["UBSAN_OPTIONS"] = (env.get("UBSAN_OPTIONS", "") +
                            ":exitcode=87:print_stacktrace=1").lstrip(":")
    return env


def run(case, mailrig, timeout=60):
    argv, stdin = command(case, mailrig)
    return cli(*argv, stdin=stdin, timeout=timeout)


def cli(mailrig, *args, stdin=b"", timeout=120, cwd=None):
    """Run `mailrig ARGS` with stdin, in the sanitizer environment; stdout
    and stderr are captured."""
    return subprocess.run([mailrig, *args], input=stdin, capture_output=True,
                          timeout=timeout, cwd=cwd, env=sanitizer_env())


SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")


def sanitizer_report(stderr_text):
    return next((m for m in SANITIZER_MARKS if m in stderr_text), None)


def stderr_of(proc):
    """stderr as text; fails on a sanitizer report."""
    text = proc.stderr.decode("utf-8", "replace")
    assert sanitizer_report(text) is None, text
    return text


def objects(proc):
    """stdout as JSON Lines: one compact object per line, key order kept."""
    out = proc.stdout.decode("utf-8")
    assert out == "" or out.endswith("\n")
    objs = []
    for line in out.splitlines():
        assert line.startswith("{") and ": " not in line.split('"')[0]
        objs.append(json.loads(line))
    return objs


def protocol_of(path):
    """The value of a transcript file's '# protocol:' line."""
    with open(path, "rb") as f:
        for line in f:
            if line.startswith(b"# protocol:"):
                return line.split(b":", 1)[1].strip().decode()
    raise AssertionError("%s has no '# protocol:' line" % path)


def parse_transcript(mailrig, path, *args):
    """`mailrig parse PROTOCOL --dialogue ARGS path` of a transcript file:
    (exit status, the JSON objects, stderr bytes)."""
    proc = cli(mailrig, "parse", protocol_of(path), "--dialogue", *args, str(path))
    return proc.returncode, [json.loads(l) for l in proc.stdout.splitlines()], proc.stderr


def assert_ranges_tile(objs):
    """The responses tile the server's byte stream, with no gap or overlap."""
    for a, b in zip(objs, objs[1:]):
        assert a["range"][1] == b["range"][0], (a["range"], b["range"])


# A sanitizer report of mailrig itself: at the start of a line, so that a
# report mailrig only quotes (mailrig run's "crash: sanitizer report: ..."
# lines, indented) does not count.
_OWN_REPORT = re.compile(r"^==\d+==(ERROR|WARNING)|^\S+:\d+:\d+: runtime error", re.M)


def no_sanitizer_report(proc):
    """Fails when mailrig's stderr (bytes or text) has a sanitizer report."""
    err = proc.stderr
    if isinstance(err, bytes):
        err = err.decode("utf-8", "replace")
    assert not _OWN_REPORT.search(err), err


def _c_literals(expr):
    """The format strings of a fail() format argument: adjacent literals
    (and TOKF, "%.*s") concatenated; the two arms of a ?: give two."""
    out, cur, i = [], "", 0
    while i < len(expr):
        c = expr[i]
        if c == '"':
            j = i + 1
            while expr[j] != '"':
                j += 2 if expr[j] == "\\" else 1
            cur += expr[i + 1:j]
            i = j + 1
        elif expr.startswith("TOKF", i):
            cur += "%.*s"
            i += 4
        elif c == ":" and cur:
            out.append(cur)
            cur = ""
            i += 1
        else:
            i += 1
    if cur:
        out.append(cur)
    return out


def c_fail_formats(path):
    """Every fail(r, POS, FORMAT, ...) format (also fail(&r, ...)) in the
    C reader at path: the messages it can report."""
    src = Path(path).read_text()
    fmts = []
    for m in re.finditer(r"\bfail\(&?r, ", src):
        i, depth, commas, start = m.end(), 0, 0, None
        while True:  # the argument after POS, up to the next top-level comma
            c = src[i]
            if c == '"':
                i += 1
                while src[i] != '"':
                    i += 2 if src[i] == "\\" else 1
            elif c in "([":
                depth += 1
            elif c in ")]":
                if depth == 0:
                    break
                depth -= 1
            elif c == "," and depth == 0:
                commas += 1
                if commas == 1:
                    start = i + 1
                else:
                    break
            i += 1
        fmts += _c_literals(src[start:i])
    return fmts


def format_regex(fmt):
    """A printf format as a regex over the messages it can produce."""
    text = bytes(fmt, "utf-8").decode("unicode_escape")  # \" \\ as C reads them
    parts = re.split(r"%[-0-9.*]*(?:ll|z)?[sducX]", text)
    return re.compile(".+?".join(re.escape(p) for p in parts), re.S)
