"""The client drivers of conformance/clients/drivers/ (py-imap, py-pop3,
py-smtp and the libetpan etpan-client) run against `mailrig serve` in
every TLS mode: exit status, the lines they print, the Maildir they
write, and the session result the fake server leaves (verdict, TLS,
the mailbox as the client left it, the messages received).

The etpan-client tests build build/conformance/etpan-client with
conformance/clients/drivers/drivers.mk, and are skipped when that cannot
be done (no libetpan-dev).
"""

import email
import email.policy
import json
import os
import re
import subprocess
import time
from pathlib import Path

import pytest

from fakeserver import FakeServer

TOP = Path(__file__).resolve().parent.parent
DRIVERS = TOP / "conformance" / "clients" / "drivers"
ETPAN = TOP / "build" / "conformance" / "etpan-client"
DEFAULT = TOP / "corpora" / "mailbox" / "default"
USER, PASSWORD = "user", "password"
MODES = ["none", "implicit", "starttls"]
LETTERS = {"D", "F", "R", "S", "T"}

# ------------------------------------------------------------ the mailbox


def maildir_files(folder):
    """INBOX as the server orders it: cur/ and new/ by file name."""
    return sorted((p for sub in ("cur", "new") for p in (folder / sub).iterdir()
                   if not p.name.startswith(".")), key=lambda p: p.name)


def crlf(data):
    return re.sub(rb"(?<!\r)\n", b"\r\n", data)


def letters_of(name):
    return "".join(sorted(set(name.partition(":2,")[2]) & LETTERS)) if ":2," in name else ""


def one_line(text):
    return " ".join("".join(c if c.isprintable() or c.isspace() else "?" for c in text).split())


def subject(data):
    value = email.message_from_bytes(data, policy=email.policy.default)["subject"]
    return one_line(str(value)) if value is not None else ""


def header_part(data):
    i = data.find(b"\r\n\r\n")
    return data if i < 0 else data[:i + 4]


INBOX = maildir_files(DEFAULT)
INBOX_BYTES = [crlf(p.read_bytes()) for p in INBOX]
INBOX_LETTERS = [letters_of(p.name) for p in INBOX]
assert len(INBOX) == 15


def imap_lines():
    """What an IMAP driver prints: UID, RFC822.SIZE, subject."""
    return [f"{uid}\t{len(data)}\t{subject(data)}" for uid, data in enumerate(INBOX_BYTES, 1)]


def pop3_lines(uidls):
    return [f"{u}\t{len(data)}\t{subject(data)}" for u, data in zip(uidls, INBOX_BYTES)]


def read_maildir(path):
    """[(bytes, flag letters, subdir)] of a Maildir the drivers wrote, sorted."""
    path = Path(path)
    assert sorted(p.name for p in path.iterdir()) == ["cur", "new", "tmp"]
    assert list((path / "tmp").iterdir()) == []
    out = []
    for sub in ("cur", "new"):
        for p in (path / sub).iterdir():
            if sub == "new":
                assert ":2," not in p.name, p
            else:
                assert letters_of(p.name), p  # cur/ only for messages with a flag
            out.append((p.read_bytes(), letters_of(p.name), sub))
    return sorted(out)


# ------------------------------------------------------------ servers and drivers


@pytest.fixture
def serve(mailrig, tmp_path):
    servers = []

    def start(protocol, tls="none", **kw):
        kw.setdefault("out", tmp_path / f"out{len(servers) + 1}")
        srv = FakeServer(mailrig, protocol, tls=None if tls == "none" else tls, **kw)
        servers.append(srv)
        srv.start()
        return srv

    yield start
    for srv in servers:
        stop(srv)


def stop(srv):
    if getattr(srv, "stopped", False):
        return
    srv.stopped = True
    code = srv.stop()
    err = srv.stderr.decode(errors="replace")
    for bad in ("AddressSanitizer", "LeakSanitizer", "runtime error"):
        assert bad not in err, err
    assert code in (0, 1), (code, err)


def results(srv, n=1, timeout=10):
    """The session results, once n are written completely."""
    end = time.time() + timeout
    while time.time() < end:
        try:
            res = srv.results()
            if len(res) >= n:
                return res
        except json.JSONDecodeError:  # written in place: maybe half written
            pass
        time.sleep(0.02)
    raise AssertionError(f"{n} session results did not appear")


def mailbox_json(result):
    assert result["mailbox"], result
    return json.loads(Path(result["mailbox"]).read_text())


def inbox_of(result):
    for f in mailbox_json(result)["folders"]:
        if f["name"] == "INBOX":
            return f["messages"]
    raise AssertionError("no INBOX in the mailbox JSON")


