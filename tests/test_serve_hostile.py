"""Hostile clients must not crash or stall the fake servers: garbage,
huge lines, a thousand connections at once, clients that vanish in the
middle of a literal or a DATA body.  After each attack a well-behaved
session on the same server must still be served, and the server must
stop cleanly (exit 0 or 1, never a signal) and leave every result.
"""

import os
import random
import socket
import time

import pytest

from fakeserver import FakeServer

PROTOCOLS = ["pop3", "imap", "smtp"]

# A short normal exchange per protocol: (what to send, what ends the answer).
HELLO = {
    "pop3": (b"CAPA\r\n", b"\r\n.\r\n"),
    "imap": (b"a1 CAPABILITY\r\n", b"a1 OK"),
    "smtp": (b"EHLO client.invalid\r\n", b"250 "),
}


def healthy(srv, proto):
    """A well-behaved session still works."""
    c = srv.connect(timeout=10)
    c.line()
    cmd, end = HELLO[proto]
    c.send(cmd)
    c.expect(end)
    c.close()


def finish(srv):
    rc = srv.stop()
    assert rc in (0, 1), f"server died: {rc}\n{srv.stderr.decode(errors='replace')}"
    assert b"AddressSanitizer" not in srv.stderr and b"runtime error" not in srv.stderr


@pytest.fixture
def server(mailrig, tmp_path, request):
    srv = FakeServer(mailrig, request.param, out=tmp_path / "out", extra=["--timeout", "5000"])
    srv.start()
    yield srv
    finish(srv)


@pytest.mark.parametrize("server", PROTOCOLS, indirect=True)
def test_garbage(server):
    rnd = random.Random(1)
    proto = server.info["protocol"]
    for _ in range(5):
        c = server.connect()
        c.line()
        blob = bytes(rnd.randrange(256) for _ in range(200_000))
        try:
            c.send(blob)
            c.recv_some(timeout=0.2)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may give up on this client
        c.close()
    healthy(server, proto)


@pytest.mark.parametrize("server", PROTOCOLS, indirect=True)
def test_huge_line_is_refused_not_buffered(server):
    proto = server.info["protocol"]
    c = server.connect()
    c.line()
    try:
        for _ in range(160):  # 10 MiB without a line end
            c.send(b"A" * 65536)
        c.send(b"\r\n")
        got = c.recv_some(timeout=2) or b""
        assert got[:1] in (b"-", b"*", b"a", b"5", b"4", b"")  # an error reply, or closed
    except (BrokenPipeError, ConnectionResetError):
        pass
    c.close()
    healthy(server, proto)


@pytest.mark.parametrize("server", PROTOCOLS, indirect=True)
def test_a_thousand_connections_at_once(server):
    proto = server.info["protocol"]
    socks = []
    for _ in range(1000):
        s = socket.create_connection((server.host, server.port), timeout=10)
        socks.append(s)
    greeted = 0
    for s in socks:
        if s.recv(100):
            greeted += 1
    assert greeted == 1000
    healthy(server, proto)
    for s in socks:
        s.close()
    healthy(server, proto)


@pytest.mark.parametrize("server", ["imap"], indirect=True)
def test_vanish_mid_literal(server):
    c = server.connect()
    c.line()
    c.send(b"a1 LOGIN user password\r\n")
    c.expect(b"a1 OK")
    c.send(b"a2 APPEND INBOX {100000+}\r\n" + b"x" * 5000)
    c.close()
    healthy(server, "imap")
    res = server.wait_results(2)
    assert res[1]["end"] == "client-close"


@pytest.mark.parametrize("server", ["smtp"], indirect=True)
def test_vanish_mid_data(server):
    c = server.connect()
    c.line()
    c.send(b"EHLO x\r\nMAIL FROM:<a@b.invalid>\r\nRCPT TO:<c@d.invalid>\r\nDATA\r\n")
    c.expect(b"354")
    c.send(b"Subject: half\r\n\r\nnot finished\r\n")
    c.close()
    healthy(server, "smtp")
    res = server.wait_results(2)
    assert res[1]["end"] == "client-close" and res[1]["received"] == []


@pytest.mark.parametrize("server", ["pop3"], indirect=True)
def test_vanish_mid_retr(server):
    c = server.connect()
    c.line()
    c.send(b"USER user\r\nPASS password\r\n")
    c.line()
    c.line()
    for _ in range(20):
        c.send(b"RETR 1\r\n")
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    c.close()  # RST with answers in flight
    healthy(server, "pop3")


@pytest.mark.parametrize("server", ["pop3"], indirect=True)
def test_pipelined_flood_is_answered_in_order(server):
    """20,000 pipelined commands in one burst: every one answered, in order
    (answered input is dropped from the buffer in bulk, not one memmove per
    command)."""
    c = server.connect(timeout=60)
    c.line()
    c.send(b"USER user\r\nPASS password\r\n" + b"NOOP\r\n" * 20000 + b"STAT\r\n")
    got = c.expect(b"\r\n", timeout=60)
    got += c.expect(b"\r\n", timeout=60)
    for _ in range(20000):
        assert c.expect(b"\r\n", timeout=60) == b"+OK\r\n"
    assert c.line(timeout=60).startswith(b"+OK 15 ")
    c.close()


def test_other_sessions_served_during_attacks(mailrig, tmp_path):
    """While one client floods garbage, one never reads an endless reply
    (the server's writes to it block), and one sends half a line and
    waits, other clients are still served, one after another."""
    import threading

    sc = tmp_path / "endless.scn"
    sc.write_text('name: endless\nprotocol: pop3\non LIST\n    send "+OK\\r\\n"\n'
                  '    repeat forever "1 1000\\r\\n"\n')
    srv = FakeServer(mailrig, scenario=sc, out=tmp_path / "out", extra=["--timeout", "20000"])
    srv.start()
    try:
        stop = threading.Event()

        def flood():
            s = socket.create_connection((srv.host, srv.port), timeout=10)
            try:
                while not stop.is_set():
                    s.sendall(os.urandom(65536))
            except OSError:
                pass
            s.close()

        t = threading.Thread(target=flood, daemon=True)
        t.start()
        reader = srv.connect()  # asks for the endless LIST and never reads it
        reader.line()
        reader.send(b"USER user\r\nPASS password\r\nLIST\r\n")
        half = srv.connect()
        half.line()
        half.send(b"USER us")
        time.sleep(0.3)  # the server's socket buffer to the reader fills up
        for _ in range(20):
            healthy(srv, "pop3")
        stop.set()
        t.join(10)
        reader.close()
        half.close()
    finally:
        finish(srv)
