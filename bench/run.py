#!/usr/bin/python3
"""Run the benchmarks side by side and report ratios (make bench).

Every contender (bench/mr_bench.h: the C programs build/bench/mr-bench-*,
and bench/py_contenders.py) parses every corpus of its protocol
(build/bench/corpora/*.server, made by bench/bench.mk).  One measurement
is one process that times passes over the corpus for --min-ms; a round
measures every (contender, corpus) once; the order of a round is rotated
and reversed from one round to the next, so that a slow phase of the
machine falls on all contenders alike.  Figures are the median of the
rounds, with min and max.  A ratio is taken inside each round (both
figures measured within seconds of each other) and its median reported.

    bench/run.py [--rounds N] [--min-ms N] [--results FILE] [--only PATTERN]
    bench/run.py --check        one pass each; the contenders of a protocol
                                must agree on what they found (make test)

Standard library only; run with /usr/bin/python3.
"""

import argparse
import datetime
import fnmatch
import glob
import json
import os
import platform
import re
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
BUILD = os.path.join(TOP, "build", "bench")
CORPORA = os.path.join(BUILD, "corpora")
PYTHON = "/usr/bin/python3"

FAMILIES = ("mailrig", "dovecot", "etpan")
FLOORS = ("memchr", "memcpy", "call-1")

# The goals of the benchmark issue: (title, numerator, denominator, corpus
# protocol, bound, "min" or "max").  A ratio is time(numerator) /
# time(denominator) over the same bytes in the same round.
GOALS = [
    ("IMAP typed: Dovecot lib-imap with its ENVELOPE/BODYSTRUCTURE decoding, "
     "time / mailrig", "dovecot:dovecot-decode", "mailrig:mailrig", "imap", 3.0, "min"),
    ("IMAP typed: libetpan mailimap time / mailrig", "etpan:etpan-imap", "mailrig:mailrig",
     "imap", 10.0, "min"),
    ("POP3: mailrig speed as a share of the memchr floor (memchr time / mailrig time)",
     "mailrig:memchr", "mailrig:mailrig", "pop3", 0.40, "min"),
    ("IMAP fed 1 byte at a time, time / fed whole", "mailrig:mailrig-1", "mailrig:mailrig",
     "imap", 3.0, "max"),
    ("POP3 fed 1 byte at a time, time / fed whole", "mailrig:mailrig-1", "mailrig:mailrig",
     "pop3", 3.0, "max"),
    ("SMTP fed 1 byte at a time, time / fed whole", "mailrig:mailrig-1", "mailrig:mailrig",
     "smtp", 3.0, "max"),
]


class Contender:
    def __init__(self, family, name, protocol, what):
        self.family, self.name, self.protocol, self.what = family, name, protocol, what

    @property
    def key(self):
        return "%s:%s" % (self.family, self.name)

    def argv(self, corpus, min_ms, passes):
        if self.family == "python":
            cmd = [PYTHON, os.path.join(HERE, "py_contenders.py")]
        else:
            cmd = [os.path.join(BUILD, "mr-bench-" + self.family)]
        cmd += ["run", self.name, corpus]
        cmd += ["--passes", str(passes)] if passes else ["--min-ms", str(min_ms)]
        return cmd


def discover():
    found, missing = [], []
    progs = [(f, [os.path.join(BUILD, "mr-bench-" + f)]) for f in FAMILIES]
    progs.append(("python", [PYTHON, os.path.join(HERE, "py_contenders.py")]))
    for fam, cmd in progs:
        if fam != "python" and not os.access(cmd[0], os.X_OK):
            missing.append(fam)
            continue
        out = subprocess.run(cmd + ["list"], check=True, capture_output=True, text=True).stdout
        for line in out.splitlines():
            name, proto, what = line.split("\t", 2)
            found.append(Contender(fam, name, proto, what))
    return found, missing


def corpora():
    out = []
    for p in sorted(glob.glob(os.path.join(CORPORA, "*.server"))):
        name = os.path.basename(p)[:-len(".server")]
        out.append((name, name.split("-", 1)[0], p[:-len(".server")]))
    return out


