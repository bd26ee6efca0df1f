#!/usr/bin/python3
"""Wall time of the whole scenario library against one client (make bench).

Runs "mailrig run --client curl --jobs 2 conformance/scenarios" and reports,
from that one run: the wall time, the sum of the scenarios' own durations
(what one job at a time would take), their ratio (how well the jobs
overlap), and the slowest scenarios, which is where the time goes.  The
goal (issue 7): the library against curl with --jobs 2 in under 60 s.

    bench/conformance.py [--mailrig build/mailrig] [--client curl]
                         [--jobs 2] [--goal 60] [--results FILE]
"""

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

TOP = Path(__file__).resolve().parent.parent


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mailrig", default=str(TOP / "build" / "mailrig"))
    ap.add_argument("--client", default="curl")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--goal", type=float, default=60.0)
    ap.add_argument("--out", default=str(TOP / "build" / "bench" / "conformance"))
    ap.add_argument("--results", help="also write the report (Markdown) here")
    a = ap.parse_args()

    t0 = time.monotonic()
    p = subprocess.run([a.mailrig, "run", "--quiet", "--client", a.client, "--jobs", str(a.jobs),
                        "--out", a.out, str(TOP / "conformance" / "scenarios")],
                       stdout=subprocess.DEVNULL, check=False)
    wall = time.monotonic() - t0
    if p.returncode not in (0, 1):
        sys.exit(f"bench: mailrig run exited {p.returncode}")
    res = json.loads((Path(a.out) / "results.json").read_text())
    sc = res["scenarios"]
    serial = sum(s["duration"] for s in sc)
    slow = sorted(sc, key=lambda s: -s["duration"])[:8]
    t = res["totals"]
    ok = wall < a.goal
    lines = [
        f"# The scenario library against {a.client} (bench/conformance.py)\n",
        f"{len(sc)} scenarios, `--jobs {a.jobs}`, {res.get('version') or a.client}; one run.\n",
        "| measure | value |",
        "|---|---:|",
        f"| wall time (s) | {wall:.1f} |",
        f"| sum of the scenarios' durations (s) | {serial:.1f} |",
        f"| overlap: sum / wall | {serial / wall:.2f}x |",
        f"| goal: wall under (s) | {a.goal:.0f}: {'met' if ok else 'NOT met'} |",
        f"| verdicts | {t['pass']} pass, {t['fail']} fail, {t['crash']} crash, "
        f"{t['hang']} hang, {t['skip']} skip, {t['error']} error |",
        "",
        "Slowest scenarios (their share of the serial sum):\n",
        "| scenario | verdict | seconds | share |",
        "|---|---|---:|---:|",
    ]
    for s in slow:
        lines.append(f"| {s['id']} | {s['verdict']} | {s['duration']:.2f} | "
                     f"{100 * s['duration'] / serial:.0f}% |")
    text = "\n".join(lines) + "\n"
    print(text)
    if a.results:
        Path(a.results).write_text(text)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
