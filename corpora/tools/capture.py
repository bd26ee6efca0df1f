#!/usr/bin/python3
"""Capture real POP3, IMAP and SMTP sessions as mailrig transcripts (.trs).

Starts Debian's Dovecot (POP3, IMAP) and Exim (SMTP) on 127.0.0.1, each
with a throwaway configuration in a temporary directory and on a port the
OS picks, puts a recording TCP relay between a scripted client and the
server, and writes what went over the wire, segment by segment, in the
format of docs/transcript.md:

    corpora/transcripts/pop3-dovecot.trs            full POP3 session
    corpora/transcripts/pop3-dovecot-auth.trs       SASL AUTH LOGIN / PLAIN
    corpora/transcripts/pop3-dovecot-pipelined.trs  pipelined commands
    corpora/transcripts/imap-dovecot.trs            full IMAP session
    corpora/transcripts/smtp-exim.trs               full ESMTP session

The mailbox the POP3 Dovecot serves is corpora/mailbox/*.eml, in file-name
order (message 1 is 01-*.eml).  The IMAP Dovecot has a Maildir of several
folders: INBOX is corpora/mailbox-imap/*.eml in the same order, Archive
corpora/mailbox/*.eml; UIDVALIDITY, UIDs, flags and INTERNALDATEs are
fixed, so that the bytes are the same on every capture.

--bench N instead captures three benchmark sessions over make-mailbox.py's
N-message bench set (default 300; message k is the k-th file), into
corpora/bench/ (committed):

    corpora/bench/imap-dovecot.trs  what a mail client does to download a
                                    mailbox: LOGIN ... FETCH 1:* BODY.PEEK[]
                                    (tags 1, 2, 3, ...)
    corpora/bench/pop3-dovecot.trs  USER/PASS, STAT, LIST, UIDL, every RETR,
                                    every TOP n 0, QUIT
    corpora/bench/smtp-exim.trs     every message in its own transaction

No TLS: nothing secret is made or kept; the only credentials are the
throwaway alice/secret in the temporary config.  Everything the script
starts is stopped, and the temporary directory removed, when it ends
(also on an error or Ctrl-C).

Needs root (Dovecot and Exim switch users) and the packages of
ci/install-capture-deps.  Standard library only; run with Debian's
interpreter:

    sudo /usr/bin/python3 corpora/tools/capture.py [--only pop3|imap|smtp]
                                                   [--out DIR] [--keep-tmp]
    sudo /usr/bin/python3 corpora/tools/capture.py --bench [N]

Every capture is checked before it is written: the transcript is read
back and must give the recorded bytes; each message RETR returns must be
the corpus file, byte for byte once un-stuffed; each IMAP BODY[] and
BODY[HEADER] must be the corpus file (or its header) as Dovecot serves it
(as_imap_served), and each RFC822.SIZE, UID and INTERNALDATE what the
Maildir says.  In the bench POP3 session also each LIST size, STAT, UIDL
and TOP n 0 (as_pop3_served); in the bench SMTP session each message
must be in Exim's queue with the body it was sent.
"""

import argparse
import base64
import datetime
import glob
import importlib.util
import os
import platform
import pwd
import re
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from localservers import free_port, listening, stop_group  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
CORPORA = os.path.normpath(os.path.join(HERE, ".."))
MAILBOX = os.path.join(CORPORA, "mailbox")
IMAP_MAILBOX = os.path.join(CORPORA, "mailbox-imap")
OUT_DIR = os.path.join(CORPORA, "transcripts")
BENCH_OUT_DIR = os.path.join(CORPORA, "bench")

USER, PASSWORD = "alice", "secret"
T0 = 1709283600            # 2024-03-01 09:00:00 UTC: UIDVALIDITY, mail times
IO_TIMEOUT = 30.0          # any single wait for the server
START_TIMEOUT = 15.0       # server start-up


class CaptureError(Exception):
    pass


# ===================================================== transcript format
# docs/transcript.md: a segment is `S|C TIME "BYTES"`, broken after each
# LF into `+ "BYTES"` continuation lines; `E TIME EVENT` for events.

_ESCAPES = {0x0D: "\\r", 0x0A: "\\n", 0x09: "\\t", 0x00: "\\0",
            0x5C: "\\\\", 0x22: '\\"'}


def escape(data):
    """Quote bytes: printable ASCII and valid UTF-8 as themselves; CR, LF,
    HTAB, NUL, backslash and quote by name; every other byte as \\xHH."""
    out = []
    for ch in data.decode("utf-8", "surrogateescape"):
        c = ord(ch)
        if c in _ESCAPES:
            out.append(_ESCAPES[c])
        elif 0xDC80 <= c <= 0xDCFF:          # a byte that was not UTF-8
            out.append("\\x%02X" % (c - 0xDC00))
        elif c < 0x20 or c == 0x7F:
            out.append("\\x%02X" % c)
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def split_after_lf(data):
    pieces, start = [], 0
    while True:
        i = data.find(b"\n", start)
        if i < 0 or i == len(data) - 1:
            pieces.append(data[start:])
            return pieces
        pieces.append(data[start:i + 1])
        start = i + 1


class Transcript:
    """Segments and events in the order the relay saw them."""

    def __init__(self):
        self.meta = []       # (key, value)
        self.comments = []   # free comment lines for the header
        self.items = []      # ("S"|"C", t, bytes) | ("E", t, event) | ("#", None, text)
        self.lock = threading.Lock()

    def add(self, kind, t, payload):
        with self.lock:
            self.items.append((kind, t, payload))

    def note(self, text):
        """A comment before the next segment (marks a step of the session)."""
        self.add("#", None, text)

    def segments(self):
        return [(k, p) for k, _, p in self.items if k in "SCE"]

    def render(self):
        lines = ["# mailrig transcript 1"]
        lines += ["# %s: %s" % kv for kv in self.meta]
        lines += ["# " + c if c else "#" for c in self.comments]
        for kind, t, payload in self.items:
            if kind == "#":
                lines.append("")
                lines.append("# " + payload)
            elif kind == "E":
                lines.append("E %.6f %s" % (t, payload))
            else:
                pieces = split_after_lf(payload)
                lines.append("%s %.6f %s" % (kind, t, escape(pieces[0])))
                lines += ["+ " + escape(p) for p in pieces[1:]]
        return "\n".join(lines) + "\n"


_UNESCAPES = {"r": b"\r", "n": b"\n", "t": b"\t", "0": b"\0", "\\": b"\\", '"': b'"'}


def unquote(s, where):
    if len(s) < 2 or s[0] != '"' or s[-1] != '"':
        raise CaptureError("%s: not a quoted string" % where)
    body, out, i = s[1:-1], bytearray(), 0
    while i < len(body):
        ch = body[i]
        if ch == "\\":
            e = body[i + 1:i + 2]
            if e in _UNESCAPES:
                out += _UNESCAPES[e]
                i += 2
            elif e == "x" and re.fullmatch(r"[0-9A-Fa-f]{2}", body[i + 2:i + 4]):
                out.append(int(body[i + 2:i + 4], 16))
                i += 4
            else:
                raise CaptureError("%s: bad escape" % where)
        elif ch == '"' or ord(ch) < 0x20 or ord(ch) == 0x7F:
            raise CaptureError("%s: raw %r" % (where, ch))
        else:
            out += ch.encode("utf-8")
            i += 1
    return bytes(out)


def read_back(text):
    """A strict reader of what render() writes, for the self-check."""
    segs = []
    lines = text.split("\n")
    if lines[0] != "# mailrig transcript 1":
        raise CaptureError("line 1: not a transcript")
    for n, line in enumerate(lines, 1):
        where = "line %d" % n
        if not line or line.startswith("#"):
            continue
        m = re.fullmatch(r'([SC]) (\d+\.\d+) (".*")', line)
        if m:
            segs.append((m.group(1), unquote(m.group(3), where)))
            continue
        m = re.fullmatch(r'\+ (".*")', line)
        if m and segs and segs[-1][0] in "SC":
            segs[-1] = (segs[-1][0], segs[-1][1] + unquote(m.group(1), where))
            continue
        m = re.fullmatch(r"E (\d+\.\d+) ([a-z-]+)", line)
        if m:
            segs.append(("E", m.group(2)))
            continue
        raise CaptureError("%s: cannot read %r" % (where, line[:60]))
    return segs


# ===================================================== recording relay

class RecordingRelay(threading.Thread):
    """Accepts one client on 127.0.0.1:<ephemeral>, connects it to the
    server, relays both ways and records each recv() with the time since
    accept.  Records the first end of the connection (`close` if the
    server ended it, `client-close` if the client did, `reset` on RST);
    after that the rest is relayed but the other side's end is not
    recorded."""

    def __init__(self, upstream_port, transcript):
        super().__init__(daemon=True)
        self.upstream_port = upstream_port
        self.tr = transcript
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(1)
        self.port = self.listener.getsockname()[1]
        self.error = None

    def run(self):
        try:
            self._run()
        except Exception as e:  # reported by finish()
            self.error = e

    def _run(self):
        self.listener.settimeout(IO_TIMEOUT)
        client, _ = self.listener.accept()
        t0 = time.monotonic()
        self.listener.close()
        server = socket.create_connection(("127.0.0.1", self.upstream_port),
                                          timeout=IO_TIMEOUT)
        for s in (client, server):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            s.setblocking(False)
        sel = selectors.DefaultSelector()
        sel.register(server, selectors.EVENT_READ, ("S", client))
        sel.register(client, selectors.EVENT_READ, ("C", server))
        ended = False
        deadline = time.monotonic() + 600
        while sel.get_map() and time.monotonic() < deadline:
            for key, _ in sel.select(timeout=IO_TIMEOUT):
                side, peer = key.data
                sock = key.fileobj
                try:
                    data = sock.recv(65536)
                    reset = False
                except ConnectionResetError:
                    data, reset = b"", True
                t = time.monotonic() - t0
                if data:
                    self.tr.add(side, t, data)
                    peer.setblocking(True)
                    peer.sendall(data)
                    peer.setblocking(False)
                    continue
                if not ended:
                    self.tr.add("E", t, "reset" if reset else
                                ("close" if side == "S" else "client-close"))
                    ended = True
                sel.unregister(sock)
                try:
                    peer.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
        client.close()
        server.close()

    def finish(self):
        self.join(IO_TIMEOUT + 5)
        if self.is_alive():
            raise CaptureError("relay did not finish")
        if self.error:
            raise CaptureError("relay failed: %r" % (self.error,))


