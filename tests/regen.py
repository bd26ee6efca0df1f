#!/usr/bin/python3
"""Rewrite the "=== expected" section of case files from mailrig's output.

    tests/regen.py [--mailrig build/mailrig] [--exit] CASE...

For writing and reviewing cases (docs/testing.md): the output it records is
whatever the parser does today, so read every line it writes before
committing it.  Everything above "=== expected" and the "=== stderr"
section are kept as they are.  When the exit status differs from
"# exit:", it says so, and with --exit it updates (or adds) that line.
Never run by make test.
"""

import argparse
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import mailrig_cases as mc  # noqa: E402


def regen(path, mailrig, fix_exit):
    case = mc.load(path)
    proc = mc.run(case, mailrig)
    err = proc.stderr.decode("utf-8", "replace")
    san = mc.sanitizer_report(err)
    if san:
        print(f"{path}: sanitizer report, not rewritten:\n{err}", file=sys.stderr)
        return 1
    raw = Path(path).read_bytes()
    lines = raw.split(b"\n")
    mark = next(i for i, l in enumerate(lines) if l.rstrip(b"\r") == mc.EXPECTED_MARK)
    head = b"\n".join(lines[:mark + 1]) + b"\n"
    tail = b""
    for i in range(mark + 1, len(lines)):
        if lines[i].rstrip(b"\r") == mc.STDERR_MARK:
            tail = b"\n".join(lines[i:])
            if not tail.endswith(b"\n"):
                tail += b"\n"
            break
    body = b"".join(l + b"\n" for l in proc.stdout.split(b"\n") if l)
    status = 0
    if proc.returncode != case.exit:
        if fix_exit:
            new = f"# exit: {proc.returncode}".encode()
            if re.search(rb"(?m)^# exit:.*$", head):
                head = re.sub(rb"(?m)^# exit:.*$", new, head, count=1)
            else:
                head = re.sub(rb"(?m)^(# why:.*)$", lambda m: m.group(1) + b"\n" + new,
                              head, count=1)
            print(f"{path}: exit status set to {proc.returncode}", file=sys.stderr)
        else:
            print(f"{path}: exit status is {proc.returncode}, the case says {case.exit} "
                  "(use --exit to update)", file=sys.stderr)
            status = 1
    Path(path).write_bytes(head + body + tail)
    print(f"{path}: {len(body.splitlines())} responses")
    if err:
        print("  stderr: " + err.rstrip().replace("\n", "\n          "))
    return status


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--mailrig", default=str(mc.TOP / "build" / "mailrig"))
    ap.add_argument("--exit", action="store_true", help="update '# exit:' to the actual status")
    ap.add_argument("cases", nargs="+")
    args = ap.parse_args()
    rc = 0
    for path in args.cases:
        try:
            rc |= regen(path, args.mailrig, args.exit)
        except mc.CaseError as e:
            print(e, file=sys.stderr)
            rc = 1
    return rc


if __name__ == "__main__":
    sys.exit(main())
