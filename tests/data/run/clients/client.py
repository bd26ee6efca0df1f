#!/usr/bin/python3
"""A fake mail client for tests/test_run.py: one short session with the
fake server, then whatever the test asks of the process.

    client.py PROTOCOL PORT [options] [WORD...]

First it prints one line, "argv: JSON" (its arguments after the script,
the MRT_* environment variables, HOME, its working folder), so a test can
read in client-N.out what the runner gave it.  Then, in this order:

  --alloc MB           hold MB megabytes (written, so they are resident)
  --state-count        read {cwd}/count (0 when missing), print
                       "count: N", write N+1 back (the runner starts the
                       client in its state folder)
  --first-command LINE with --state-count: like --command, only when the
                       count read was 0 (the first run)
  --cat FILE           print "cat FILE: CONTENT" (JSON string)
  --no-connect         skip the session
  the session          greeting; LOGIN with --user/--password (default
                       user/password) when an action needs it or with
                       --login; the actions; QUIT/LOGOUT:
                         --dele N          POP3: DELE N
                         --store UID FLAG  IMAP: UID STORE UID +FLAGS (FLAG)
                         --send FILE       SMTP: the message in FILE from
                                           user@localhost to rcpt@localhost
                         --command LINE    one raw command line (after
                                           login if any), its answer read
  --print TEXT         print TEXT on stdout
  --print-bytes N      print N bytes ("x" lines), then "END-OF-OUTPUT"
  --eprint TEXT        print TEXT on stderr
  --sanitizer          print an AddressSanitizer report line on stderr
  --sanitizer-8bit     the same with a byte that is not UTF-8 in it
  --hang               start a child "sleep 60" (its pid in
                       {cwd}/child.pid, its own pid in {cwd}/client.pid),
                       then sleep 60
  --signal NAME        kill itself with signal NAME (SEGV, ABRT, ...)
  --exit N             exit with status N (default 0)
"""

import argparse
import imaplib
import json
import os
import poplib
import signal
import smtplib
import socket
import subprocess
import sys
import time


def line_session(port, proto, commands):
    """Plain socket session: greeting, each command and its one-line
    answer, then QUIT (or LOGOUT)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    f = s.makefile("rb")
    print("greeting:", f.readline().decode("latin-1").rstrip())
    quit_cmd = {"imap": b"z LOGOUT\r\n"}.get(proto, b"QUIT\r\n")
    for c in commands + [quit_cmd]:
        s.sendall(c)
        ans = f.readline()
        if proto == "imap":  # untagged lines first
            while ans.startswith(b"* "):
                ans = f.readline()
        print("answer:", ans.decode("latin-1").rstrip())
    s.close()


def session(a):
    user, password = a.user, a.password
    if a.proto == "pop3" and (a.dele is not None or a.login):
        p = poplib.POP3("127.0.0.1", a.port, timeout=10)
        p.user(user)
        p.pass_(password)
        if a.dele is not None:
            print("dele:", p.dele(a.dele).decode())
        print("quit:", p.quit().decode())
    elif a.proto == "imap" and (a.store or a.login):
        m = imaplib.IMAP4("127.0.0.1", a.port, timeout=10)
        m.login(user, password)
        m.select("INBOX")
        if a.store:
            typ, data = m.uid("STORE", a.store[0], "+FLAGS", "(%s)" % a.store[1])
            print("store:", typ, data)
        m.logout()  # no CLOSE: it would expunge UID 14 (\Deleted in the mailbox)
    elif a.proto == "smtp" and a.send:
        with open(a.send, "rb") as f:
            msg = f.read()
        s = smtplib.SMTP("127.0.0.1", a.port, timeout=10)
        s.ehlo("client.test")
        print("send:", s.sendmail("user@localhost", ["rcpt@localhost"], msg))
        s.quit()
    else:
        cmds = [c.encode() + b"\r\n" for c in a.command]
        line_session(a.port, a.proto, cmds)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("proto", choices=["pop3", "imap", "smtp"])
    ap.add_argument("port", type=int)
    ap.add_argument("--user", default="user")
    ap.add_argument("--password", default="password")
    ap.add_argument("--alloc", type=int)
    ap.add_argument("--state-count", action="store_true")
    ap.add_argument("--first-command", action="append", default=[])
    ap.add_argument("--cat", action="append", default=[])
    ap.add_argument("--no-connect", action="store_true")
    ap.add_argument("--login", action="store_true")
    ap.add_argument("--dele", type=int)
    ap.add_argument("--store", nargs=2)
    ap.add_argument("--send")
    ap.add_argument("--command", action="append", default=[])
    ap.add_argument("--print", action="append", default=[])
    ap.add_argument("--eprint", action="append", default=[])
    ap.add_argument("--print-bytes", type=int)
    ap.add_argument("--sanitizer", action="store_true")
    ap.add_argument("--sanitizer-8bit", action="store_true")
    ap.add_argument("--hang", action="store_true")
    ap.add_argument("--signal")
    ap.add_argument("--exit", type=int, default=0)
    a, words = ap.parse_known_args()
    env = {k: v for k, v in os.environ.items() if k.startswith("MRT_")}
    print("argv: " + json.dumps({"argv": sys.argv[1:], "words": words, "env": env,
                                 "home": os.environ.get("HOME"), "cwd": os.getcwd()}),
          flush=True)
    hold = None
    if a.alloc:
        hold = b"x" * (a.alloc << 20)
    if a.state_count:
        try:
            with open("count") as f:
                n = int(f.read())
        except FileNotFoundError:
            n = 0
        print("count:", n)
        if n == 0:
            a.command += a.first_command
        with open("count", "w") as f:
            f.write(str(n + 1))
    for name in a.cat:
        with open(name, encoding="utf-8") as f:
            print("cat %s: %s" % (name, json.dumps(f.read())))
    if not a.no_connect:
        session(a)
    for t in a.print:
        print(t)
    for t in a.eprint:
        print(t, file=sys.stderr)
    if a.print_bytes:
        line = "x" * 99 + "\n"
        sys.stdout.write(line * (a.print_bytes // 100) + "x" * (a.print_bytes % 100))
        print("END-OF-OUTPUT")
    sys.stdout.flush()
    if a.sanitizer:
        print("=================================================================\n"
              "==4242==ERROR: AddressSanitizer: heap-buffer-overflow on address "
              "0x602000000011 at pc 0x55d0 bp 0x7ffc sp 0x7ffc\n"
              "READ of size 1 at 0x602000000011 thread T0", file=sys.stderr, flush=True)
    if a.sanitizer_8bit:
        sys.stderr.buffer.write(b"==4243==ERROR: AddressSanitizer: SEGV on unknown address "
                                b"(\xff\xfe)\n")
        sys.stderr.flush()
    if a.hang:
        child = subprocess.Popen(["sleep", "60"])
        with open("child.pid", "w") as f:
            f.write(str(child.pid))
        with open("client.pid", "w") as f:
            f.write(str(os.getpid()))
        time.sleep(60)
    if a.signal:
        sig = getattr(signal, "SIG" + a.signal)
        signal.signal(sig, signal.SIG_DFL)
        os.kill(os.getpid(), sig)
        time.sleep(5)
    del hold
    sys.exit(a.exit)


if __name__ == "__main__":
    main()