# ===================================================== scripted client

class Client:
    """A blocking line client with its own buffer."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=IO_TIMEOUT)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def line(self):
        while b"\r\n" not in self.buf:
            d = self.sock.recv(65536)
            if not d:
                raise CaptureError("server closed; have %r" % self.buf[-200:])
            self.buf += d
        i = self.buf.index(b"\r\n") + 2
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def until_eof(self):
        while True:
            d = self.sock.recv(65536)
            if not d:
                out, self.buf = self.buf, b""
                return out
            self.buf += d

    def close(self):
        self.sock.close()


class Pop3(Client):
    def response(self, multi=False):
        """One response; a multi-line one when multi and +OK.  Returns
        (status line, list of un-stuffed body lines)."""
        first = self.line()
        body = []
        if multi and first.startswith(b"+OK"):
            while True:
                ln = self.line()
                if ln == b".\r\n":
                    break
                body.append(ln[1:] if ln.startswith(b".") else ln)
        return first, body

    def cmd(self, command, multi=False, expect=b"+OK"):
        self.send(command + b"\r\n")
        first, body = self.response(multi)
        if not first.startswith(expect):
            raise CaptureError("%r: expected %r, got %r" % (command, expect, first))
        return first, body


class Smtp(Client):
    def reply(self):
        lines = [self.line()]
        while lines[-1][3:4] == b"-":
            lines.append(self.line())
        return lines

    def cmd(self, command, expect):
        self.send(command + b"\r\n")
        return self.expect(expect, command)

    def expect(self, code, what=b""):
        r = self.reply()
        if not r[0].startswith(code):
            raise CaptureError("%r: expected %r, got %r" % (what, code, r))
        return r


class Imap(Client):
    """An IMAP client that reads whole responses (a line and the literals
    it announces, RFC 9051 4.3) and sends commands with synchronizing
    literals the way RFC 9051 7.5 says: up to the literal, then wait for
    the server's "+" continuation."""

    LITERAL_AT_END = re.compile(rb"~?\{(\d+)(\+?)\}\r\n\Z")

    def __init__(self, port, tags=b"a%03d"):
        """tags: the format of the n-th tag (a001, a002, ... by default;
        b"%d" gives 1, 2, ..., also a tag by RFC 9051 9: any ASTRING-CHAR
        but "+")."""
        super().__init__(port)
        self.count = 0
        self.tags = tags

    def read_exact(self, n):
        while len(self.buf) < n:
            d = self.sock.recv(65536)
            if not d:
                raise CaptureError("server closed inside a literal")
            self.buf += d
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def response(self):
        """One response: its first line and, for each literal at the end
        of a line, the literal's bytes and the next line."""
        out = b""
        while True:
            ln = self.line()
            out += ln
            m = self.LITERAL_AT_END.search(ln)
            if not m:
                return out
            out += self.read_exact(int(m.group(1)))

    def next_tag(self):
        self.count += 1
        return self.tags % self.count

    def send_pieces(self, tag, pieces):
        """Send `tag pieces[0]`; a piece ending in a synchronizing literal
        {n} waits for the continuation before the next piece."""
        untagged = []
        data = tag + b" "
        for k, piece in enumerate(pieces):
            data += piece
            m = self.LITERAL_AT_END.search(piece + b"\r\n")
            if k + 1 < len(pieces) and m and not m.group(2):
                self.send(data + b"\r\n")
                data = b""
                while True:
                    r = self.response()
                    if r.startswith(b"+"):
                        break
                    if r.startswith(tag + b" "):
                        raise CaptureError("%r: refused before its literal: %r" % (pieces[0], r))
                    untagged.append(r)
            elif k + 1 < len(pieces) and m:
                data += b"\r\n"           # {n+}: no wait (RFC 7888)
        self.send(data + b"\r\n")
        return untagged

    def until_tagged(self, tag, untagged, what, expect):
        while True:
            r = self.response()
            if r.startswith(tag + b" "):
                status = r[len(tag) + 1:].split(b" ", 1)[0]
                if expect is not None and status != expect:
                    raise CaptureError("%r: expected %r, got %r" % (what, expect, r))
                return untagged, r
            untagged.append(r)

    def cmd(self, *pieces, expect=b"OK"):
        """Run one command; returns (untagged responses, tagged line)."""
        tag = self.next_tag()
        untagged = self.send_pieces(tag, pieces)
        return self.until_tagged(tag, untagged, pieces[0], expect)


# A reader of the IMAP values in a response, for the checks (not a
# parser to test mailrig against: just enough for FETCH data).

_IMAP_ATOM_END = b" ()\r\n"


def imap_values(data, pos=0, until=None):
    """Parse IMAP values from data[pos:] up to `until` (b")" or None for
    CRLF); returns (list, position after).  Atoms keep a [section] and
    <origin> that follow them."""
    out = []
    while pos < len(data):
        c = data[pos:pos + 1]
        if c == b" ":
            pos += 1
        elif until is not None and c == until:
            return out, pos + 1
        elif until is None and data.startswith(b"\r\n", pos):
            return out, pos + 2
        elif c == b"(":
            inner, pos = imap_values(data, pos + 1, b")")
            out.append(inner)
        elif c == b'"':
            s, pos = bytearray(), pos + 1
            while data[pos:pos + 1] != b'"':
                if data[pos:pos + 1] == b"\\":
                    pos += 1
                s += data[pos:pos + 1]
                pos += 1
            out.append(bytes(s))
            pos += 1
        elif c == b"{" or data.startswith(b"~{", pos):
            end = data.index(b"}\r\n", pos)
            n = int(data[pos:end].lstrip(b"~{").rstrip(b"+"))
            out.append(data[end + 3:end + 3 + n])
            pos = end + 3 + n
        else:
            start, depth = pos, 0
            while pos < len(data):
                ch = data[pos:pos + 1]
                if ch == b"[":
                    depth += 1
                elif ch == b"]":
                    depth -= 1
                elif depth == 0 and ch in (b" ", b"(", b")", b"\r"):
                    break
                pos += 1
            atom = data[start:pos]
            out.append(None if atom == b"NIL" else atom)
    return out, pos


def fetch_items(response):
    """(message number, {item name: value}) of a `* n FETCH (...)` response."""
    m = re.match(rb"\* (\d+) FETCH \(", response)
    if not m:
        return None
    vals, _ = imap_values(response, m.end() - 1)
    items = vals[0]
    return int(m.group(1)), {items[k].upper(): items[k + 1] for k in range(0, len(items), 2)}


# ===================================================== servers

def dpkg_version(pkg):
    try:
        return subprocess.run(["dpkg-query", "-W", "-f=${Version}", pkg],
                              capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def debian_release():
    try:
        with open("/etc/debian_version") as f:
            return "Debian " + f.read().strip()
    except OSError:
        return platform.platform()


class Server:
    """A server process in its own process group; stop() ends that group."""
    name = "server"

    def __init__(self, tmp):
        self.tmp = tmp
        self.proc = None
        self.port = None
        self.logfile = None

    def command(self):
        raise NotImplementedError

    def env(self):
        return None     # inherit ours

    def configure(self):
        raise NotImplementedError

    def start(self):
        for _ in range(3):  # the port can be taken between probe and bind
            self.port = free_port()
            self.configure()
            self.logfile = open(os.path.join(self.tmp, self.name + ".stderr"), "ab")
            self.proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL,
                                         stdout=self.logfile, stderr=self.logfile,
                                         start_new_session=True, cwd=self.tmp,
                                         env=self.env())
            deadline = time.monotonic() + START_TIMEOUT
            while time.monotonic() < deadline:
                if listening(self.port):
                    return
                if self.proc.poll() is not None:
                    break
                time.sleep(0.05)
            self.stop()
        raise CaptureError("%s did not start; see its log:\n%s" % (self.name, self.log_tail()))

    def log_tail(self):
        out = []
        for p in sorted(glob.glob(os.path.join(self.tmp, "**", "*log*"), recursive=True)):
            if os.path.isfile(p):
                with open(p, "rb") as f:
                    tail = f.read()[-2000:]
                if b"\0" not in tail:      # not Dovecot's binary dovecot.index.log
                    out.append("== %s\n%s" % (p, tail.decode("utf-8", "replace")))
        return "\n".join(out)

    def stop(self):
        stop_group(self.proc)
        self.proc = None
        if self.logfile:
            self.logfile.close()
            self.logfile = None


