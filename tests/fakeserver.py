"""Run `mailrig serve` in tests: start it on a free loopback port, talk to
it with raw sockets (to see segment boundaries, timing, RST) or with
Python's clients, stop it, and read its per-session results.

    with FakeServer(mailrig, "imap", scenario=path, tls="starttls") as srv:
        c = srv.connect()            # a RawClient
        c.expect(b"* OK")
        ...
    res = srv.results()              # the session results (JSON), by session
"""

import json
import os
import selectors
import signal
import socket
import ssl
import subprocess
import threading
import time
from pathlib import Path


class FakeServer:
    def __init__(self, mailrig, protocol=None, scenario=None, tls=None, cert=None,
                 mailbox=None, extra=(), out=None, tmp=None, env=None):
        self.args = [mailrig, "serve"]
        if protocol:
            self.args += ["--protocol", protocol]
        if scenario:
            self.args += ["--scenario", str(scenario)]
        if tls:
            self.args += ["--tls", tls]
        if cert:
            self.args += ["--cert", cert]
        if mailbox:
            self.args += ["--mailbox", str(mailbox)]
        if out:
            self.args += ["--out", str(out)]
        self.args += list(extra)
        self.env = env
        self.proc = None
        self.info = None
        self.stdout_rest = b""
        self.stderr = b""
        self.returncode = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, exc_type, *exc):
        self.stop()
        if exc_type is None:
            self.check()

    def check(self):
        """The server exited by itself or on SIGTERM (0 or 1), with no
        sanitizer report."""
        err = self.stderr.decode(errors="replace")
        for bad in ("AddressSanitizer", "LeakSanitizer", "runtime error"):
            assert bad not in err, err
        assert self.returncode in (0, 1), (self.returncode, err)

    def start(self, timeout=10):
        self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env=self.env)
        line = self.proc.stdout.readline()
        if not line:
            err = self.proc.stderr.read().decode(errors="replace")
            self.proc.wait()
            raise RuntimeError(f"mailrig serve did not start: {err}")
        self.info = json.loads(line)
        assert self.info["event"] == "listening"
        # Drain stdout and stderr as they come: a server whose per-session
        # lines fill the pipe would block in printf.
        self._out, self._err = [], []
        self._threads = [threading.Thread(target=self._drain, args=(f, acc), daemon=True)
                         for f, acc in ((self.proc.stdout, self._out), (self.proc.stderr, self._err))]
        for t in self._threads:
            t.start()
        self.host = self.info["host"]
        self.port = self.info["port"]
        self.out = Path(self.info["out"])
        self.cafile = self.info.get("cafile")
        return self

    @staticmethod
    def _drain(f, acc):
        for chunk in iter(lambda: f.read1(65536), b""):
            acc.append(chunk)

    def _collect(self, timeout):
        self.returncode = self.proc.wait(timeout=timeout)
        for t in self._threads:
            t.join(timeout)
        self.stdout_rest = b"".join(self._out)
        self.stderr = b"".join(self._err)
        return self.returncode

    def stop(self, sig=signal.SIGTERM, timeout=20):
        if self.proc is None or self.returncode is not None:
            return self.returncode
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self._collect(timeout)

    def wait(self, timeout=20):
        """Wait for the server to exit by itself (--sessions N)."""
        return self._collect(timeout)

    def events(self):
        return [json.loads(l) for l in self.stdout_rest.decode().splitlines() if l.startswith("{")]

    def results(self):
        """Session results written in --out, keyed by session number."""
        res = {}
        for p in sorted(self.out.glob("session-*.json")):
            if p.name.endswith(".mailbox.json"):
                continue
            r = json.loads(p.read_text())
            res[r["session"]] = r
        return res

    def wait_results(self, n, timeout=10):
        end = time.time() + timeout
        while time.time() < end:
            if len(self.results()) >= n:
                return self.results()
            time.sleep(0.02)
        raise AssertionError(f"only {len(self.results())} of {n} session results appeared")

    def connect(self, tls=False, timeout=5):
        return RawClient(self.host, self.port, tls=tls, cafile=self.cafile, timeout=timeout)


def client_context(cafile):
    ctx = ssl.create_default_context(cafile=cafile)
    return ctx


class RawClient:
    """A client that sees what arrives, read by read, with times."""

    def __init__(self, host, port, tls=False, cafile=None, timeout=5):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.timeout = timeout
        self.buf = b""
        self.reads = []        # (time, bytes) per recv
        self.t0 = time.monotonic()
        self.host = host
        self.cafile = cafile
        if tls:
            self.starttls()

    def starttls(self):
        ctx = client_context(self.cafile)
        self.sock = ctx.wrap_socket(self.sock, server_hostname="localhost")

    def send(self, data):
        self.sock.sendall(data)

    def recv_some(self, timeout=None):
        self.sock.settimeout(self.timeout if timeout is None else timeout)
        try:
            data = self.sock.recv(1 << 20)
        except socket.timeout:
            return None
        self.reads.append((time.monotonic() - self.t0, data))
        return data

    def expect(self, needle, timeout=None):
        """Read until needle is in the buffer; return and drop everything up to it."""
        end = time.monotonic() + (self.timeout if timeout is None else timeout)
        while needle not in self.buf:
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{needle!r} not received; got {self.buf!r}")
            data = self.recv_some(left)
            if data is None:
                continue
            if data == b"":
                raise AssertionError(f"connection closed before {needle!r}; got {self.buf!r}")
            self.buf += data
        i = self.buf.index(needle) + len(needle)
        got, self.buf = self.buf[:i], self.buf[i:]
        return got

    def line(self, timeout=None):
        return self.expect(b"\n", timeout)

    def read_until_close(self, timeout=None):
        end = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError(f"not closed; got {self.buf!r}")
            try:
                data = self.recv_some(left)
            except ConnectionResetError:
                return "reset"
            if data == b"":
                return "closed"
            if data:
                self.buf += data

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