def measure(ct, prefix, min_ms, passes):
    r = subprocess.run(ct.argv(prefix, min_ms, passes), capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit("bench: %s on %s failed:\n%s" % (ct.key, os.path.basename(prefix),
                                                         r.stderr.strip()))
    return json.loads(r.stdout)


def plan(contenders, corps, only):
    jobs = []
    for cname, proto, prefix in corps:
        for ct in contenders:
            if ct.protocol not in (proto, "any"):
                continue
            if only and not any(fnmatch.fnmatch("%s/%s" % (cname, ct.key), o) for o in only):
                continue
            jobs.append((ct, cname, prefix))
    return jobs


def check(contenders, corps):
    """One pass of everything; contenders of a protocol must agree."""
    bad = 0
    for cname, proto, prefix in corps:
        got = {}
        for ct in contenders:
            if ct.protocol == proto:
                got[ct.key] = measure(ct, prefix, 0, 1)
        ref = got.get("mailrig:mailrig")
        if ref is None:
            print("bench-check: %s: no mailrig contender" % cname)
            bad += 1
            continue
        for key, r in sorted(got.items()):
            same = r["responses"] == ref["responses"]
            # decoded counts the same things for the typed IMAP parsers and
            # for every POP3 client (messages returned by RETR and TOP).
            if proto == "pop3" or (proto == "imap" and r["decoded"]):
                same = same and r["decoded"] == ref["decoded"]
            # mailrig fed in pieces must find exactly what it finds fed whole.
            if key.startswith("mailrig:"):
                same = same and r["bytes"] == ref["bytes"]
            print("bench-check: %-12s %-24s responses %6d decoded %5d  %s"
                  % (cname, key, r["responses"], r["decoded"], "ok" if same else "MISMATCH"))
            bad += not same
    return 1 if bad else 0


def fmt_ratio(v):
    return "%.3f" % v if v < 1 else "%.2f" % v if v < 10 else "%.1f" % v


def rate(server_bytes, ns):
    return server_bytes / ns * 1e3  # MB/s (10^6 bytes)


def machine():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            m = re.search(r"^model name\s*:\s*(.*)$", f.read(), re.M)
            cpu = m.group(1) if m else cpu
    except OSError:
        pass

    def ver(pkg):
        r = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", pkg],
                           capture_output=True, text=True)
        return r.stdout.strip() or "not installed"

    cc = subprocess.run(["cc", "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    return [
        ("CPU", "%s, %d cores online" % (cpu, os.cpu_count() or 0)),
        ("OS", "%s %s" % (platform.system(), platform.release())),
        ("compiler", "%s, -O2 (as make)" % cc),
        ("Dovecot", "libdovecot %s (dovecot-dev)" % ver("dovecot-dev")),
        ("libetpan", "%s (libetpan-dev)" % ver("libetpan-dev")),
        ("Python", "%s (%s)" % (platform.python_version(), PYTHON)),
    ]


def report(jobs, rounds, contenders, corps, min_ms, missing):
    """Median figures and in-round ratios, as (text table, markdown)."""
    # samples[(corpus, key)] = [ns per pass, one per round]
    samples = {}
    meta = {}
    for rnd, res in enumerate(rounds):
        for (ct, cname, _), r in res.items():
            samples.setdefault((cname, ct.key), []).append(r["ns_per_pass"])
            meta[(cname, ct.key)] = (ct, r)
    n_rounds = len(rounds)

    def ratio(cname, num, den):
        vals = []
        for res in rounds:
            a = b = None
            for (ct, c, _), r in res.items():
                if c != cname:
                    continue
                if ct.key == num:
                    a = r["ns_per_pass"]
                if ct.key == den:
                    b = r["ns_per_pass"]
            if a is not None and b is not None:
                vals.append(a / b)
        return vals

    md, txt = [], []
    md.append("# Benchmark results\n")
    md.append("Made by `make bench` (bench/run.py) on %s: %d rounds, each measurement at least "
              "%d ms of passes over the corpus, the order of the contenders rotated and "
              "reversed between rounds. MB/s is 10^6 bytes of server output per second; "
              "figures are the median of the rounds (min-max). **Ratios** are taken inside each "
              "round (time of the other / time of mailrig fed whole, over the same bytes) and "
              "their median given: above 1, mailrig is faster.\n"
              % (datetime.date.today().isoformat(), n_rounds, min_ms))
    md.append("| machine | |\n|---|---|")
    for k, v in machine():
        md.append("| %s | %s |" % (k, v))
    if missing:
        md.append("| not measured | %s (library not installed) |" % ", ".join(missing))
    md.append("")

    # Goals first: they are the headline.
    md.append("## Goals\n")
    md.append("| goal | median (min-max) | bound | met |\n|---|---|---|---|")
    txt.append("Goals (ratios inside each round; median, min-max, over %d rounds)" % n_rounds)
    for title, num, den, proto, bound, how in GOALS:
        cname = next((c for c, p, _ in corps if p == proto and c.startswith(proto + "-dovecot")),
                     next((c for c, p, _ in corps if p == proto), None))
        vals = ratio(cname, num, den) if cname else []
        if not vals:
            md.append("| %s | not measured | %s %s | - |" % (title, "≥" if how == "min" else "≤",
                                                             fmt_ratio(bound)))
            txt.append("  %-78s not measured" % title)
            continue
        med = statistics.median(vals)
        ok = med >= bound if how == "min" else med <= bound
        rng = "%s (%s-%s)" % (fmt_ratio(med), fmt_ratio(min(vals)), fmt_ratio(max(vals)))
        md.append("| %s (%s) | %s | %s %s | %s |" % (title, cname, rng,
                                                     "≥" if how == "min" else "≤",
                                                     fmt_ratio(bound), "yes" if ok else "**no**"))
        txt.append("  %-78s %-20s %s %s  %s" % (title[:78], rng, "≥" if how == "min" else "≤",
                                                fmt_ratio(bound), "met" if ok else "NOT MET"))
    md.append("")

    for cname, proto, prefix in corps:
        keys = [k for (c, k) in samples if c == cname]
        if not keys:
            continue
        size = next(meta[(cname, k)][1]["server_bytes"] for k in keys)
        order = sorted(keys, key=lambda k: statistics.median(samples[(cname, k)]))
        md.append("## %s (%s bytes from the server)\n" % (cname, format(size, ",")))
        md.append("| contender | MB/s median (min-max) | time / mailrig | responses | what |")
        md.append("|---|---|---|---|---|")
        txt.append("")
        txt.append("%s: %s bytes from the server" % (cname, format(size, ",")))
        txt.append("  %-26s %22s %18s %10s" % ("contender", "MB/s (min-max)",
                                               "time / mailrig", "responses"))
        for k in order:
            ns = samples[(cname, k)]
            ct, r = meta[(cname, k)]
            mbs = [rate(size, v) for v in ns]
            rr = ratio(cname, k, "mailrig:mailrig")
            rtxt = ("%s (%s-%s)" % (fmt_ratio(statistics.median(rr)), fmt_ratio(min(rr)),
                                    fmt_ratio(max(rr)))) if rr else "-"
            resp = "%d" % r["responses"] if ct.name not in FLOORS else "(%s)" % (
                "lines" if ct.name == "memchr" else "-")
            mtxt = "%.0f (%.0f-%.0f)" % (statistics.median(mbs), min(mbs), max(mbs))
            md.append("| %s | %s | %s | %s | %s |" % (k, mtxt, rtxt, resp, ct.what))
            txt.append("  %-26s %22s %18s %10s" % (k, mtxt, rtxt, resp))
        md.append("")
    return "\n".join(txt), "\n".join(md) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--min-ms", type=int, default=300)
    ap.add_argument("--results", help="write the markdown table here (bench/results.md)")
    ap.add_argument("--only", action="append",
                    help="CORPUS/FAMILY:CONTENDER glob, e.g. 'imap-*/mailrig:*' (repeatable)")
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()

    contenders, missing = discover()
    corps = corpora()
    if not corps:
        raise SystemExit("bench: no corpora in %s (make bench-build)" % CORPORA)
    if args.check:
        return check(contenders, corps)
    if args.rounds < 1:
        raise SystemExit("bench: --rounds must be at least 1")
    jobs = plan(contenders, corps, args.only)
    rounds = []
    for i in range(args.rounds):
        k = i % len(jobs)
        order = jobs[k:] + jobs[:k]
        if i % 2:
            order.reverse()
        res = {}
        for j, (ct, cname, prefix) in enumerate(order):
            if sys.stderr.isatty():  # progress on a terminal only, not in logs
                print("\rbench: round %d/%d, %3d/%d %-40s"
                      % (i + 1, args.rounds, j + 1, len(order), "%s %s" % (cname, ct.key)),
                      end="", file=sys.stderr, flush=True)
            res[(ct, cname, prefix)] = measure(ct, prefix, args.min_ms, 0)
        rounds.append(res)
        if not sys.stderr.isatty():
            print("bench: round %d/%d done" % (i + 1, args.rounds), file=sys.stderr)
    if sys.stderr.isatty():
        print(file=sys.stderr)
    text, md = report(jobs, rounds, contenders, corps, args.min_ms, missing)
    print(text)
    if args.results:
        with open(args.results, "w") as f:
            f.write(md)
        print("\nbench: wrote %s" % os.path.relpath(args.results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