def run(cmd, srv=None, tls="none", user=True, timeout=60, **kw):
    """Run a driver against srv; return the CompletedProcess."""
    args = [str(c) for c in cmd]
    if srv is not None:
        args += ["--host", "localhost", "--port", str(srv.port), "--tls", tls]
        if user:
            args += ["--user", USER, "--password", PASSWORD]
        if tls != "none":
            args += ["--cafile", srv.cafile]
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, **kw)


def ok(proc):
    assert proc.returncode == 0, (proc.returncode, proc.stdout, proc.stderr)
    assert "warning" not in proc.stderr and "error" not in proc.stderr, proc.stderr
    return proc.stdout.splitlines()


def check_session(result, mode, end="server-close"):
    assert result["verdict"] == "passed", result
    assert result["end"] == end, result
    assert result["user"] == USER, result
    assert result["tls"]["mode"] == mode
    assert result["tls"]["established"] is (mode != "none"), result["tls"]
    assert result["tls"]["error"] is None


PY_IMAP = [DRIVERS / "py-imap"]
PY_POP3 = [DRIVERS / "py-pop3"]
PY_SMTP = [DRIVERS / "py-smtp"]


@pytest.fixture(scope="session")
def etpan():
    """build/conformance/etpan-client, built with drivers.mk; else skip."""
    if not Path("/usr/include/libetpan/mailimap.h").exists():
        pytest.skip("libetpan-dev is not installed")
    proc = subprocess.run(["make", "-s", "-f", "conformance/clients/drivers/drivers.mk"], cwd=TOP,
                          capture_output=True, text=True)
    if proc.returncode != 0 or not os.access(ETPAN, os.X_OK):
        pytest.skip(f"etpan-client did not build: {proc.stderr[-2000:]}")
    return ETPAN


IMAP_DRIVERS = ["py-imap", "etpan"]
POP3_DRIVERS = ["py-pop3", "etpan"]


def driver_cmd(name, protocol, request):
    if name == "etpan":
        return [request.getfixturevalue("etpan"), "--protocol", protocol]
    return [DRIVERS / name]


# ------------------------------------------------------------ IMAP


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("driver", IMAP_DRIVERS)
def test_imap_sync(serve, tmp_path, request, driver, mode):
    cmd = driver_cmd(driver, "imap", request)
    srv = serve("imap", mode)
    md = tmp_path / "Maildir"
    lines = ok(run(cmd + ["--maildir", md], srv, mode))
    assert lines == imap_lines()
    # every message as the server sent it, flags in the file names
    assert read_maildir(md) == sorted((data, letters, "cur" if letters else "new")
                                      for data, letters in zip(INBOX_BYTES, INBOX_LETTERS))
    res = results(srv)[1]
    check_session(res, mode)
    # BODY.PEEK: nothing was changed
    msgs = inbox_of(res)
    assert [m["uid"] for m in msgs] == list(range(1, 16))
    assert ["\\Seen" in m["flags"] for m in msgs] == ["S" in x for x in INBOX_LETTERS]


@pytest.mark.parametrize("driver", IMAP_DRIVERS)
def test_imap_delete_and_mark_seen(serve, request, driver):
    cmd = driver_cmd(driver, "imap", request)
    srv = serve("imap", "starttls")
    delete = ["--delete", "2"] if driver == "py-imap" else ["--delete=2"]
    lines = ok(run(cmd + delete + ["--mark-seen"], srv, "starttls"))
    assert lines == imap_lines()
    res = results(srv)[1]
    check_session(res, "starttls")
    msgs = inbox_of(res)
    # EXPUNGE also removes what the mailbox had marked \Deleted already (7)
    assert [m["uid"] for m in msgs] == [u for u in range(1, 16) if u != 2 and "T" not in INBOX_LETTERS[u - 1]]
    assert 7 not in [m["uid"] for m in msgs]
    assert all("\\Seen" in m["flags"] for m in msgs)


@pytest.mark.parametrize("driver", IMAP_DRIVERS)
def test_imap_headers_only(serve, tmp_path, request, driver):
    cmd = driver_cmd(driver, "imap", request)
    srv = serve("imap")
    md = tmp_path / "Maildir"
    assert ok(run(cmd + ["--headers-only", "--maildir", md], srv)) == imap_lines()
    assert sorted(d for d, _, _ in read_maildir(md)) == sorted(header_part(d) for d in INBOX_BYTES)
    check_session(results(srv)[1], "none")


@pytest.mark.parametrize("mech", ["plain", "cram-md5", "sasl-login"])
def test_py_imap_authenticate(serve, mech):
    srv = serve("imap", "implicit")
    assert ok(run(PY_IMAP + ["--auth", mech], srv, "implicit")) == imap_lines()
    res = results(srv)[1]
    check_session(res, "implicit")
    assert any("AUTHENTICATE" in n for n in res["notes"]), res["notes"]


