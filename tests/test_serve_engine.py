"""The fake-server engine seen from a raw socket: scenario actions
(split, drip, delay, join, repeat, stall, close, reset, half-close,
STARTTLS with injected data, TLS alerts), rules (nth, match/save,
chance), expectations and verdicts, results and reports, stopping.

POP3 is the carrier because its default answers are one line; what is
tested here is the engine, not the protocol (test_serve_clients.py,
tests/unit/test_fake_*.c).  Every server is checked when it stops: exit
status 0 or 1, no sanitizer report (FakeServer.check).
"""

import json
import signal
import socket
import ssl
import subprocess
import time
import xml.etree.ElementTree as ET

import pytest

from fakeserver import FakeServer

import mailrig_cases as mc


def scenario(tmp_path, body, name="t", protocol="pop3", extra=""):
    p = tmp_path / f"{name}.scn"
    p.write_text(f"name: {name}\nprotocol: {protocol}\n{extra}\n{body}")
    return p


def serve(mailrig, tmp_path, body=None, *, protocol="pop3", extra_meta="", **kw):
    sc = scenario(tmp_path, body, protocol=protocol, extra=extra_meta) if body is not None else None
    return FakeServer(mailrig, protocol=None if sc else protocol, scenario=sc,
                      out=tmp_path / "out", **kw)


def login(c):
    """Read the greeting and log in (NOOP and STAT need the TRANSACTION state)."""
    c.line()
    c.send(b"USER user\r\nPASS password\r\n")
    c.line()
    c.line()


def only_result(srv, n=1):
    res = srv.wait_results(n)
    return res[max(res)]


# ------------------------------------------------------------ listening


def test_listening_line_and_ready_file(mailrig, tmp_path):
    ready = tmp_path / "ready.json"
    with serve(mailrig, tmp_path, extra=["--ready-file", str(ready)]) as srv:
        assert srv.host == "127.0.0.1" and srv.port > 0
        assert json.loads(ready.read_text()) == srv.info
        assert srv.info["protocol"] == "pop3" and srv.info["tls"] == "none"
        c = srv.connect()
        assert c.line().startswith(b"+OK")
        c.close()


