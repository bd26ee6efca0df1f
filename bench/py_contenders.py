#!/usr/bin/python3
"""Python's standard mail clients as benchmark contenders (bench/run.py).

The same contract as the C programs (bench/mr_bench.h):

    py_contenders.py list
    py_contenders.py run CONTENDER CORPUS [--min-ms N] [--passes N]

CORPUS is a prefix: CORPUS.server and CORPUS.client are what each side
sent.  Prints one JSON line with the same keys as mr_bench_main.c.

Each contender drives the library's own response reading over the server
bytes from memory (io.BytesIO where the library reads its socket file;
what it would write is discarded), with no network and no timing of
anything but the parse:

  imaplib  IMAP4._get_response() until the stream ends: the reading a
           client does for every command (tagged, untagged and
           continuation responses, literals read whole).  Tags are
           numeric, so the tag prefix is empty (the library's own is four
           letters, followed by digits).
  poplib   the POP3 methods each client command maps to (capa(), stat(),
           list(), uidl(), retr(n), top(n, 0), ...): _getresp() and
           _getlongresp(), with dot-unstuffing.
  smtplib  SMTP.getreply() once per reply.
"""

import argparse
import imaplib
import io
import json
import os
import poplib
import smtplib
import sys
import time


class Sink:
    """A socket that discards what the library sends."""

    def sendall(self, data):
        pass

    def close(self):
        pass


def load(prefix):
    with open(prefix + ".server", "rb") as f:
        server = f.read()
    with open(prefix + ".client", "rb") as f:
        client = f.read()
    lines = client.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    cmds = [ln[:-1] if ln.endswith(b"\r") else ln for ln in lines]
    return server, cmds


# ------------------------------------------------------------------ IMAP

class MemIMAP(imaplib.IMAP4):
    """imaplib.IMAP4 reading from memory; __init__ would connect."""

    def __init__(self, server, tags):
        self.debug = 0
        self.state = "SELECTED"
        self.literal = None
        self.tagged_commands = {}
        self.untagged_responses = {}
        self.continuation_response = ""
        self.is_readonly = False
        self.tagnum = 0
        self._tls_established = False
        self._cmd_log_len = 10  # what __init__ sets up for its debug log
        self._cmd_log_idx = 0
        self._cmd_log = {}
        self._mode_ascii()
        self.tagpre = b""
        self.tagre = imaplib.re.compile(
            br"(?P<tag>" + self.tagpre + br"\d+) (?P<type>[A-Z]+) (?P<data>.*)", imaplib.re.ASCII)
        self.file = io.BytesIO(server)
        self.sock = Sink()
        self._tags = tags

    def run(self):
        for t in self._tags:
            self.tagged_commands[t] = None
        self.untagged_responses = {}
        self.file.seek(0)
        end = len(self.file.getbuffer())
        n = 0
        while self.file.tell() < end:
            self._get_response()
            n += 1
        # What a client reads of the result: the data of every response.
        fetched = sum(len(v) for v in self.untagged_responses.get("FETCH", []))
        return n, fetched


def imaplib_setup(server, cmds):
    tags = [c.split(b" ", 1)[0] for c in cmds if c[:1].isdigit()]
    return MemIMAP(server, tags)


def imaplib_run(obj):
    n, _ = obj.run()
    return {"responses": n, "decoded": 0, "bytes": 0}


# ------------------------------------------------------------------ POP3

class MemPOP3(poplib.POP3):
    def __init__(self, server):
        self.encoding = "UTF-8"
        self._debugging = 0
        self.sock = Sink()
        self.file = io.BytesIO(server)
        self._tls_established = False


def pop3_run(obj, cmds):
    """Replays the client's commands through the library's methods."""
    obj.file.seek(0)
    obj.welcome = obj._getresp()
    n, decoded, size = 1, 0, 0
    for c in cmds:
        words = c.split()
        verb = words[0].upper() if words else b""
        args = [int(w) if w.isdigit() else w.decode() for w in words[1:]]
        try:
            if verb == b"CAPA":
                obj.capa()
            elif verb == b"USER":
                obj.user(args[0])
            elif verb == b"PASS":
                obj.pass_(args[0])
            elif verb == b"STAT":
                obj.stat()
            elif verb == b"LIST":
                obj.list(*args)
            elif verb == b"UIDL":
                obj.uidl(*args)
            elif verb in (b"RETR", b"TOP"):
                _, lines, octets = obj.retr(args[0]) if verb == b"RETR" else obj.top(*args)
                decoded += 1
                size += octets
            elif verb == b"NOOP":
                obj.noop()
            elif verb == b"RSET":
                obj.rset()
            elif verb == b"DELE":
                obj.dele(args[0])
            elif verb == b"QUIT":
                obj._shortcmd("QUIT")
            else:
                raise SystemExit("poplib: no method for %r" % c)
        except poplib.error_proto:
            pass  # -ERR: a client catches it and goes on
        n += 1
    return {"responses": n, "decoded": decoded, "bytes": 0}


# ------------------------------------------------------------------ SMTP

class MemSMTP(smtplib.SMTP):
    def __init__(self, server):
        super().__init__()  # no host: does not connect
        self.file = io.BytesIO(server)
        self.sock = Sink()


def smtp_run(obj):
    obj.file.seek(0)
    end = len(obj.file.getbuffer())
    n = 0
    while obj.file.tell() < end:
        code, _ = obj.getreply()
        if code == -1:
            raise SystemExit("smtplib: connection closed inside a reply")
        n += 1
    return {"responses": n, "decoded": 0, "bytes": 0}


CONTENDERS = {
    ("imaplib", "imap"): ("Python %s imaplib: IMAP4._get_response()" % sys.version.split()[0],
                          imaplib_setup, lambda o, cmds: imaplib_run(o)),
    ("poplib", "pop3"): ("Python %s poplib: the POP3 methods of the commands" %
                         sys.version.split()[0],
                         lambda server, cmds: MemPOP3(server), pop3_run),
    ("smtplib", "smtp"): ("Python %s smtplib: SMTP.getreply()" % sys.version.split()[0],
                          lambda server, cmds: MemSMTP(server), lambda o, cmds: smtp_run(o)),
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("list")
    r = sub.add_parser("run")
    r.add_argument("contender")
    r.add_argument("corpus")
    r.add_argument("--min-ms", type=int, default=300)
    r.add_argument("--passes", type=int, default=0)
    args = ap.parse_args()
    if args.cmd == "list":
        for (name, proto), (what, _, _) in CONTENDERS.items():
            print("%s\t%s\t%s" % (name, proto, what))
        return 0
    base = os.path.basename(args.corpus)
    proto = base.split("-", 1)[0]
    if (args.contender, proto) not in CONTENDERS:
        print("py_contenders: no contender %s for %s" % (args.contender, proto), file=sys.stderr)
        return 2
    _, setup, run = CONTENDERS[(args.contender, proto)]
    server, cmds = load(args.corpus)
    obj = setup(server, cmds)
    first = run(obj, cmds)  # warm-up, untimed
    done = 0
    t0 = time.perf_counter_ns()
    while True:
        got = run(obj, cmds)
        if got != first:
            print("py_contenders: %s on %s: pass %d found other counts than the first"
                  % (args.contender, base, done + 1), file=sys.stderr)
            return 1
        done += 1
        t1 = time.perf_counter_ns()
        if (done >= args.passes) if args.passes else (t1 - t0 >= args.min_ms * 1e6):
            break
    out = {"family": "python", "contender": args.contender, "corpus": base, "passes": done,
           "ns_per_pass": round((t1 - t0) / done, 1), "server_bytes": len(server)}
    out.update(first)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