class DovecotServer(Server):
    """Dovecot 2.3 in the foreground (dovecot -F) in its own directory,
    listening for one protocol only, with one user whose mail is a
    Maildir there.  A subclass writes the mail, then calls
    write_account()."""
    PROTOCOL = PACKAGE = None

    def __init__(self, tmp, name):
        super().__init__(tmp)
        self.name = name
        self.dir = os.path.join(tmp, name)
        os.makedirs(self.dir)
        mail = pwd.getpwnam("nobody")      # mail is read as this user
        self.mail_uid, self.mail_gid = mail.pw_uid, mail.pw_gid
        self.maildir = os.path.join(self.dir, "Maildir")

    def write_account(self):
        """Give the Maildir to the mail user; write the passwd-file."""
        for root, dirs, files in os.walk(self.maildir):
            for p in [root] + [os.path.join(root, x) for x in files]:
                os.chown(p, self.mail_uid, self.mail_gid)
        # Not a real secret: the throwaway account of this capture only.
        with open(os.path.join(self.dir, "passwd"), "w") as f:
            f.write("%s:{PLAIN}%s:%d:%d::%s::\n"
                    % (USER, PASSWORD, self.mail_uid, self.mail_gid, self.dir))
        os.chmod(os.path.join(self.dir, "passwd"), 0o644)

    def settings(self):
        """Configuration lines of the subclass, after mail_location."""
        return ""

    def configure(self):
        d, p = self.dir, self.PROTOCOL
        conf = """\
# Throwaway configuration written by corpora/tools/capture.py.
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
protocols = {p}
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 1
first_valid_gid = 1
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {d}/passwd
}}
userdb {{
  driver = passwd-file
  args = {d}/passwd
}}
mail_location = maildir:{d}/Maildir
{settings}service {p}-login {{
  inet_listener {p} {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener {p}s {{
    port = 0
  }}
}}
""".format(d=d, p=p, port=self.port, settings=self.settings())
        with open(os.path.join(d, "dovecot.conf"), "w") as f:
            f.write(conf)

    def command(self):
        return ["dovecot", "-F", "-c", os.path.join(self.dir, "dovecot.conf")]

    def version(self):
        v = subprocess.run(["dovecot", "--version"], capture_output=True,
                           text=True).stdout.split()   # "2.3.19.1 (9b53102964)"
        build = " build %s;" % v[1].strip("()") if len(v) > 1 else ""
        return "dovecot %s (%s %s package %s %s), 127.0.0.1" % (
            v[0] if v else "unknown", build.strip(), debian_release(),
            self.PACKAGE, dpkg_version(self.PACKAGE))


class Dovecot(DovecotServer):
    """Dovecot for POP3: the Maildir holds the corpus; its dovecot-uidlist
    is written here with a fixed UIDVALIDITY so that UIDL answers are the
    same on every capture."""
    PROTOCOL, PACKAGE = "pop3", "dovecot-pop3d"

    def __init__(self, tmp, messages, subdir="dovecot"):
        super().__init__(tmp, subdir)
        self.messages = messages
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(self.maildir, sub))
        uidlist = ["3 V%d N%d" % (T0, len(messages) + 1)]
        for uid, (_, data) in enumerate(messages, 1):
            base = "%d.M%dP1.mailrig" % (T0 + uid, uid)
            with open(os.path.join(self.maildir, "cur", base + ":2,"), "wb") as f:
                f.write(data)
            uidlist.append("%d :%s" % (uid, base))
        with open(os.path.join(self.maildir, "dovecot-uidlist"), "w") as f:
            f.write("\n".join(uidlist) + "\n")
        self.write_account()


def mutf7(name):
    """A mailbox name in IMAP's modified UTF-7 (RFC 3501 5.1.3), which is
    also how Dovecot names Maildir++ folders on disk."""
    out, run = [], []

    def flush():
        if run:
            b64 = base64.b64encode("".join(run).encode("utf-16-be")).rstrip(b"=")
            out.append("&" + b64.decode().replace("/", ",") + "-")
            run.clear()
    for ch in name:
        if 0x20 <= ord(ch) <= 0x7E:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            run.append(ch)
    flush()
    return "".join(out)


class ImapFolder:
    """A folder of the IMAP capture: its name (UTF-8, "/" between levels),
    special use, UIDVALIDITY and messages [(file name, bytes, uid, maildir
    flags, INTERNALDATE as a Unix time)]."""

    def __init__(self, name, uidvalidity, messages=(), special_use=None):
        self.name = name
        self.uidvalidity = uidvalidity
        self.messages = list(messages)
        self.special_use = special_use


class DovecotImap(DovecotServer):
    """Dovecot for IMAP, with a Maildir++ of several folders written here:
    each folder's dovecot-uidlist fixes its UIDVALIDITY and the UIDs, the
    file names carry the flags (and dovecot-keywords the keyword letters),
    the files' mtimes are the INTERNALDATEs, and TZ is fixed for Dovecot,
    so that every capture sends the same bytes (see docs/corpora.md for
    what still changes).  Quota (maildir backend) and ACL (vfile, no ACL
    files: the owner has every right) plugins are on, for GETQUOTAROOT
    and MYRIGHTS."""
    PROTOCOL, PACKAGE = "imap", "dovecot-imapd"
    TZ = "<+0530>-5:30"       # POSIX TZ for UTC+05:30: INTERNALDATE "... +0530"
    KEYWORDS = ["$Forwarded", "$MDNSent", "$Label1"]   # Maildir letters a, b, c

    def __init__(self, tmp, folders, subdir="dovecot-imap"):
        super().__init__(tmp, subdir)
        self.folders = folders
        for folder in folders:
            path = self.maildir if folder.name == "INBOX" else os.path.join(
                self.maildir, "." + mutf7(folder.name).replace("/", "."))
            for sub in ("cur", "new", "tmp"):
                os.makedirs(os.path.join(path, sub))
            last = max([uid for _, _, uid, _, _ in folder.messages], default=0)
            uidlist = ["3 V%d N%d" % (folder.uidvalidity, last + 1)]
            for n, (_, data, uid, flags, mtime) in enumerate(folder.messages, 1):
                base = "%d.M%dP1.mailrig" % (mtime, n)
                p = os.path.join(path, "cur", base + ":2," + flags)
                with open(p, "wb") as f:
                    f.write(data)
                os.utime(p, (mtime, mtime))
                uidlist.append("%d :%s" % (uid, base))
            with open(os.path.join(path, "dovecot-uidlist"), "w") as f:
                f.write("\n".join(uidlist) + "\n")
            with open(os.path.join(path, "dovecot-keywords"), "w") as f:
                f.write("".join("%d %s\n" % kv for kv in enumerate(self.KEYWORDS)))
        self.write_account()

    def env(self):
        return dict(os.environ, TZ=self.TZ)

    def settings(self):
        boxes = "".join("  mailbox \"%s\" {\n    special_use = %s\n  }\n" % (f.name, f.special_use)
                        for f in self.folders if f.special_use)
        return """\
mail_plugins = quota acl
namespace inbox {{
  inbox = yes
  separator = /
{boxes}}}
plugin {{
  quota = maildir:User quota
  quota_rule = *:storage=100M:messages=10000
  acl = vfile
}}
protocol imap {{
  mail_plugins = quota acl imap_quota imap_acl
}}
""".format(boxes=boxes)


class Exim(Server):
    """Exim 4 as a foreground listening daemon (exim4 -bdf) with its own
    configuration (-C) and spool: local domain mailrig.test with users
    alice and bob, no relaying, VRFY allowed, AUTH PLAIN and LOGIN for
    alice/secret, no TLS, and messages only queued (never delivered)."""
    name = "exim"

    def __init__(self, tmp, settings=""):
        """settings: more main-section lines for the configuration."""
        super().__init__(tmp)
        self.settings = settings
        self.dir = os.path.join(tmp, "exim")
        self.user = "Debian-exim"
        ent = pwd.getpwnam(self.user)
        for sub in ("spool", "log"):
            p = os.path.join(self.dir, sub)
            os.makedirs(p)
            os.chown(p, ent.pw_uid, ent.pw_gid)
        self.conf = os.path.join(self.dir, "exim.conf")

    def configure(self):
        conf = """\
# Throwaway configuration written by corpora/tools/capture.py.
primary_hostname = mx.mailrig.test
qualify_domain = mailrig.test
domainlist local_domains = mailrig.test
spool_directory = {d}/spool
log_file_path = {d}/log/%slog
pid_file_path = {d}/exim.pid
exim_user = {user}
exim_group = {user}
never_users = root
keep_environment =
local_interfaces = <; 127.0.0.1
daemon_smtp_ports = {port}
host_lookup =
rfc1413_hosts =
tls_advertise_hosts =
queue_only = true
pipelining_advertise_hosts = *
auth_advertise_hosts = *
message_size_limit = 10M
acl_smtp_rcpt = acl_rcpt
acl_smtp_vrfy = acl_vrfy
{settings}
begin acl
acl_rcpt:
  accept domains = +local_domains
         local_parts = alice : bob
  deny   domains = +local_domains
         message = unknown user
  deny   message = relay not permitted
acl_vrfy:
  accept

begin routers
local_users:
  driver = accept
  domains = +local_domains
  local_parts = alice : bob
  transport = discard

begin transports
discard:
  driver = appendfile
  file = /dev/null
  user = {user}

begin authenticators
plain:
  driver = plaintext
  public_name = PLAIN
  server_prompts = :
  server_condition = ${{if and {{{{eq{{$auth2}}{{{u}}}}}{{eq{{$auth3}}{{{p}}}}}}}}}
  server_set_id = $auth2
  server_advertise_condition = true
login:
  driver = plaintext
  public_name = LOGIN
  server_prompts = Username:: : Password::
  server_condition = ${{if and {{{{eq{{$auth1}}{{{u}}}}}{{eq{{$auth2}}{{{p}}}}}}}}}
  server_set_id = $auth1
  server_advertise_condition = true
""".format(d=self.dir, user=self.user, port=self.port, u=USER, p=PASSWORD,
           settings=self.settings)
        with open(self.conf, "w") as f:
            f.write(conf)
        os.chmod(self.conf, 0o644)

    def command(self):
        return ["exim4", "-C", self.conf, "-bdf"]

    def check_queue(self, ids, sent):
        """The queue (queue_only) holds one message per id, in order;
        the body Exim stored in each -D file (LF line ends) is the body of
        the message sent."""
        spool = os.path.join(self.dir, "spool", "input")
        for msg_id, data in zip(ids, sent):
            p = os.path.join(spool, msg_id + "-D")
            if not os.path.exists(p):
                raise CaptureError("Exim did not queue %s" % msg_id)
            with open(p, "rb") as f:
                stored = f.read().split(b"\n", 1)[1]     # after "<id>-D"
            i = data.find(b"\r\n\r\n")
            body = b"" if i < 0 else data[i + 4:]
            if stored != body.replace(b"\r\n", b"\n"):
                raise CaptureError("Exim stored another body for %s" % msg_id)
        queued = len(glob.glob(os.path.join(spool, "*-D")))
        if queued != len(ids) or len(set(ids)) != len(ids):
            raise CaptureError("Exim queued %d messages, %d accepted" % (queued, len(ids)))

    def version(self):
        first = subprocess.run(["exim4", "-C", self.conf, "-bV"], capture_output=True,
                               text=True).stdout.splitlines()[0]
        v = first.split()[2] if first.startswith("Exim version") else first
        return "exim %s (%s package exim4-daemon-light %s), 127.0.0.1" % (
            v, debian_release(), dpkg_version("exim4-daemon-light"))