@pytest.mark.parametrize("mech", ["plain", "cram-md5"])
def test_etpan_imap_authenticate(serve, etpan, mech):
    srv = serve("imap")
    assert ok(run([etpan, "--protocol", "imap", "--auth", mech], srv)) == imap_lines()
    res = results(srv)[1]
    check_session(res, "none")
    assert any("AUTHENTICATE" in n for n in res["notes"]), res["notes"]


# ------------------------------------------------------------ POP3


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("driver", POP3_DRIVERS)
def test_pop3_download(serve, tmp_path, request, driver, mode):
    cmd = driver_cmd(driver, "pop3", request)
    srv = serve("pop3", mode)
    md = tmp_path / "Maildir"
    lines = ok(run(cmd + ["--maildir", md], srv, mode))
    res = results(srv)[1]
    check_session(res, mode)
    msgs = inbox_of(res)
    assert [m["uid"] for m in msgs] == list(range(1, 16))  # kept on the server
    assert lines == pop3_lines([m["uidl"] for m in msgs])
    assert read_maildir(md) == sorted((d, "", "new") for d in INBOX_BYTES)


@pytest.mark.parametrize("driver", POP3_DRIVERS)
def test_pop3_download_and_delete(serve, tmp_path, request, driver):
    cmd = driver_cmd(driver, "pop3", request)
    srv = serve("pop3", "implicit")
    md = tmp_path / "Maildir"
    lines = ok(run(cmd + ["--delete", "--maildir", md], srv, "implicit"))
    assert len(lines) == 15
    res = results(srv)[1]
    check_session(res, "implicit")
    assert inbox_of(res) == []
    assert any("15 messages removed" in n for n in res["notes"]), res["notes"]
    assert len(read_maildir(md)) == 15


@pytest.mark.parametrize("driver", POP3_DRIVERS)
def test_pop3_leave_on_server_uidl_file(serve, tmp_path, request, driver):
    cmd = driver_cmd(driver, "pop3", request)
    srv = serve("pop3", "starttls")
    uf = tmp_path / "uidls"
    md = tmp_path / "Maildir"
    # one UIDL already known: 14 are downloaded, then none
    first = run(PY_POP3, srv, "starttls")  # to learn the UIDLs
    uidls = [line.split("\t")[0] for line in ok(first)]
    uf.write_text(uidls[4] + "\n")
    lines = ok(run(cmd + ["--uidl-file", uf, "--maildir", md], srv, "starttls"))
    assert lines == [l for i, l in enumerate(pop3_lines(uidls)) if i != 4]
    assert sorted(uf.read_text().split()) == sorted(uidls)
    assert len(read_maildir(md)) == 14
    again = ok(run(cmd + ["--uidl-file", uf, "--maildir", md], srv, "starttls"))
    assert again == []
    assert len(read_maildir(md)) == 14
    assert sorted(uf.read_text().split()) == sorted(uidls)
    res = results(srv, 3)
    for n in (1, 2, 3):
        check_session(res[n], "starttls")
        assert [m["uid"] for m in inbox_of(res[n])] == list(range(1, 16))
    # the third session retrieved nothing
    trs = Path(res[3]["transcript"]).read_text()
    assert "RETR" not in trs and "UIDL" in trs


@pytest.mark.parametrize("mech", ["apop", "plain", "login", "cram-md5"])
def test_py_pop3_auth(serve, mech):
    srv = serve("pop3", "starttls")
    lines = ok(run(PY_POP3 + ["--auth", mech], srv, "starttls"))
    assert len(lines) == 15
    res = results(srv)[1]
    check_session(res, "starttls")
    assert any(("APOP" if mech == "apop" else "AUTH") in n for n in res["notes"]), res["notes"]


@pytest.mark.parametrize("mech", ["plain", "cram-md5"])
def test_etpan_pop3_auth(serve, etpan, mech):
    srv = serve("pop3")
    assert len(ok(run([etpan, "--protocol", "pop3", "--auth", mech], srv))) == 15
    res = results(srv)[1]
    check_session(res, "none")
    assert any(f"AUTH {mech.upper()}" in n for n in res["notes"]), res["notes"]


# ------------------------------------------------------------ SMTP


@pytest.mark.parametrize("mode", MODES)
def test_py_smtp_builtin_message(serve, mode):
    srv = serve("smtp", mode)
    lines = ok(run(PY_SMTP + ["--from", "me@example.org", "--to", "a@example.org", "--to", "b@example.org"],
                   srv, mode))
    assert len(lines) == 1 and lines[0].startswith("sent\t")
    assert lines[0].endswith("\tmailrig py-smtp test message")
    res = results(srv)[1]
    check_session(res, mode)
    assert len(res["received"]) == 1, res["received"]
    got = sorted(srv.out.glob("session-0001.received-*.eml"))
    assert len(got) == 1
    data = got[0].read_bytes()
    assert int(lines[0].split("\t")[1]) == len(data)
    assert b"\r\n.A line that starts with a dot.\r\n" in data  # un-stuffed
    assert subject(data) == "mailrig py-smtp test message"
    rcvd = json.dumps(res["received"])
    assert "me@example.org" in rcvd and "a@example.org" in rcvd and "b@example.org" in rcvd


