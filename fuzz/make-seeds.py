#!/usr/bin/python3
"""Build the fuzz targets' seed inputs from the data-driven test cases
(tests/data/*/*.case, RFC examples and real-server quirks included) and the
real server captures (corpora/transcripts/*.trs).

    fuzz/make-seeds.py [--mailrig build/mailrig] OUTDIR

writes OUTDIR/<target>/<sha1 of the content>, in each target's input format
(the header bytes its fuzz/fuzz_*.c describes, then the data).  make
fuzz-merge folds these into corpora/fuzz/<target>/ with libFuzzer's
-merge=1, which keeps only inputs that add coverage.

The command a POP3 or SMTP response answers is taken from what
"mailrig parse" reports for it ("kind"), so every response of every case
also becomes a seed of its own (greeting + that response, with the
command's header byte).  Long captures are cut at response boundaries
into pieces below the targets' max_len.  The parser targets get each input
also with small limits, streamed byte by byte, and with the allocator
failing at each of its first FAIL_SWEEP calls; -merge=1 keeps the few that
reach something new.
"""

import argparse
import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

TOP = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(TOP / "tests"))
import mailrig_cases as mc  # noqa: E402

PIECE = 12 * 1024  # captures are cut into pieces of about this size

# mr_fuzz.h
STRICT, SMALL, STREAM, FAIL_ALLOC = 1, 2, 4, 8
FEED_1 = 1 << 4  # feeding bits 4-6 = 1: one byte at a time
# The parser targets' inputs also come with small limits, with streaming
# fed byte by byte, and with the allocator failing at each call in turn
# (budget 0..FAIL_SWEEP-1), so that the seeds reach the paths for limits
# and for a failed allocation at every place the parsers allocate.
FAIL_SWEEP = 48
DIRECT = ("fuzz_pop3", "fuzz_smtp", "fuzz_imap")
DIALOGUE, NO_GREETING, PRINT = 4, 8, 16
PROTO = {"pop3": 0, "smtp": 1, "imap": 2}
IMAP_AUTHENTICATE = 1 << 2  # fuzz_imap.c commands[1]


def command_order(header, macro):
    """The command names of an X-macro table, in enum order."""
    text = (TOP / header).read_text()
    body = text[text.index(f"#define {macro}(XX)"):]
    body = body[:body.index("\n\n")]
    return [m.group(1) for m in re.finditer(r'XX\(\w+,\s*"([a-z0-9-]+)"', body)]


POP3_CMDS = command_order("parsers/pop3/mr_pop3.h", "MR_POP3_CMD_MAP")
SMTP_CMDS = command_order("parsers/smtp/mr_smtp.h", "MR_SMTP_CMD_MAP")


def cmd_byte(order, name):
    """fuzz_pop3/fuzz_smtp: command = 1 + byte % (count - 1)."""
    return order.index(name) - 1


class Seeds:
    def __init__(self, out):
        self.out = Path(out)
        self.count = {}

    def add(self, target, data):
        if target in DIRECT and len(data) >= 4 and not data[1] & (SMALL | STREAM | FAIL_ALLOC):
            # The same input in the other modes (header byte 1: flags, 3: budget).
            self._add(target, data[:1] + bytes([data[1] | SMALL]) + data[2:])
            self._add(target, data[:1] + bytes([data[1] | STREAM | FEED_1]) + data[2:])
            if len(data) <= 2048:
                for budget in range(FAIL_SWEEP):
                    self._add(target, data[:1] + bytes([data[1] | FAIL_ALLOC, 0, budget]) + data[4:])
        self._add(target, data)

    def _add(self, target, data):
        d = self.out / target
        d.mkdir(parents=True, exist_ok=True)
        p = d / hashlib.sha1(data).hexdigest()
        if not p.exists():
            p.write_bytes(data)
            self.count[target] = self.count.get(target, 0) + 1