# ===================================================== sessions

def stuff(data):
    """Dot-stuff a CRLF message for POP3/SMTP and add the terminator."""
    if data and not data.endswith(b"\r\n"):
        data += b"\r\n"
    lines = data.split(b"\r\n")[:-1]
    return b"".join((b"." + l if l.startswith(b".") else l) + b"\r\n"
                    for l in lines) + b".\r\n"


def as_served(data):
    """A message as a POP3 server returns it: ending in CRLF."""
    return data if not data or data.endswith(b"\r\n") else data + b"\r\n"


def plain(user, password):
    return base64.b64encode(b"\0" + user.encode() + b"\0" + password.encode())


def run_session(server_port, meta, comments, drive):
    """Relay one session through the recorder; return the transcript."""
    tr = Transcript()
    tr.meta = meta
    tr.comments = comments
    relay = RecordingRelay(server_port, tr)
    relay.start()
    drive(relay.port, tr)
    relay.finish()
    return tr


def pop3_full(messages):
    def drive(port, tr):
        c = Pop3(port)
        first, _ = c.response()
        assert first.startswith(b"+OK")
        tr.note("capabilities before login")
        _, capa = c.cmd(b"CAPA", multi=True)
        tr.note("AUTH with no argument lists the SASL mechanisms")
        c.cmd(b"AUTH", multi=True)
        tr.note('AUTH PLAIN: "+ " continuation; a wrong password (-ERR), then "*" cancels')
        c.cmd(b"AUTH PLAIN", expect=b"+ ")
        c.cmd(plain(USER, "wrong"), expect=b"-ERR")
        c.cmd(b"AUTH PLAIN", expect=b"+ ")
        c.cmd(b"*", expect=b"-ERR")
        tr.note("USER/PASS: a wrong password first (-ERR), then the right one")
        c.cmd(b"USER " + USER.encode())
        c.cmd(b"PASS wrong", expect=b"-ERR")
        c.cmd(b"USER " + USER.encode())
        c.cmd(b"PASS " + PASSWORD.encode())
        tr.note("transaction state")
        c.cmd(b"CAPA", multi=True)
        stat, _ = c.cmd(b"STAT")
        if not stat.startswith(b"+OK %d " % len(messages)):
            raise CaptureError("STAT: %r" % stat)
        c.cmd(b"LIST", multi=True)
        c.cmd(b"LIST 1")
        c.cmd(b"UIDL", multi=True)
        c.cmd(b"UIDL 1")
        tr.note("RETR of every message (1 = corpora/mailbox/01-*.eml, ...)")
        for n, (name, data) in enumerate(messages, 1):
            _, body = c.cmd(b"RETR %d" % n, multi=True)
            if b"".join(body) != as_served(data):
                raise CaptureError("RETR %d is not %s" % (n, name))
        tr.note("TOP 1 0 (headers only) and TOP 3 5")
        c.cmd(b"TOP 1 0", multi=True)
        c.cmd(b"TOP 3 5", multi=True)
        tr.note("commands on a message that does not exist")
        c.cmd(b"RETR %d" % (len(messages) + 59), expect=b"-ERR")
        c.cmd(b"LIST %d" % (len(messages) + 59), expect=b"-ERR")
        tr.note("NOOP, DELE 2, commands on the deleted message, RSET")
        c.cmd(b"NOOP")
        c.cmd(b"DELE 2")
        c.cmd(b"RETR 2", expect=b"-ERR")
        c.cmd(b"DELE 2", expect=b"-ERR")
        c.cmd(b"STAT")
        c.cmd(b"RSET")
        c.cmd(b"STAT")
        tr.note("an unknown command, then QUIT")
        c.cmd(b"XYZZY", expect=b"-ERR")
        c.cmd(b"QUIT")
        rest = c.until_eof()
        if rest:
            raise CaptureError("bytes after QUIT: %r" % rest[:100])
        c.close()
    return drive


def pop3_auth():
    def drive(port, tr):
        c = Pop3(port)
        c.response()
        tr.note("AUTH LOGIN: base64 prompts in the continuations, a wrong password")
        c.cmd(b"AUTH LOGIN", expect=b"+ ")
        c.cmd(base64.b64encode(USER.encode()), expect=b"+ ")
        c.cmd(base64.b64encode(b"wrong"), expect=b"-ERR")
        tr.note("AUTH PLAIN with the initial response on the command line (RFC 5034)")
        c.cmd(b"AUTH PLAIN " + plain(USER, PASSWORD))
        c.cmd(b"STAT")
        c.cmd(b"QUIT")
        c.until_eof()
        c.close()
    return drive


def pop3_pipelined(messages):
    def drive(port, tr):
        c = Pop3(port)
        c.response()
        tr.note("CAPA lists PIPELINING (RFC 2449)")
        _, capa = c.cmd(b"CAPA", multi=True)
        if b"PIPELINING\r\n" not in capa:
            raise CaptureError("no PIPELINING in CAPA")
        tr.note("login, pipelined: two commands in one write")
        c.send(b"USER %s\r\nPASS %s\r\n" % (USER.encode(), PASSWORD.encode()))
        for _ in range(2):
            first, _ = c.response()
            if not first.startswith(b"+OK"):
                raise CaptureError("pipelined login: %r" % first)
        tr.note("ten commands in one write, QUIT last")
        batch = [(b"STAT", False), (b"LIST", True), (b"UIDL 3", False),
                 (b"TOP 15 0", True), (b"RETR 15", True), (b"RETR 16", True),
                 (b"RETR 99", False), (b"DELE 1", False), (b"RSET", False),
                 (b"QUIT", False)]
        c.send(b"".join(cmd + b"\r\n" for cmd, _ in batch))
        for cmd, multi in batch:
            first, body = c.response(multi)
            if cmd.startswith(b"RETR 1") and b"".join(body) != as_served(messages[int(cmd[5:]) - 1][1]):
                raise CaptureError("pipelined %r differs" % cmd)
        c.until_eof()
        c.close()
    return drive


def as_pop3_served(data):
    """A message as Dovecot's POP3 sends it in RETR (before stuffing): a
    bare LF becomes CRLF as in IMAP's BODY[], but a NUL byte is sent as
    it is (IMAP sends 0x80), and a bare CR too; it ends in CRLF (the
    terminator is a line of its own, RFC 1939 3)."""
    return as_served(re.sub(rb"(?<!\r)\n", b"\r\n", data))


def pop3_uidl(uidvalidity, uid):
    """Dovecot's unique-id with its default pop3_uidl_format %08Xu%08Xv
    (which, despite the X, is lower-case hex)."""
    return b"%08x%08x" % (uid, uidvalidity)


def pop3_listing(body, what):
    """{message number: the rest} of a LIST or UIDL listing (RFC 1939 5
    "scan listing", 7 "unique-id listing": number, one space, value)."""
    out = {}
    for ln in body:
        m = re.fullmatch(rb"(\d+) (\S+)\r\n", ln)
        if not m:
            raise CaptureError("%s: bad line %r" % (what, ln))
        out[int(m.group(1))] = m.group(2)
    return out