@pytest.mark.parametrize("mech", ["auto", "plain", "login", "cram-md5"])
def test_py_smtp_message_file_and_auth(serve, tmp_path, mech):
    msg = tmp_path / "m.eml"
    data = (b"From: <me@example.org>\r\nTo: <user@localhost>\r\nSubject: from a file\r\n\r\n"
            b"..two dots\r\n.\r\nlast\r\n")
    msg.write_bytes(data)
    srv = serve("smtp", "implicit")
    lines = ok(run(PY_SMTP + ["--auth", mech, "--message", msg], srv, "implicit"))
    assert lines == [f"sent\t{len(data)}\tfrom a file"]
    res = results(srv)[1]
    check_session(res, "implicit")
    got = list(srv.out.glob("session-0001.received-*.eml"))
    assert [p.read_bytes() for p in got] == [data]
    if mech != "auto":
        assert any(f"AUTH {mech.upper()}" in n for n in res["notes"]), res["notes"]


def test_py_smtp_without_user_sends_no_auth(serve):
    srv = serve("smtp")
    assert len(ok(run(PY_SMTP, srv, user=False))) == 1
    res = results(srv)[1]
    assert res["verdict"] == "passed" and res["user"] in (None, "")
    assert len(res["received"]) == 1


# ------------------------------------------------------------ failures


ALL = [("py-imap", "imap"), ("py-pop3", "pop3"), ("py-smtp", "smtp"), ("etpan", "imap"), ("etpan", "pop3")]


@pytest.mark.parametrize("driver,protocol", ALL)
@pytest.mark.parametrize("cert", ["unknown-ca", "wrong-host"])
def test_bad_certificate_is_refused(serve, request, driver, protocol, cert):
    """Verification is on: exit 1, and no credentials sent."""
    cmd = driver_cmd(driver, protocol, request)
    mode = "implicit" if cert == "unknown-ca" else "starttls"
    srv = serve(protocol, mode, cert=cert)
    proc = run(cmd, srv, mode)
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert proc.stdout == ""
    assert "error" in proc.stderr and "certificate" in proc.stderr.lower(), proc.stderr
    res = results(srv)[1]
    assert res["user"] in (None, ""), res
    assert not any("authenticated" in n for n in res["notes"]), res["notes"]
    trs = Path(res["transcript"]).read_text()
    assert PASSWORD not in trs


@pytest.mark.parametrize("driver,protocol", ALL)
def test_wrong_password_exits_1(serve, request, driver, protocol):
    cmd = driver_cmd(driver, protocol, request)
    srv = serve(protocol, extra=["--password", "other"])
    proc = run(cmd, srv)
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert proc.stdout == "" and "error" in proc.stderr


@pytest.mark.parametrize("driver,protocol", ALL)
def test_stalled_server_times_out(serve, tmp_path, request, driver, protocol):
    """A greeting that never comes: exit 1 after about --timeout."""
    cmd = driver_cmd(driver, protocol, request)
    scn = tmp_path / "stall.scn"
    scn.write_text(f"name: stall\nprotocol: {protocol}\n\non greeting\n    stall\n")
    srv = serve(protocol, scenario=scn)
    t0 = time.monotonic()
    proc = run(cmd + ["--timeout", "1"], srv, timeout=30)
    took = time.monotonic() - t0
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert took < 10, took
    assert "error" in proc.stderr


@pytest.mark.parametrize("driver,protocol", ALL)
@pytest.mark.parametrize("args", [["--bogus"], ["--port", "x"], ["--tls", "sometimes"], []])
def test_bad_usage_exits_2(request, driver, protocol, args):
    cmd = driver_cmd(driver, protocol, request)
    base = ["--host", "localhost", "--port", "1", "--user", USER]
    if args and args[0] == "--port":
        base = ["--host", "localhost", "--user", USER]
    proc = run(cmd + (base + args if args else []))
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert proc.stdout == ""


def test_connection_refused_exits_1(serve, request):
    srv = serve("imap")
    port = srv.port
    stop(srv)
    for cmd in (PY_IMAP, PY_POP3, PY_SMTP):
        proc = run(cmd + ["--host", "127.0.0.1", "--port", str(port), "--user", USER])
        assert proc.returncode == 1, (cmd, proc.stderr)
        assert "error" in proc.stderr