def responses(mailrig, protocol, data, args, dialogue):
    """(kind, start, end) of every response "mailrig parse" finds in a
    transcript (dialogue) or in raw server bytes."""
    argv = [mailrig, "parse", protocol, *(["--dialogue"] if dialogue else []), *args, "-"]
    p = subprocess.run(argv, input=data, capture_output=True, timeout=120)
    out = []
    for line in p.stdout.decode("utf-8", "replace").splitlines():
        try:
            o = json.loads(line)
        except ValueError:
            continue
        if "range" in o:
            out.append((o.get("kind", ""), o["range"][0], o["range"][1]))
    return out


def pieces(server, spans, limit=PIECE):
    """Cut server bytes at response ends into runs of about limit bytes."""
    start, out = 0, []
    for _, _, end in spans:
        if end - start >= limit:
            out.append((start, end))
            start = end
    if start < len(server):
        out.append((start, len(server)))
    return out


def add_case(seeds, mailrig, protocol, transcript, args, dialogue):
    server = mc.server_bytes(transcript)
    flags = STRICT if "--strict" in args else 0
    if "--stream-threshold" in args:
        flags |= STREAM
    no_greeting = "--no-greeting" in args
    args = [a for a in args if a != "--print"]
    spans = responses(mailrig, protocol, transcript if dialogue else server, args, dialogue)
    small = len(transcript) <= 16 * 1024

    if protocol in ("pop3", "smtp"):
        order = POP3_CMDS if protocol == "pop3" else SMTP_CMDS
        target = "fuzz_" + protocol
        guess = cmd_byte(order, "guess")
        for a, b in pieces(server, spans):
            seeds.add(target, bytes([guess, flags, 0, 0]) + server[a:b])
        greeting = server[spans[0][1]:spans[0][2]] if spans else b""
        for kind, a, b in spans[1:]:
            if kind in order and b - a <= PIECE:
                seeds.add(target, bytes([cmd_byte(order, kind), flags, 0, 0]) + greeting + server[a:b])
    else:
        setup = 1 if no_greeting else 0
        if re.search(rb'(?im)^C [^"]*"[^ "]+ AUTHENTICATE ', transcript):
            setup |= IMAP_AUTHENTICATE
        for i, (a, b) in enumerate(pieces(server, spans)):
            s = setup | (1 if i > 0 else 0)
            seeds.add("fuzz_imap", bytes([s, flags, 0, 0]) + server[a:b])
            seeds.add("fuzz_roundtrip", bytes([s & 1]) + server[a:b])

    mode = PROTO[protocol] | (NO_GREETING if no_greeting else 0)
    for a, b in pieces(server, spans, 4 * 1024):
        seeds.add("fuzz_chunking", bytes([mode, flags, 0]) + server[a:b])
        if protocol == "imap":
            seeds.add("fuzz_chunking", bytes([mode | PRINT, flags, 0]) + server[a:b])
        seeds.add("fuzz_strict", bytes([mode, flags & ~STRICT]) + server[a:b])
    if small:
        seeds.add("fuzz_transcript", transcript)
    if small and dialogue:
        # Dialogue mode: the transcript itself, split once in the middle.
        mid = len(server) // 2
        seeds.add("fuzz_chunking", bytes([mode | DIALOGUE, flags, 1, mid & 255, mid >> 8 & 255]) + transcript)
        seeds.add("fuzz_strict", bytes([mode | DIALOGUE, flags & ~STRICT]) + transcript)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mailrig", default=str(TOP / "build" / "mailrig"))
    ap.add_argument("out")
    opts = ap.parse_args()
    seeds = Seeds(opts.out)
    for path in mc.all_cases():
        case = mc.load(path)
        if case.exit == 2:
            continue  # usage errors: nothing to parse
        add_case(seeds, opts.mailrig, case.protocol, case.transcript, list(case.args),
                 case.mode == "dialogue")
    for path in sorted((TOP / "corpora" / "transcripts").glob("*.trs")):
        data = path.read_bytes()
        protocol = mc.protocol_of(path)
        add_case(seeds, opts.mailrig, protocol, data, [], True)
    for target, n in sorted(seeds.count.items()):
        print(f"{target}: {n} seeds")


if __name__ == "__main__":
    main()