def pop3_bench(messages):
    """The POP3 benchmark session: log in, list, download every message
    (RETR) and every header (TOP n 0), one command at a time."""
    n_msgs = len(messages)

    def drive(port, tr):
        c = Pop3(port)
        first, _ = c.response()
        if not first.startswith(b"+OK"):
            raise CaptureError("greeting: %r" % first)
        tr.note("CAPA (RFC 2449), USER and PASS (RFC 1939 7)")
        c.cmd(b"CAPA", multi=True)
        c.cmd(b"USER " + USER.encode())
        c.cmd(b"PASS " + PASSWORD.encode())
        tr.note("STAT, LIST (RFC 1939 5), UIDL (RFC 1939 7)")
        stat, _ = c.cmd(b"STAT")
        # RFC 1939 5 and 11: sizes count the message as sent, CRLF line
        # ends (for Dovecot: no CRLF is counted for a last line that has
        # none, see as_served).
        sizes = {n: len(re.sub(rb"(?<!\r)\n", b"\r\n", data))
                 for n, (_, data) in enumerate(messages, 1)}
        if stat != b"+OK %d %d\r\n" % (n_msgs, sum(sizes.values())):
            raise CaptureError("STAT: %r" % stat)
        _, body = c.cmd(b"LIST", multi=True)
        if pop3_listing(body, "LIST") != {n: b"%d" % v for n, v in sizes.items()}:
            raise CaptureError("LIST sizes differ from the messages")
        _, body = c.cmd(b"UIDL", multi=True)
        if pop3_listing(body, "UIDL") != {n: pop3_uidl(T0, n) for n in sizes}:
            raise CaptureError("UIDL differs from the dovecot-uidlist written")
        tr.note("RETR 1 .. RETR %d (RFC 1939 5; message k is the k-th file of the "
                "bench set)" % n_msgs)
        for n, (name, data) in enumerate(messages, 1):
            _, body = c.cmd(b"RETR %d" % n, multi=True)
            if b"".join(body) != as_pop3_served(data):
                raise CaptureError("RETR %d is not %s" % (n, name))
        tr.note("TOP 1 0 .. TOP %d 0: the header and the blank line (RFC 1939 7)" % n_msgs)
        for n, (name, data) in enumerate(messages, 1):
            _, body = c.cmd(b"TOP %d 0" % n, multi=True)
            if b"".join(body) != as_served(header_of(as_pop3_served(data))):
                raise CaptureError("TOP %d 0 is not the header of %s" % (n, name))
        tr.note("QUIT (RFC 1939 6)")
        c.cmd(b"QUIT")
        rest = c.until_eof()
        if rest:
            raise CaptureError("bytes after QUIT: %r" % rest[:100])
        c.close()
    return drive


def smtp_full(messages):

    def pick(prefix):
        return next(d for n, d in messages if n.startswith(prefix))

    dots = pick("15-")
    utf8 = pick("11-")
    froms = pick("17-")

    def drive(port, tr):
        c = Smtp(port)
        c.expect(b"220")
        tr.note("EHLO; an unknown command (500); HELO without its argument (501); HELO; EHLO again")
        ehlo = c.cmd(b"EHLO client.mailrig.test", b"250")
        if b"250-PIPELINING\r\n" not in ehlo or not any(b"AUTH" in l for l in ehlo):
            raise CaptureError("EHLO lacks PIPELINING or AUTH: %r" % ehlo)
        c.cmd(b"FOO", b"500")
        c.cmd(b"HELO", b"501")
        c.cmd(b"HELO client.mailrig.test", b"250")
        c.cmd(b"EHLO client.mailrig.test", b"250")
        tr.note("NOOP, HELP (multi-line 214), VRFY of a local and a foreign address")
        c.cmd(b"NOOP", b"250")
        c.cmd(b"HELP", b"214")
        c.cmd(b"VRFY alice@mailrig.test", b"250")
        c.cmd(b"VRFY nobody@elsewhere.example", b"550")
        tr.note("a transaction: one accepted and one rejected recipient, DATA with dot-stuffed lines")
        c.cmd(b"MAIL FROM:<alice@mailrig.test>", b"250")
        c.cmd(b"RCPT TO:<bob@mailrig.test>", b"250")
        c.cmd(b"RCPT TO:<nobody@elsewhere.example>", b"550")
        c.cmd(b"DATA", b"354")
        c.send(stuff(dots))
        c.expect(b"250", b"end of DATA")
        tr.note("RSET in the middle of a transaction")
        c.cmd(b"MAIL FROM:<alice@mailrig.test>", b"250")
        c.cmd(b"RSET", b"250")
        tr.note('AUTH PLAIN with an empty "334 " continuation and a wrong password (535)')
        c.cmd(b"AUTH PLAIN", b"334")
        c.cmd(plain(USER, "wrong"), b"535")
        tr.note("AUTH LOGIN: base64 prompts, right password (235)")
        c.cmd(b"AUTH LOGIN", b"334")
        c.cmd(base64.b64encode(USER.encode()), b"334")
        c.cmd(base64.b64encode(PASSWORD.encode()), b"235")
        tr.note("PIPELINING: MAIL, RCPT, RCPT (rejected), DATA in one write, then the 8bit body")
        c.send(b"MAIL FROM:<alice@mailrig.test> BODY=8BITMIME SIZE=%d\r\n"
               b"RCPT TO:<bob@mailrig.test>\r\n"
               b"RCPT TO:<carol@mailrig.test>\r\n"
               b"DATA\r\n" % len(utf8))
        for code in (b"250", b"250", b"550", b"354"):
            c.expect(code, b"pipelined batch")
        c.send(stuff(utf8))
        c.expect(b"250", b"end of pipelined DATA")
        tr.note("CHUNKING (RFC 3030): BDAT with the chunk in the same write; the split falls mid-line")
        c.cmd(b"MAIL FROM:<alice@mailrig.test>", b"250")
        c.cmd(b"RCPT TO:<alice@mailrig.test>", b"250")
        half = len(froms) // 2
        c.send(b"BDAT %d\r\n" % half + froms[:half])
        c.expect(b"250", b"BDAT")
        c.send(b"BDAT %d LAST\r\n" % (len(froms) - half) + froms[half:])
        c.expect(b"250", b"BDAT LAST")
        tr.note("QUIT")
        c.cmd(b"QUIT", b"221")
        c.until_eof()
        c.close()
    return drive


def as_smtp_data(data):
    """A message as an SMTP client must send it (before stuffing): every
    bare CR and bare LF as CRLF (RFC 5321 2.3.8; what Python's smtplib
    does too), and ending in CRLF so that the end of data is
    <CRLF>.<CRLF> (RFC 5321 4.1.1.4).  Other bytes, NUL included, as
    they are (RFC 5321 4.5.2: any of the 128 ASCII characters; 8-bit
    ones under BODY=8BITMIME)."""
    return as_served(re.sub(rb"\r\n|\r|\n", b"\r\n", data))


# The bench SMTP session's envelope: senders in turn, the two users of
# Exim's local domain, and two addresses its acl_rcpt rejects (550
# "unknown user" and "relay not permitted").
BENCH_SENDERS = [b"alice@mailrig.test", b"bob@mailrig.test", b"news@elsewhere.example"]
BENCH_USERS = [b"alice@mailrig.test", b"bob@mailrig.test"]
BENCH_REJECTED = [b"carol@mailrig.test", b"dave@elsewhere.example"]