def test_two_servers_get_different_ports(mailrig, tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with serve(mailrig, tmp_path / "a") as a, serve(mailrig, tmp_path / "b") as b:
        assert a.port != b.port


def test_ipv6_loopback(mailrig, tmp_path):
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    try:
        s = socket.socket(socket.AF_INET6)
        s.bind(("::1", 0))
        s.close()
    except OSError:
        pytest.skip("no ::1 here")
    with serve(mailrig, tmp_path, extra=["--listen", "[::1]:0"]) as srv:
        assert srv.host == "::1"
        c = socket.create_connection(("::1", srv.port), timeout=5)
        assert c.recv(100).startswith(b"+OK")
        c.close()


@pytest.mark.parametrize("args,msg", [
    (["--protocol", "nntp"], "--protocol imap, pop3 or smtp"),
    (["--protocol", "pop3", "--tls", "sometimes"], "--tls sometimes"),
    (["--protocol", "pop3", "--cert", "forged"], "--cert forged"),
    (["--protocol", "pop3", "--listen", "localhost:0"], "numeric address"),
    (["--protocol", "pop3", "--report", "html"], "--report html"),
    (["--protocol", "pop3", "--bogus"], "bad option"),
    (["--protocol", "pop3", "--mailbox", "/nonexistent/mailbox"], "/nonexistent/mailbox"),
])
def test_bad_usage_exits_2(mailrig, args, msg):
    p = subprocess.run([mailrig, "serve", *args], capture_output=True, timeout=10)
    assert p.returncode == 2
    assert msg in p.stderr.decode()


def test_bad_scenario_is_file_line_col(mailrig, tmp_path):
    p = tmp_path / "bad.scn"
    p.write_text("name: x\nprotocol: pop3\non NOOP\n    sned \"x\"\n")
    r = subprocess.run([mailrig, "serve", "--scenario", str(p)], capture_output=True, timeout=10)
    assert r.returncode == 2
    assert r.stderr.decode().startswith(f"{p}:4:5: ")


# ------------------------------------------------------------ results


def test_session_result_and_transcript(mailrig, tmp_path):
    with serve(mailrig, tmp_path) as srv:
        c = srv.connect()
        c.line()
        c.send(b"CAPA\r\n")
        c.expect(b".\r\n")
        c.send(b"QUIT\r\n")
        c.line()
        assert c.read_until_close() == "closed"
        r = only_result(srv)
    assert r["verdict"] == "passed" and r["end"] == "server-close"
    assert r["protocol"] == "pop3" and r["commands"] == 2
    trs = r["transcript"]
    text = open(trs).read()
    assert text.startswith("# mailrig transcript 1\n")
    assert 'C ' in text and '"CAPA\\r\\n"' in text and "E " in text
    # the transcript reads back: mailrig parse --dialogue
    p = subprocess.run([mailrig, "parse", "pop3", "--dialogue", trs], capture_output=True, timeout=10)
    assert p.returncode == 0, p.stderr
    kinds = [json.loads(l)["kind"] for l in p.stdout.decode().splitlines()]
    assert kinds[0] == "greeting" and len(kinds) == 3


def test_sigterm_mid_session_leaves_transcript_and_verdict(mailrig, tmp_path):
    srv = serve(mailrig, tmp_path, "expect send QUIT\n").start()
    c = srv.connect()
    c.line()
    c.send(b"NOOP\r\n")
    c.line()
    assert srv.stop() == 1  # the one session failed its expectation
    srv.check()
    r = srv.results()[1]
    assert r["end"] == "terminated" and r["verdict"] == "failed"
    assert r["expectations"][0]["detail"] == "the client never sent QUIT"
    assert "NOOP" in open(r["transcript"]).read()
    c.close()


def test_sessions_limit_and_reports(mailrig, tmp_path):
    body = "expect send QUIT\nexpect no-send USER\n"
    for fmt in ("json", "junit", "tap"):
        d = tmp_path / fmt
        d.mkdir()
        rep = d / "report"
        srv = serve(mailrig, d, body, extra=["--sessions", "2", "--report", fmt,
                                             "--report-file", str(rep)]).start()
        for cmds in (b"QUIT\r\n", b"USER x\r\nQUIT\r\n"):
            c = srv.connect()
            c.line()
            c.send(cmds)
            c.read_until_close()
        assert srv.wait() == 1
        srv.check()
        text = rep.read_text()
        if fmt == "json":
            doc = json.loads(text)
            assert (doc["sessions"], doc["passed"], doc["failed"]) == (2, 1, 1)
        elif fmt == "junit":
            suite = ET.fromstring(text).find("testsuite")
            assert suite.get("tests") == "2" and suite.get("failures") == "1"
            fails = suite.findall("testcase/failure")
            assert len(fails) == 1 and "USER" in fails[0].get("message")
        else:
            lines = text.splitlines()
            assert lines[:2] == ["TAP version 13", "1..2"]
            assert lines[2].startswith("ok 1 ") and any(l.startswith("not ok 2 ") for l in lines)


def test_idle_timeout(mailrig, tmp_path):
    with serve(mailrig, tmp_path, extra=["--timeout", "200"]) as srv:
        c = srv.connect()
        c.line()
        t = time.monotonic()
        assert c.read_until_close(timeout=5) == "closed"
        assert time.monotonic() - t >= 0.15
        assert only_result(srv)["end"] == "timeout"


# ------------------------------------------------------------ transport actions


def test_split_writes_are_separate_segments(mailrig, tmp_path):
    body = 'on greeting\n    send "+OK hello world\\r\\n" split 3,9\n'
    with serve(mailrig, tmp_path, body) as srv:
        c = srv.connect()
        assert c.line() == b"+OK hello world\r\n"
        c.send(b"QUIT\r\n")
        c.read_until_close()
        trs = open(only_result(srv)["transcript"]).read()
    segs = [l for l in trs.splitlines() if l.startswith("S ")]
    assert [s.split(" ", 2)[2] for s in segs[:3]] == ['"+OK"', '" hello"', '" world\\r\\n"']


def test_drip_one_byte_at_a_time(mailrig, tmp_path):
    body = 'on greeting\n    send "+OK drip\\r\\n" drip 30\n'
    with serve(mailrig, tmp_path, body) as srv:
        c = srv.connect()
        t = time.monotonic()
        c.line()
        took = time.monotonic() - t
        assert took >= 0.2  # 10 bytes, 9 gaps of 30 ms
        assert len(c.reads) >= 5  # most bytes came on their own
        c.close()


def test_delay_before_default(mailrig, tmp_path):
    body = "on NOOP\n    delay 300\n    default\n"
    with serve(mailrig, tmp_path, body) as srv:
        c = srv.connect()
        login(c)
        t = time.monotonic()
        c.send(b"NOOP\r\n")
        assert c.line().startswith(b"+OK")
        assert time.monotonic() - t >= 0.28
        c.close()


def test_join_puts_injection_in_the_same_write(mailrig, tmp_path):
    body = 'on NOOP\n    default\n    send "+OK injected\\r\\n" join\n'
    with serve(mailrig, tmp_path, body) as srv:
        c = srv.connect()
        login(c)
        c.send(b"NOOP\r\n")
        c.expect(b"injected\r\n")
        c.send(b"QUIT\r\n")
        c.read_until_close()
        trs = open(only_result(srv)["transcript"]).read()
    seg = [l for l in trs.splitlines() if "injected" in l]
    assert len(seg) == 1 and seg[0].startswith("+ ")  # a continuation line of the NOOP reply's segment


def test_repeat_streams_many_lines(mailrig, tmp_path):
    body = 'on LIST\n    send "+OK\\r\\n"\n    repeat 5000 "1 100\\r\\n"\n    send ".\\r\\n"\n'
    with serve(mailrig, tmp_path, body) as srv:
        c = srv.connect()
        c.line()
        c.send(b"LIST\r\n")
        data = c.expect(b"\r\n.\r\n", timeout=10)
        assert data.count(b"1 100\r\n") == 5000
        c.close()


def test_stall_then_client_closes(mailrig, tmp_path):
    body = "on NOOP\n    stall\n"
    with serve(mailrig, tmp_path, body) as srv:
        c = srv.connect()
        login(c)
        c.send(b"NOOP\r\n")
        assert c.recv_some(timeout=0.3) is None
        c.close()
        assert only_result(srv)["end"] == "client-close"


def test_close_reset_half_close(mailrig, tmp_path):
    for action, expect_end in (("close", "server-close"), ("reset", "server-reset")):
        d = tmp_path / action
        d.mkdir()
        with serve(mailrig, d, f"on NOOP\n    {action}\n") as srv:
            c = srv.connect()
            login(c)
            c.send(b"NOOP\r\n")
            how = c.read_until_close()
            assert how == ("closed" if action == "close" else "reset")
            assert only_result(srv)["end"] == expect_end
    d = tmp_path / "half"
    d.mkdir()
    with serve(mailrig, d, 'on NOOP\n    send "+OK bye\\r\\n"\n    half-close\n') as srv:
        c = srv.connect()
        login(c)
        c.send(b"NOOP\r\n")
        assert c.read_until_close() == "closed"
        c.send(b"NOOP\r\n")  # the server still reads (and judges) what comes
        time.sleep(0.2)
        c.close()
        r = only_result(srv)
        assert r["end"] == "client-close" and r["commands"] == 4


# ------------------------------------------------------------ rules


def test_nth_and_error(mailrig, tmp_path):
    body = 'on NOOP nth 2\n    error "second time fails"\n'
    with serve(mailrig, tmp_path, body) as srv:
        c = srv.connect()
        login(c)
        got = []
        for _ in range(3):
            c.send(b"NOOP\r\n")
            got.append(c.line())
        assert got[0].startswith(b"+OK") and got[2].startswith(b"+OK")
        assert got[1] == b"-ERR second time fails\r\n"
        c.close()


def test_match_save_and_substitutions(mailrig, tmp_path):
    body = ('on USER match "^USER (.*)$" save who\n    send "+OK hello ${1}\\r\\n"\n'
            'on NOOP\n    send "+OK ${who} ${cmd} [${args}] ${count}\\r\\n"\n')
    with serve(mailrig, tmp_path, body) as srv:
        c = srv.connect()
        c.line()
        c.send(b"USER alice\r\n")
        assert c.line() == b"+OK hello alice\r\n"
        c.send(b"NOOP  x\r\n")
        line = c.line()
        assert line.startswith(b"+OK alice NOOP [ x] ")
        c.close()


def test_chance_is_deterministic(mailrig, tmp_path):
    body = 'on NOOP chance 0.5\n    error "unlucky"\n'

    def run(d):
        d.mkdir()
        with serve(mailrig, d, body, extra_meta="seed: 7") as srv:
            c = srv.connect()
            login(c)
            seq = []
            for _ in range(40):
                c.send(b"NOOP\r\n")
                seq.append(c.line().startswith(b"-ERR"))
            c.close()
        return seq

    a, b = run(tmp_path / "a"), run(tmp_path / "b")
    assert a == b and 5 < sum(a) < 35


# ------------------------------------------------------------ expectations


def test_expectations_pass_and_fail_with_details(mailrig, tmp_path):
    body = ("expect send USER\nexpect no-send PASS\nexpect order USER PASS\n"
            'expect silent-after "^PASS"\nexpect send "^STAT" tls\n')
    with serve(mailrig, tmp_path, body) as srv:
        c = srv.connect()
        c.line()
        c.send(b"USER user\r\n")
        c.line()
        c.send(b"PASS password\r\n")
        c.line()
        c.send(b"STAT\r\n")
        c.line()
        c.close()
        r = only_result(srv)
    assert r["verdict"] == "failed"
    ex = {e["expect"]: e for e in r["expectations"]}
    assert ex["expect send USER"]["passed"]
    assert not ex["expect no-send PASS"]["passed"]
    assert "PASS password" in ex["expect no-send PASS"]["detail"]
    assert "in plaintext" in ex["expect no-send PASS"]["detail"]
    assert ex["expect order USER PASS"]["passed"]
    assert not ex['expect silent-after "^PASS"']["passed"]
    assert "STAT" in ex['expect silent-after "^PASS"']["detail"]
    assert not ex['expect send "^STAT" tls']["passed"]


def test_close_within(mailrig, tmp_path):
    body = 'on greeting\n    send "-ERR go away\\r\\n"\nexpect close-within 300\n'
    d1, d2 = tmp_path / "a", tmp_path / "b"
    d1.mkdir()
    d2.mkdir()
    with serve(mailrig, d1, body) as srv:
        c = srv.connect()
        c.line()
        c.close()
        assert only_result(srv)["verdict"] == "passed"
    with serve(mailrig, d2, body) as srv:
        c = srv.connect()
        c.line()
        assert c.read_until_close(timeout=5) == "closed"  # the server gives up
        r = only_result(srv)
        assert r["verdict"] == "failed" and r["end"] == "timeout"
        assert "did not close within 300 ms" in r["expectations"][0]["detail"]


# ------------------------------------------------------------ TLS


def test_starttls_injection_and_discarded_plaintext(mailrig, tmp_path):
    body = ('on STLS\n    send "+OK begin TLS\\r\\n"\n    send "+OK injected\\r\\n" join\n'
            '    starttls\n')
    with serve(mailrig, tmp_path, body, extra_meta="tls: starttls") as srv:
        c = srv.connect()
        c.line()
        c.send(b"STLS\r\nUSER evil\r\n")  # pipelined into the plaintext phase
        data = c.expect(b"injected\r\n")
        assert data == b"+OK begin TLS\r\n+OK injected\r\n"
        assert len(c.reads) == 2  # greeting, then both lines in one read
        c.starttls()
        c.send(b"USER user\r\nPASS password\r\n")
        c.line()
        c.line()
        c.send(b"NOOP\r\n")
        assert c.line().startswith(b"+OK")
        c.send(b"QUIT\r\n")
        c.line()
        c.close()
        r = only_result(srv)
    assert r["tls"]["established"] is True
    assert r["discarded_after_starttls"] == len(b"USER evil\r\n")
    trs = open(r["transcript"]).read()
    assert "discarded 11 bytes" in trs and "\nE " in trs and " tls " in trs


@pytest.mark.parametrize("profile,error", [
    ("valid", None),
    ("expired", "certificate has expired"),
    ("wrong-host", "Hostname mismatch"),
    ("self-signed", "self-signed certificate"),
    ("unknown-ca", "unable to get local issuer certificate"),
])
def test_implicit_tls_certificate_profiles(mailrig, tmp_path, profile, error):
    with serve(mailrig, tmp_path, tls="implicit", cert=profile) as srv:
        assert srv.info["cert"] == profile and srv.cafile
        if error is None:
            c = srv.connect(tls=True)
            assert c.line().startswith(b"+OK")
            c.send(b"QUIT\r\n")
            c.line()
            c.close()
            r = only_result(srv)
            assert r["tls"]["established"] and r["end"] == "server-close"
        else:
            with pytest.raises(ssl.SSLCertVerificationError) as e:
                srv.connect(tls=True)
            assert error in str(e.value)
            r = only_result(srv)
            assert not r["tls"]["established"] and r["end"] == "tls-failed"
            assert r["tls"]["error"]


def test_tls_alert_mid_stream(mailrig, tmp_path):
    with serve(mailrig, tmp_path, "on NOOP\n    tls-alert\n", extra_meta="tls: implicit") as srv:
        c = srv.connect(tls=True)
        c.line()
        c.send(b"NOOP\r\n")
        with pytest.raises((ssl.SSLError, ConnectionResetError)):
            c.read_until_close()
        assert only_result(srv)["end"] == "server-close"


@pytest.mark.parametrize("proto,greet_end,cmd,want", [
    ("imap", b"\r\n", b"a1 NOOP\r\n", b"a1 NO injected for NOOP\r\n"),
    ("smtp", b"\r\n", b"NOOP\r\n", b"451 4.3.0 injected for NOOP\r\n"),
])
def test_error_action_per_protocol(mailrig, tmp_path, proto, greet_end, cmd, want):
    body = 'on NOOP\n    error "injected for ${cmd}"\n'
    with serve(mailrig, tmp_path, body, protocol=proto) as srv:
        c = srv.connect()
        c.expect(greet_end)
        c.send(cmd)
        assert c.line() == want
        c.close()


@pytest.mark.parametrize("proto,want", [
    ("imap", b"* BYE go away\r\n"), ("pop3", b"-ERR go away\r\n"), ("smtp", b"554 go away\r\n"),
])
def test_error_action_in_greeting(mailrig, tmp_path, proto, want):
    with serve(mailrig, tmp_path, 'on greeting\n    error "go away"\n    close\n',
               protocol=proto) as srv:
        c = srv.connect()
        assert c.line() == want
        assert c.read_until_close() == "closed"


def test_fake_starttls_stays_in_plaintext(mailrig, tmp_path):
    """STLS answered +OK without the handshake: the client's ClientHello
    arrives as plaintext, is refused as garbage, and is in the transcript."""
    body = 'on STLS\n    send "+OK Begin TLS negotiation\\r\\n"\n'
    with serve(mailrig, tmp_path, body, extra_meta="tls: starttls") as srv:
        c = srv.connect()
        c.line()
        c.send(b"STLS\r\n")
        assert c.line() == b"+OK Begin TLS negotiation\r\n"
        with pytest.raises(ssl.SSLError):
            c.starttls()
        c.close()
        r = only_result(srv)
    assert r["tls"]["established"] is False and r["discarded_after_starttls"] == 0
    trs = open(r["transcript"]).read()
    assert '\nC ' in trs and '\\x16\\x03\\x01' in trs  # a TLS handshake record, read as plaintext
    assert " tls " not in trs


def test_chance_on_greeting_varies_by_session_and_repeats(mailrig, tmp_path):
    body = 'on greeting chance 0.5\n    send "+OK lucky\\r\\n"\n'

    def run(d):
        d.mkdir()
        seq = []
        with serve(mailrig, d, body, extra_meta="seed: 3") as srv:
            for _ in range(30):
                c = srv.connect()
                seq.append(c.line() == b"+OK lucky\r\n")
                c.close()
        return seq

    a, b = run(tmp_path / "a"), run(tmp_path / "b")
    assert a == b and 5 < sum(a) < 25


def test_on_tls_rule_then_greeting_with_implicit_tls(mailrig, tmp_path):
    body = 'on tls\n    send "+OK first, inside TLS\\r\\n"\n'
    with serve(mailrig, tmp_path, body, extra_meta="tls: implicit") as srv:
        c = srv.connect(tls=True)
        assert c.line() == b"+OK first, inside TLS\r\n"
        assert c.line().startswith(b"+OK mailrig POP3 ready")
        c.close()


def test_transcript_is_on_disk_while_the_session_runs(mailrig, tmp_path):
    """Appended after each round of work: a live session can be watched,
    and a server killed outright (SIGKILL, no chance to clean up) still
    leaves what its sessions had done."""
    srv = serve(mailrig, tmp_path).start()
    c = srv.connect()
    login(c)
    c.send(b"STAT\r\n")
    c.line()
    trs = srv.out / "session-0001.trs"
    end = time.monotonic() + 5  # the file is appended just after the reply is written
    while "+OK 15 " not in (trs.read_text() if trs.exists() else "") and time.monotonic() < end:
        time.sleep(0.01)
    text = trs.read_text()
    assert text.startswith("# mailrig transcript 1\n") and '"STAT\\r\\n"' in text
    srv.stop(sig=signal.SIGKILL)
    assert srv.returncode == -signal.SIGKILL
    text = trs.read_text()
    assert '"STAT\\r\\n"' in text and "+OK 15 " in text
    c.close()


def test_delay_before_the_handshake_keeps_the_client_hello(mailrig, tmp_path):
    """The client starts TLS as soon as it reads the STLS reply; the script
    waits 200 ms before the handshake, so the server has read the
    ClientHello as plaintext by then.  Pipelined plaintext before it is
    discarded, the ClientHello goes to the handshake."""
    body = 'on STLS\n    send "+OK Begin TLS\\r\\n"\n    delay 200\n    starttls\n'
    with serve(mailrig, tmp_path, body, extra_meta="tls: starttls") as srv:
        c = srv.connect()
        c.line()
        c.send(b"STLS\r\nUSER evil\r\n")
        assert c.line() == b"+OK Begin TLS\r\n"
        c.starttls()
        c.send(b"CAPA\r\n")
        c.expect(b"\r\n.\r\n")
        c.send(b"QUIT\r\n")
        c.line()
        c.close()
        r = only_result(srv)
    assert r["tls"]["established"] is True and r["discarded_after_starttls"] == len(b"USER evil\r\n")
    assert "go to the handshake" in open(r["transcript"]).read()