def bench_envelope(k):
    """(sender, [(recipient, accepted)]) of the k-th message (1-based):
    1, 2, 3 recipients in turn; the third, on every third message, one
    that Exim rejects."""
    users = BENCH_USERS[(k - 1) % 2:] + BENCH_USERS[:(k - 1) % 2]
    n = 1 + (k - 1) % 3
    rcpts = [(u, True) for u in users[:min(n, 2)]]
    if n == 3:
        rcpts.append((BENCH_REJECTED[(k // 3) % 2], False))
    return BENCH_SENDERS[(k - 1) % len(BENCH_SENDERS)], rcpts


def smtp_bench(messages, exim):
    """The SMTP benchmark session: every message of the bench set in its
    own transaction (RFC 5321 3.3), one command at a time."""
    def drive(port, tr):
        c = Smtp(port)
        c.expect(b"220")
        tr.note("EHLO (RFC 5321 4.1.1.1)")
        ehlo = c.cmd(b"EHLO client.mailrig.test", b"250")
        if b"250-8BITMIME\r\n" not in ehlo:
            raise CaptureError("EHLO lacks 8BITMIME: %r" % ehlo)
        tr.note("message k of the bench set: MAIL FROM (BODY=8BITMIME when it has 8-bit "
                "bytes, RFC 6152), 1 to 3 RCPT TO (every third message one rejected, 550), "
                "DATA, the message with its line ends as CRLF and dot-stuffed "
                "(RFC 5321 4.1.1.2-4.1.1.4, 4.5.2); after every 25th RSET and NOOP")
        ids = []
        for k, (name, data) in enumerate(messages, 1):
            sender, rcpts = bench_envelope(k)
            body = as_smtp_data(data)
            param = b" BODY=8BITMIME" if re.search(rb"[\x80-\xff]", body) else b""
            c.cmd(b"MAIL FROM:<%s>%s" % (sender, param), b"250")
            for rcpt, accepted in rcpts:
                c.cmd(b"RCPT TO:<%s>" % rcpt, b"250" if accepted else b"550")
            c.cmd(b"DATA", b"354")
            c.send(stuff(body))
            reply = c.expect(b"250", b"end of DATA of %s" % name.encode())
            m = re.match(rb"250 OK id=(\S+)\r\n\Z", reply[-1])
            if not m:
                raise CaptureError("end of DATA of %s: %r" % (name, reply))
            ids.append(m.group(1).decode())
            if k % 25 == 0:
                c.cmd(b"RSET", b"250")        # RFC 5321 4.1.1.5
                c.cmd(b"NOOP", b"250")        # RFC 5321 4.1.1.9
        tr.note("VRFY (RFC 5321 4.1.1.6, 3.5), HELP (4.1.1.8), QUIT (4.1.1.10)")
        c.cmd(b"VRFY alice@mailrig.test", b"250")
        c.cmd(b"HELP", b"214")
        c.cmd(b"QUIT", b"221")
        c.until_eof()
        c.close()
        exim.check_queue(ids, [as_smtp_data(d) for _, d in messages])
    return drive


# ----------------------------------------------------- IMAP sessions

def as_imap_served(data):
    """A message as Dovecot sends it in BODY[] (and counts it in
    RFC822.SIZE): a bare LF becomes CRLF, a NUL becomes 0x80 (IMAP has no
    NUL outside literal8, RFC 9051 4.3.1); a bare CR, a missing final CRLF
    and everything else stay as stored."""
    return re.sub(rb"(?<!\r)\n", b"\r\n", data).replace(b"\0", b"\x80")


def header_of(data):
    """The header section with its blank line (BODY[HEADER], RFC 9051
    6.4.5); the whole message if there is no blank line."""
    i = data.find(b"\r\n\r\n")
    return data if i < 0 else data[:i + 4]


def imap_date_time(t, offset_minutes):
    """An INTERNALDATE string (RFC 9051 date-time) for Unix time t."""
    tz = datetime.timezone(datetime.timedelta(minutes=offset_minutes))
    d = datetime.datetime.fromtimestamp(t, tz)
    sign = "+" if offset_minutes >= 0 else "-"
    return "%02d-%s-%d %02d:%02d:%02d %s%02d%02d" % (
        d.day, "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()[d.month - 1],
        d.year, d.hour, d.minute, d.second, sign, abs(offset_minutes) // 60,
        abs(offset_minutes) % 60)


# INBOX flags, by message number (cycled): Maildir letters S F R D and the
# keywords a b c of DovecotImap.KEYWORDS.
INBOX_FLAGS = ["S", "", "FS", "RS", "Sa", "", "DS", "Sbc", "F", "S", "RSa", ""]
IMAP_TZ_MINUTES = 330      # DovecotImap.TZ


def inbox_uid(n):
    """UIDs 1-10, then gaps of 7: UID and message number differ."""
    return n if n <= 10 else 10 + (n - 10) * 7


def inbox_folder(messages, uid_of=inbox_uid):
    """INBOX: message n has UID uid_of(n), the flags INBOX_FLAGS give, and
    an INTERNALDATE 3913 s after the one before."""
    return ImapFolder("INBOX", T0, [
        (name, data, uid_of(n), INBOX_FLAGS[(n - 1) % len(INBOX_FLAGS)], T0 + n * 3913)
        for n, (name, data) in enumerate(messages, 1)])


def imap_folders(inbox, archive):
    """The folders of the committed capture: INBOX holds the IMAP set,
    Archive the POP3 set, the rest are (nearly) empty and there for their
    names, hierarchy and special uses."""
    return [
        inbox_folder(inbox),
        ImapFolder("Archive", T0 + 1, [
            (name, data, n, "S", T0 - 86400 * 30 + n * 3600)
            for n, (name, data) in enumerate(archive, 1)], "\\Archive"),
        ImapFolder("Archive/2024", T0 + 2),
        ImapFolder("Drafts", T0 + 3, special_use="\\Drafts"),
        ImapFolder("Sent", T0 + 4, [
            (name, data, n, "S", T0 + n * 60) for n, (name, data) in enumerate(archive[:3], 1)],
            "\\Sent"),
        ImapFolder("Trash", T0 + 5, special_use="\\Trash"),
        ImapFolder("Junk", T0 + 6, special_use="\\Junk"),
        ImapFolder("Entwürfe", T0 + 7),
        ImapFolder("日本語", T0 + 8),
        ImapFolder('Say "hi"', T0 + 9),
        ImapFolder("Old Mail", T0 + 10),
        ImapFolder("Q&A", T0 + 11),
    ]


def check_fetch_bodies(untagged, folder, item, expect_of):
    """Every message of the folder is in one FETCH response, in order,
    and its `item` is expect_of(file bytes)."""
    got = {}
    for r in untagged:
        f = fetch_items(r)
        if f and item in f[1]:
            got[f[0]] = f[1][item]
    if sorted(got) != list(range(1, len(folder.messages) + 1)):
        raise CaptureError("FETCH %s: got messages %r" % (item, sorted(got)))
    for n, (name, data, _, _, _) in enumerate(folder.messages, 1):
        if got[n] != expect_of(data):
            raise CaptureError("FETCH %s of %d is not %s" % (item, n, name))


def check_fetch_meta(untagged, folder, added=0):
    """UID, RFC822.SIZE and INTERNALDATE are what the Maildir says (for
    all but the last `added` messages, which the session put there)."""
    seen = 0
    for r in untagged:
        f = fetch_items(r)
        if not f or b"ENVELOPE" not in f[1]:
            continue
        n, items = f
        if n > len(folder.messages):
            added -= 1
            continue
        name, data, uid, _, mtime = folder.messages[n - 1]
        want = {b"UID": b"%d" % uid, b"RFC822.SIZE": b"%d" % len(as_imap_served(data)),
                b"INTERNALDATE": imap_date_time(mtime, IMAP_TZ_MINUTES).encode()}
        for k, v in want.items():
            if items.get(k) != v:
                raise CaptureError("FETCH %d (%s) %s: %r, expected %r"
                                   % (n, name, k, items.get(k), v))
        seen += 1
    if seen != len(folder.messages) or added != 0:
        raise CaptureError("FETCH metadata: %d of %d messages" % (seen, len(folder.messages)))


FETCH_META = b"FETCH 1:* (FLAGS UID INTERNALDATE RFC822.SIZE ENVELOPE BODYSTRUCTURE)"


def fetch_whole_folder(c, tr, folder):
    """FETCH_META, then every BODY[HEADER] and every BODY[] of the
    selected folder, each checked against its files."""
    tr.note(FETCH_META.decode())
    got, _ = c.cmd(FETCH_META)
    check_fetch_meta(got, folder)
    tr.note("FETCH 1:* BODY.PEEK[HEADER]")
    got, _ = c.cmd(b"FETCH 1:* BODY.PEEK[HEADER]")
    check_fetch_bodies(got, folder, b"BODY[HEADER]", lambda d: as_imap_served(header_of(d)))
    tr.note("FETCH 1:* BODY.PEEK[]")
    got, _ = c.cmd(b"FETCH 1:* BODY.PEEK[]")
    check_fetch_bodies(got, folder, b"BODY[]", as_imap_served)


def imap_full(folders, server_port, append_msgs):
    inbox, archive = folders[0], folders[1]
    n_inbox = len(inbox.messages)

    def side_changes():
        """What another client does while the recorded one IDLEs: flag
        message 1 and deliver a message (not recorded: a direct
        connection to Dovecot)."""
        s = Imap(server_port)
        s.response()
        s.cmd(b"LOGIN %s %s" % (USER.encode(), PASSWORD.encode()))
        s.cmd(b"SELECT INBOX")
        s.cmd(b"STORE 1 +FLAGS.SILENT (\\Answered $Label1)")
        s.cmd(b'APPEND INBOX "01-Mar-2024 12:00:00 +0000" {%d+}' % len(append_msgs[1]),
              append_msgs[1])
        s.cmd(b"LOGOUT")
        s.until_eof()
        s.close()

    def drive(port, tr):
        c = Imap(port)
        greeting = c.response()
        if not greeting.startswith(b"* OK [CAPABILITY "):
            raise CaptureError("greeting: %r" % greeting)
        tr.note("not authenticated: CAPABILITY, ID (RFC 2971)")
        c.cmd(b"CAPABILITY")
        c.cmd(b'ID ("name" "mailrig capture" "version" "1")')
        tr.note('AUTHENTICATE PLAIN: an empty "+ " continuation, a wrong password '
                '(NO after a delay)')
        tag = c.next_tag()
        c.send(tag + b" AUTHENTICATE PLAIN\r\n")
        if not c.response().startswith(b"+"):
            raise CaptureError("AUTHENTICATE: no continuation")
        c.send(plain(USER, "wrong") + b"\r\n")
        c.until_tagged(tag, [], b"AUTHENTICATE", b"NO")
        tr.note('LOGIN with the password as a synchronizing literal: "+ OK" continuation')
        c.cmd(b"LOGIN %s {%d}" % (USER.encode(), len(PASSWORD)), PASSWORD.encode())
        tr.note("authenticated: CAPABILITY, ENABLE (RFC 5161), NAMESPACE (RFC 2342)")
        caps, _ = c.cmd(b"CAPABILITY")
        for want in (b" SORT", b" THREAD=REFERENCES", b" QUOTA", b" CONDSTORE", b" ESEARCH",
                     b" LIST-STATUS", b" SPECIAL-USE", b" BINARY", b" MOVE", b" PREVIEW"):
            if want not in caps[0]:
                raise CaptureError("CAPABILITY lacks %r" % want)
        c.cmd(b"ENABLE CONDSTORE")
        c.cmd(b"NAMESPACE")
        tr.note("LIST: the delimiter, all, one level, SPECIAL-USE (RFC 6154), "
                "RETURN (CHILDREN SPECIAL-USE STATUS) (RFC 5258, 5819)")
        c.cmd(b'LIST "" ""')
        c.cmd(b'LIST "" "*"')
        c.cmd(b'LIST "" "%"')
        c.cmd(b'LIST (SPECIAL-USE) "" "*"')
        c.cmd(b'LIST "" "*" RETURN (CHILDREN SPECIAL-USE STATUS (MESSAGES UNSEEN SIZE))')
        tr.note("SUBSCRIBE, LSUB, LIST (SUBSCRIBED); a name in modified UTF-7 (RFC 3501 5.1.3)")
        c.cmd(b"SUBSCRIBE INBOX")
        c.cmd(b'SUBSCRIBE "Archive"')
        c.cmd(b"SUBSCRIBE Entw&APw-rfe")
        c.cmd(b'LSUB "" "*"')
        c.cmd(b'LIST (SUBSCRIBED) "" "*" RETURN (CHILDREN)')
        tr.note("STATUS with many items (RFC 7162 HIGHESTMODSEQ, RFC 8438 SIZE)")
        c.cmd(b"STATUS INBOX (MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN HIGHESTMODSEQ SIZE)")
        c.cmd(b'STATUS "Archive" (MESSAGES UIDNEXT UIDVALIDITY UNSEEN)')
        c.cmd(b'STATUS "&ZeVnLIqe-" (MESSAGES)')
        tr.note("QUOTA (RFC 9208) and ACL (RFC 4314)")
        c.cmd(b"GETQUOTAROOT INBOX")
        c.cmd(b'GETQUOTA "User quota"')
        c.cmd(b"MYRIGHTS INBOX")
        c.cmd(b"GETACL INBOX")
        tr.note("SELECT INBOX (corpora/mailbox-imap/: message N is the Nth file)")
        sel, _ = c.cmd(b"SELECT INBOX")
        if b"* %d EXISTS\r\n" % n_inbox not in sel:
            raise CaptureError("SELECT: %r" % sel)
        fetch_whole_folder(c, tr, inbox)
        tr.note("sections, partial fetches, BINARY (RFC 3516, literal8 for the NUL), "
                "BODY, RFC822.*, PREVIEW (RFC 8970), CHANGEDSINCE (RFC 7162)")
        c.cmd(b"FETCH 2 (BODY.PEEK[1.2.1] BODY.PEEK[1.2.2.MIME] BODY.PEEK[2]<0.100> "
              b"BINARY.PEEK[2] BINARY.SIZE[2])")
        c.cmd(b"FETCH 4 (BODY.PEEK[2.HEADER] BODY.PEEK[2.2.2.TEXT] "
              b"BODY.PEEK[HEADER.FIELDS (From Subject Date)] "
              b"BODY.PEEK[HEADER.FIELDS.NOT (Received Message-ID)])")
        c.cmd(b"FETCH 44 (BINARY.PEEK[] BINARY.SIZE[] BODY.PEEK[TEXT])")
        c.cmd(b"FETCH 1:3 (BODY RFC822.HEADER PREVIEW)")
        c.cmd(b"FETCH 2 (RFC822.TEXT)")
        c.cmd(b"UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1)")
        tr.note("SEARCH, with a UTF-8 literal; ESEARCH (RFC 4731); MODSEQ (RFC 7162)")
        c.cmd(b"SEARCH UNSEEN")
        c.cmd(b"UID SEARCH ALL")
        subject = "Grüße".encode("utf-8")
        c.cmd(b"SEARCH CHARSET UTF-8 SUBJECT {%d}" % len(subject), subject)
        c.cmd(b'UID SEARCH RETURN (MIN MAX COUNT ALL) FROM "alice"')
        c.cmd(b"SEARCH MODSEQ 1 FLAGGED")
        tr.note("SORT and THREAD (RFC 5256), ESORT (RFC 5267)")
        c.cmd(b"SORT (DATE) UTF-8 ALL")
        c.cmd(b"SORT (REVERSE SUBJECT) UTF-8 ALL")
        c.cmd(b"UID SORT RETURN (MIN MAX COUNT) (ARRIVAL) UTF-8 ALL")
        c.cmd(b"THREAD REFERENCES UTF-8 ALL")
        c.cmd(b"THREAD ORDEREDSUBJECT UTF-8 ALL")
        tr.note("STORE: FETCH FLAGS answers with MODSEQ, .SILENT, a new keyword, "
                "UNCHANGEDSINCE failing with [MODIFIED]")
        c.cmd(b"STORE 1 +FLAGS (\\Flagged)")
        c.cmd(b"STORE 2:4 +FLAGS.SILENT (\\Answered)")
        c.cmd(b"UID STORE %d -FLAGS ($Forwarded)" % inbox.messages[4][2])
        c.cmd(b"STORE 6 +FLAGS ($Important)")
        c.cmd(b"STORE 1 (UNCHANGEDSINCE 1) +FLAGS (\\Answered)")
        tr.note("APPEND with a synchronizing literal (8-bit headers) and a LITERAL+ one "
                "(RFC 7888) into the selected mailbox; APPENDUID (RFC 4315)")
        c.cmd(b'APPEND "Drafts" (\\Draft \\Seen) "01-Mar-2024 10:00:00 +0100" {%d}'
              % len(append_msgs[0]), append_msgs[0])
        c.cmd(b"APPEND INBOX (\\Seen) {%d+}" % len(append_msgs[0]), append_msgs[0])
        tr.note("COPY and MOVE (RFC 6851) with COPYUID; \\Deleted and EXPUNGE")
        c.cmd(b'COPY 1:2 "Archive"')
        c.cmd(b'MOVE 3 "Trash"')
        c.cmd(b"STORE 5 +FLAGS.SILENT (\\Deleted)")
        c.cmd(b"EXPUNGE")
        tr.note("IDLE (RFC 2177): another client flags message 1 and delivers a message")
        tag = c.next_tag()
        c.send(tag + b" IDLE\r\n")
        if not c.response().startswith(b"+ "):
            raise CaptureError("IDLE: no continuation")
        side_changes()
        seen_exists = seen_fetch = False
        deadline = time.monotonic() + IO_TIMEOUT
        while not (seen_exists and seen_fetch):
            if time.monotonic() > deadline:
                raise CaptureError("IDLE: no EXISTS and FETCH")
            r = c.response()
            seen_exists |= r.endswith(b" EXISTS\r\n")
            seen_fetch |= b" FETCH (" in r
        c.send(b"DONE\r\n")
        c.until_tagged(tag, [], b"IDLE", b"OK")
        tr.note("NOOP, UNSELECT")
        c.cmd(b"NOOP")
        c.cmd(b"UNSELECT")
        tr.note("EXAMINE Archive (corpora/mailbox/ and the two copies): "
                "FETCH 1:* (... ENVELOPE BODYSTRUCTURE), BODY.PEEK[HEADER]")
        c.cmd(b'EXAMINE "Archive"')
        got, _ = c.cmd(FETCH_META)
        check_fetch_meta(got, archive, added=2)
        c.cmd(b"FETCH 1:%d BODY.PEEK[HEADER]" % len(archive.messages))
        c.cmd(b"CLOSE")
        tr.note("errors: NO for a missing mailbox, NO [ALREADYEXISTS] (RFC 5530), "
                "BAD for no mailbox selected, an unknown command, bad syntax")
        c.cmd(b'SELECT "Nonexistent"', expect=b"NO")
        c.cmd(b'CREATE "Archive"', expect=b"NO")
        c.cmd(b"FETCH 1 FLAGS", expect=b"BAD")
        c.cmd(b"XYZZY", expect=b"BAD")
        c.cmd(b"STATUS INBOX (MESSAGES", expect=b"BAD")
        tr.note("LOGOUT")
        c.cmd(b"LOGOUT")
        rest = c.until_eof()
        if rest:
            raise CaptureError("bytes after LOGOUT: %r" % rest[:100])
        c.close()
    return drive


def imap_bench(folder):
    """The benchmark session: only what a mail client does to show and
    download a whole mailbox.  Its tags are plain numbers, 1, 2, 3, ...
    (RFC 9051 9: a tag is any ASTRING-CHAR but "+"), which the clients it
    is compared with (Python's imaplib with tagpre b"", libetpan) need."""
    def drive(port, tr):
        c = Imap(port, tags=b"%d")
        c.response()
        tr.note("CAPABILITY, LOGIN, LIST, STATUS, SELECT")
        c.cmd(b"CAPABILITY")
        c.cmd(b"LOGIN %s %s" % (USER.encode(), PASSWORD.encode()))
        c.cmd(b'LIST "" "*"')
        c.cmd(b"STATUS INBOX (MESSAGES UIDNEXT UIDVALIDITY UNSEEN)")
        c.cmd(b"SELECT INBOX")
        fetch_whole_folder(c, tr, folder)
        tr.note("LOGOUT")
        c.cmd(b"LOGOUT")
        c.until_eof()
        c.close()
    return drive


# ===================================================== main

def load_messages(directory=MAILBOX):
    files = sorted(glob.glob(os.path.join(directory, "*.eml")))
    if not files:
        raise CaptureError("no messages in %s (run make-mailbox.py)" % directory)
    out = []
    for p in files:
        with open(p, "rb") as f:
            out.append((os.path.basename(p), f.read()))
    return out


def bench_messages(count):
    """The benchmark mailbox, made in memory by make-mailbox.py --set bench."""
    spec = importlib.util.spec_from_file_location(
        "make_mailbox", os.path.join(HERE, "make-mailbox.py"))
    mm = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mm)
    files = mm.generate("bench", count)
    return [(f, files[f]) for f in sorted(files) if f.endswith(".eml")]


def write(tr, path):
    text = tr.render()
    if read_back(text) != tr.segments():
        raise CaptureError("%s: transcript does not read back as recorded" % path)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    os.replace(tmp, path)
    nseg = sum(1 for k, _ in tr.segments() if k in "SC")
    nbytes = sum(len(p) for k, p in tr.segments() if k in "SC")
    print("capture: wrote %s (%d segments, %d bytes on the wire, %d bytes of file)"
          % (os.path.relpath(path), nseg, nbytes, len(text.encode("utf-8"))))


def main():
    ap = argparse.ArgumentParser(description="Capture POP3 and IMAP (Dovecot) and SMTP "
                                 "(Exim) sessions on loopback as .trs transcripts.")
    ap.add_argument("--out", help="output directory (default corpora/transcripts, "
                    "or corpora/bench with --bench)")
    ap.add_argument("--only", choices=("pop3", "imap", "smtp"), action="append",
                    help="capture only these protocols' transcripts (repeatable)")
    ap.add_argument("--bench", type=int, metavar="N", nargs="?", const=300,
                    help="instead, capture the benchmark sessions imap-dovecot.trs, "
                    "pop3-dovecot.trs and smtp-exim.trs over the N-message benchmark "
                    "mailbox of make-mailbox.py --set bench (default N 300)")
    ap.add_argument("--keep-tmp", action="store_true",
                    help="keep the temporary directory (configs, logs) for debugging")
    args = ap.parse_args()
    if args.bench is not None and args.only:
        ap.error("--bench and --only do not mix")
    only = set(args.only or ("pop3", "imap", "smtp")) if args.bench is None else set()
    out_dir = args.out or (OUT_DIR if args.bench is None else BENCH_OUT_DIR)

    if os.geteuid() != 0:
        raise CaptureError("run as root: Dovecot and Exim switch to their own users")
    for tool in (["dovecot", "dpkg-query"] +
                 (["exim4"] if "smtp" in only or args.bench is not None else [])):
        if not shutil.which(tool):
            raise CaptureError("%s not found; run ci/install-capture-deps" % tool)

    # SIGTERM/SIGHUP end the run through the finally below, like Ctrl-C.
    def stop(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGHUP, stop)

    messages = load_messages()
    os.makedirs(out_dir, exist_ok=True)
    today = datetime.date.today().isoformat()
    client = "corpora/tools/capture.py (Python %s, plain sockets)" % platform.python_version()
    tmp = tempfile.mkdtemp(prefix="mailrig-capture-")
    os.chmod(tmp, 0o755)    # the servers' own users read their configs here
    servers = []

    def started(server):
        servers.append(server)
        server.start()
        return server

    try:
        def common(proto, server, rfc, description):
            return [("protocol", proto), ("server", server), ("client", client),
                    ("tls", "no"), ("rfc", rfc), ("description", description)]
        made = "Captured %s on 127.0.0.1 by corpora/tools/capture.py (see docs/corpora.md)." % today
        how = ("Segments are the relay's recv() calls; times are seconds since it "
               "accepted the client.")

        sessions = []
        if "pop3" in only:
            dove = started(Dovecot(tmp, messages))
            sessions += [
                ("pop3-dovecot.trs", dove, common(
                    "pop3", dove.version(), "1939, 2449, 5034",
                    "full POP3 session: CAPA, AUTH list, failed AUTH PLAIN and cancelled "
                    "AUTH, failed then good USER/PASS, STAT, LIST, UIDL, RETR of all %d "
                    "corpora/mailbox messages, TOP, -ERR cases, DELE, RSET, QUIT"
                    % len(messages)),
                 pop3_full(messages)),
                ("pop3-dovecot-auth.trs", dove, common(
                    "pop3", dove.version(), "1939, 5034",
                    "POP3 SASL: AUTH LOGIN with base64 prompts and a wrong password, "
                    "then AUTH PLAIN with an initial response, STAT, QUIT"),
                 pop3_auth()),
                ("pop3-dovecot-pipelined.trs", dove, common(
                    "pop3", dove.version(), "1939, 2449",
                    "POP3 PIPELINING: CAPA, USER+PASS in one write, then ten commands "
                    "(STAT, LIST, UIDL, TOP, RETR of messages 15 and 16, an -ERR, DELE, "
                    "RSET, QUIT) in one write"),
                 pop3_pipelined(messages)),
            ]
        if "imap" in only:
            imap_set = load_messages(IMAP_MAILBOX)
            folders = imap_folders(imap_set, messages)
            imap = started(DovecotImap(tmp, folders))
            byname = dict(imap_set)
            appended = [byname["14-utf8-raw-headers.eml"], byname["01-plain.eml"]]
            sessions.append(
                ("imap-dovecot.trs", imap, common(
                    "imap", imap.version(),
                    "9051, 3501, 2971, 5161, 2342, 6154, 5258, 5819, 7162, 8438, 9208, "
                    "4314, 3516, 8970, 4731, 5256, 5267, 7888, 4315, 6851, 2177",
                    "full IMAP session: CAPABILITY, ID, failed AUTHENTICATE PLAIN, LOGIN "
                    "with a literal, ENABLE CONDSTORE, NAMESPACE, LIST variants, "
                    "SUBSCRIBE/LSUB, STATUS, GETQUOTAROOT, MYRIGHTS/GETACL, SELECT, FETCH "
                    "1:* of ENVELOPE and BODYSTRUCTURE, BODY.PEEK[HEADER] and BODY.PEEK[] "
                    "of the %d corpora/mailbox-imap messages, section, partial and BINARY "
                    "fetches, SEARCH, ESEARCH, SORT, THREAD, STORE, APPEND, COPY, MOVE, "
                    "EXPUNGE, IDLE, EXAMINE and FETCH of the %d corpora/mailbox messages, "
                    "NO and BAD answers, LOGOUT" % (len(imap_set), len(messages))),
                 imap_full(folders, imap.port, appended)))
        if args.bench is not None:
            bench = bench_messages(args.bench)
            n = len(bench)
            what = ("the %d messages of make-mailbox.py --set bench --count %d (message k is "
                    "the k-th file)" % (n, n))
            made = ("Captured %s on 127.0.0.1 by corpora/tools/capture.py --bench %d "
                    "(see docs/corpora.md, corpora/bench/)." % (today, n))
            folder = inbox_folder(bench, uid_of=lambda k: k)
            imap = started(DovecotImap(tmp, [folder], "dovecot-bench"))
            pop3 = started(Dovecot(tmp, bench, "dovecot-pop3-bench"))
            # Exim ends a session after more than 10 commands other than
            # MAIL, RCPT, DATA, BDAT and QUIT (smtp_accept_max_nonmail; one
            # RSET and one HELO/EHLO per message are not counted) with "554
            # Too many nonmail commands".  The bench session sends a NOOP
            # every 25 messages, so here no host is counted.
            exim = started(Exim(tmp, "smtp_accept_max_nonmail_hosts =\n"))
            sessions += [
                ("imap-dovecot.trs", imap, common(
                    "imap", imap.version(), "9051, 3501",
                    "benchmark IMAP session, tags 1, 2, 3, ...: CAPABILITY, LOGIN, LIST, "
                    "STATUS, SELECT, FETCH 1:* (FLAGS UID INTERNALDATE RFC822.SIZE ENVELOPE "
                    "BODYSTRUCTURE), FETCH 1:* BODY.PEEK[HEADER], FETCH 1:* BODY.PEEK[] of "
                    "%s, LOGOUT" % what),
                 imap_bench(folder)),
                ("pop3-dovecot.trs", pop3, common(
                    "pop3", pop3.version(), "1939, 2449",
                    "benchmark POP3 session, one command at a time: CAPA, USER, PASS, STAT, "
                    "LIST, UIDL, RETR 1 .. RETR %d, TOP 1 0 .. TOP %d 0, QUIT over %s"
                    % (n, n, what)),
                 pop3_bench(bench)),
                ("smtp-exim.trs", exim, common(
                    "smtp", exim.version(), "5321, 6152",
                    "benchmark ESMTP session, not pipelined: EHLO, then for each of %s a "
                    "transaction MAIL FROM, 1 to 3 RCPT TO (every third message one "
                    "rejected with 550), DATA, the dot-stuffed message; RSET and NOOP after "
                    "every 25th; VRFY, HELP, QUIT" % what),
                 smtp_bench(bench, exim)),
            ]
        if "smtp" in only:
            exim = started(Exim(tmp))
            sessions.append(
                ("smtp-exim.trs", exim, common(
                    "smtp", exim.version(), "5321, 2920, 4954, 3030, 6152",
                    "full ESMTP session: EHLO, 500, 501 HELO, HELO, NOOP, HELP, VRFY, a "
                    "transaction with an accepted and a rejected RCPT and dot-stuffed DATA, "
                    "RSET, failed AUTH PLAIN, AUTH LOGIN, a pipelined MAIL/RCPT/RCPT/DATA, "
                    "BDAT in two chunks, QUIT"),
                 smtp_full(messages)))
        for fname, server, meta, drive in sessions:
            tr = run_session(server.port, meta, [made, how], drive)
            write(tr, os.path.join(out_dir, fname))
    finally:
        for s in reversed(servers):
            s.stop()
        if args.keep_tmp:
            print("capture: kept %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except CaptureError as e:
        print("capture: error: %s" % e, file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("capture: interrupted", file=sys.stderr)
        sys.exit(130)
