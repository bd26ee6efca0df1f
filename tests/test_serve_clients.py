"""The fake servers driven by Python's real clients: imaplib, poplib and
smtplib run full normal sessions against `mailrig serve`, in plaintext,
with implicit TLS and with STARTTLS/STLS, and the session results (verdict,
user, TLS, the mailbox JSON, the received messages) are checked against
what the clients did.

Every server started here is stopped by the `serve` fixture, which fails
the test when the server reported a sanitizer error (the ASan+UBSan build:
MAILRIG=build/asan/mailrig) or exited with a status other than 0 or 1.
"""

import base64
import email
import email.policy
import hashlib
import hmac
import imaplib
import json
import poplib
import re
import smtplib
import ssl
import time
from email.header import decode_header, make_header
from pathlib import Path

import pytest

from fakeserver import FakeServer

TOP = Path(__file__).resolve().parent.parent
DEFAULT = TOP / "corpora" / "mailbox" / "default"
USER, PASSWORD = "user", "password"

MODES = ["none", "implicit", "starttls"]

# ------------------------------------------------------------ the mailbox


def maildir_files(folder):
    """A Maildir folder's messages as the loader orders them: cur/ and new/
    together, by file name (fake-servers/mr_mailbox.c load_entries)."""
    files = [p for sub in ("cur", "new") for p in (folder / sub).iterdir() if not p.name.startswith(".")]
    return sorted(files, key=lambda p: p.name)


def crlf(data):
    """The loader's line ends: every LF not after a CR becomes CRLF."""
    return re.sub(rb"(?<!\r)\n", b"\r\n", data)


def maildir_flags(p):
    info = p.name.partition(":2,")[2] if ":2," in p.name else ""
    names = {"S": "\\Seen", "R": "\\Answered", "F": "\\Flagged", "T": "\\Deleted", "D": "\\Draft"}
    return {names[c] for c in info if c in names}


INBOX = maildir_files(DEFAULT)
INBOX_BYTES = [crlf(p.read_bytes()) for p in INBOX]
FOLDERS = {"INBOX": DEFAULT, "Sent": DEFAULT / ".Sent", "Archive": DEFAULT / ".Archive",
           "Archive/2024": DEFAULT / ".Archive.2024"}


def parse_msg(data):
    return email.message_from_bytes(data, policy=email.policy.default)


def header_part(data):
    """The header of a CRLF message, with the empty line that ends it."""
    i = data.find(b"\r\n\r\n")
    return data if i < 0 else data[:i + 4]


# ------------------------------------------------------------ servers


@pytest.fixture
def serve(mailrig, tmp_path):
    """serve(protocol, tls=..., scenario=..., ...) -> a started FakeServer.
    Each one is stopped at the end of the test and checked: no sanitizer
    report on stderr, exit status 0 or 1."""
    servers = []

    def start(protocol=None, **kw):
        n = len(servers) + 1
        kw.setdefault("out", tmp_path / f"out{n}")
        if kw.get("tls") == "none":
            kw["tls"] = None
        srv = FakeServer(mailrig, protocol, **kw)
        servers.append(srv)
        srv.start()
        return srv

    yield start
    for srv in servers:
        if not getattr(srv, "checked", False):
            check_stopped(srv)


def check_stopped(srv):
    """Stop the server; fail on a sanitizer report or an exit status other
    than 0 and 1.  Done once per server (the fixture skips checked ones)."""
    srv.checked = True
    code = srv.stop()
    err = srv.stderr.decode(errors="replace")
    assert "AddressSanitizer" not in err, err
    assert "runtime error" not in err, err
    assert "LeakSanitizer" not in err, err
    assert code in (0, 1), (code, err)
    return code


def finish(srv, n=1):
    """Wait for n sessions to end, stop the server (checked), and return
    the results by session number."""
    wait_sessions(srv, n)
    check_stopped(srv)
    return srv.results()


def wait_sessions(srv, n, timeout=10):
    """Wait until n session results are there and complete.  The server
    writes session-NNNN.json in place (mr_engine_finish: json_dump_file,
    no temporary name and rename), so a file may be seen empty or half
    written: FakeServer.wait_results can trip on that."""
    end = time.time() + timeout
    while time.time() < end:
        try:
            if len(srv.results()) >= n:
                return
        except json.JSONDecodeError:
            pass
        time.sleep(0.02)
    raise AssertionError(f"{n} session results did not appear")


def mailbox_json(result):
    assert result["mailbox"], result
    return json.loads(Path(result["mailbox"]).read_text())


def folder_of(mb, name):
    for f in mb["folders"]:
        if f["name"] == name:
            return f
    return None


class LocalhostContext(ssl.SSLContext):
    """A client context trusting the server's test CA that always checks
    the certificate for "localhost" (the clients would use "127.0.0.1")."""

    def wrap_socket(self, sock, *args, **kw):
        kw["server_hostname"] = "localhost"
        return super().wrap_socket(sock, *args, **kw)


def tls_context(srv):
    ctx = LocalhostContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(srv.cafile)
    assert ctx.check_hostname and ctx.verify_mode == ssl.CERT_REQUIRED
    return ctx


def check_tls(result, mode):
    assert result["tls"]["mode"] == mode
    assert result["tls"]["established"] is (mode != "none"), result["tls"]
    assert result["tls"]["error"] is None


# ------------------------------------------------------------ IMAP helpers


class _Lit(bytes):
    """A literal's bytes, as imaplib hands them."""


def _imap_tokens(chunks):
    toks = []
    for ch in chunks:
        if isinstance(ch, _Lit):
            toks.append(bytes(ch))
            continue
        i, n = 0, len(ch)
        while i < n:
            c = ch[i]
            if c == 0x20:
                i += 1
            elif c in (0x28, 0x29):
                toks.append("(" if c == 0x28 else ")")
                i += 1
            elif c == 0x22:
                j, buf = i + 1, bytearray()
                while ch[j] != 0x22:
                    if ch[j] == 0x5C:
                        j += 1
                    buf.append(ch[j])
                    j += 1
                toks.append(bytes(buf))
                i = j + 1
            else:
                j, depth = i, 0
                while j < n and (depth or ch[j] not in (0x20, 0x28, 0x29)):
                    depth += {0x5B: 1, 0x5D: -1}.get(ch[j], 0)
                    j += 1
                atom = ch[i:j].decode()
                toks.append(None if atom.upper() == "NIL" else int(atom) if atom.isdigit() else atom)
                i = j
    return toks


def _imap_value(toks, i):
    t = toks[i]
    if t == "(":
        lst, i = [], i + 1
        while toks[i] != ")":
            v, i = _imap_value(toks, i)
            lst.append(v)
        return lst, i + 1
    assert t != ")", toks
    return t, i + 1


def fetch_items(data):
    """imaplib's FETCH data -> {msgno: {ITEM: value}}: lists, bytes for
    strings and literals, int for numbers, str for other atoms, None for NIL.
    A response is a run of (head, literal) tuples ended by a bytes item."""
    out, cur = {}, []
    for item in data:
        if item is None:
            continue
        if isinstance(item, tuple):
            head, lit = item
            cur += [re.sub(rb"\{\d+\+?\}$", b"", head), _Lit(lit)]
            continue
        cur.append(item)
        toks = _imap_tokens(cur)
        cur = []
        num = toks[0]
        lst, end = _imap_value(toks, 1)
        assert end == len(toks), toks
        assert len(lst) % 2 == 0, lst
        items = out.setdefault(num, {})
        for k, v in zip(lst[::2], lst[1::2]):
            items[k.upper()] = v
    assert not cur
    return out


def ok(resp):
    typ, data = resp
    assert typ == "OK", resp
    return data


def imap_connect(srv, mode):
    """An imaplib client in the given TLS mode, TLS set up (STARTTLS done)."""
    if mode == "implicit":
        m = imaplib.IMAP4_SSL(srv.host, srv.port, ssl_context=tls_context(srv), timeout=5)
    else:
        m = imaplib.IMAP4(srv.host, srv.port, timeout=5)
    if mode == "starttls":
        assert "STARTTLS" in m.capabilities
        ok(m.starttls(ssl_context=tls_context(srv)))
        assert "STARTTLS" not in m.capabilities, m.capabilities
    else:
        assert "STARTTLS" not in m.capabilities, m.capabilities
    assert "AUTH=PLAIN" in m.capabilities and "AUTH=CRAM-MD5" in m.capabilities
    return m


def decode_words(b):
    return str(make_header(decode_header(b.decode("utf-8", "replace")))) if b is not None else None


def addr_specs(env_list):
    """Addr-specs of an ENVELOPE address list (group markers left out)."""
    return [f"{a[2].decode()}@{a[3].decode()}".lower() for a in env_list or [] if a[3] is not None]


def check_envelope(env, msg):
    date, subject, frm, sender, reply_to, to = env[:6]
    assert (date.decode() if date else None) == (str(msg["Date"]) if msg["Date"] is not None else None)
    want_subj = str(msg["Subject"]) if msg["Subject"] is not None else None
    assert decode_words(subject) == want_subj
    assert addr_specs(frm) == [a.addr_spec.lower() for a in msg["From"].addresses]
    assert addr_specs(sender) == addr_specs(frm) or msg["Sender"] is not None
    if msg["To"] is not None:
        want_to = [a.addr_spec.lower() for g in msg["To"].groups for a in g.addresses]
        assert addr_specs(to) == want_to
    mid = env[9]
    assert (mid.decode() if mid else None) == (msg["Message-ID"].strip() if msg["Message-ID"] else None)


def check_bodystructure(bs, msg):
    if isinstance(bs[0], list):
        k = 0
        while isinstance(bs[k], list):
            k += 1
        parts, subtype = bs[:k], bs[k]
        assert msg.get_content_type() == "multipart/" + subtype.decode().lower()
        sub = msg.get_payload()
        assert len(parts) == len(sub)
        for p, m in zip(parts, sub):
            check_bodystructure(p, m)
    else:
        assert msg.get_content_type() == f"{bs[0].decode()}/{bs[1].decode()}".lower()
        assert isinstance(bs[6], int)


def imap_idle(m):
    """IDLE and DONE by hand (imaplib has no IDLE before 3.14)."""
    tag = m._new_tag()
    m.send(tag + b" IDLE\r\n")
    assert m.readline().startswith(b"+"), "no continuation for IDLE"
    m.send(b"DONE\r\n")
    line = m.readline()
    while line.startswith(b"* "):
        line = m.readline()
    assert line.startswith(tag + b" OK"), line


# ------------------------------------------------------------ IMAP sessions


@pytest.mark.parametrize("mode", MODES)
def test_imap_full_session(serve, mode):
    srv = serve("imap", tls=mode)
    m = imap_connect(srv, mode)
    ok(m.login(USER, PASSWORD))
    caps = ok(m.capability())[0].decode().upper().split()
    assert "IMAP4REV1" in caps and "IDLE" in caps and "UIDPLUS" in caps
    assert not any(c.startswith("AUTH=") for c in caps) and "STARTTLS" not in caps

    # LIST: the folders with "/" as the delimiter
    names = {}
    for line in ok(m.list()):
        mo = re.match(rb'\(([^)]*)\) "(.)" "?([^"]*)"?$', line)
        assert mo, line
        assert mo.group(2) == b"/"
        names[mo.group(3).decode()] = mo.group(1).decode()
    assert set(names) == set(FOLDERS)
    assert "\\HasChildren" in names["Archive"]

    # SELECT: EXISTS is the mailbox's count
    assert ok(m.select("INBOX")) == [str(len(INBOX)).encode()]

    # FETCH 1:*: sizes match the files, ENVELOPE and BODYSTRUCTURE parse
    fetched = fetch_items(ok(m.fetch("1:*", "(FLAGS ENVELOPE BODYSTRUCTURE RFC822.SIZE)")))
    assert sorted(fetched) == list(range(1, len(INBOX) + 1))
    for n, (path, data) in enumerate(zip(INBOX, INBOX_BYTES), 1):
        it = fetched[n]
        assert it["RFC822.SIZE"] == len(data), path
        assert set(it["FLAGS"]) - {"\\Recent"} == maildir_flags(path), path
        msg = parse_msg(data)
        check_envelope(it["ENVELOPE"], msg)
        check_bodystructure(it["BODYSTRUCTURE"], msg)
    assert "\\Recent" in fetched[15]["FLAGS"]  # the message in new/

    # BODY.PEEK[HEADER] leaves \Seen alone, BODY[] sets it
    unseen = [n for n, p in enumerate(INBOX, 1) if "\\Seen" not in maildir_flags(p)]
    n = unseen[0]
    it = fetch_items(ok(m.fetch(str(n), "(BODY.PEEK[HEADER] FLAGS)")))[n]
    assert it["BODY[HEADER]"] == header_part(INBOX_BYTES[n - 1])
    assert "\\Seen" not in it["FLAGS"]
    it = fetch_items(ok(m.fetch(str(n), "(BODY[])")))[n]
    assert it["BODY[]"] == INBOX_BYTES[n - 1]
    it = fetch_items(ok(m.fetch(str(n), "(FLAGS)")))[n]
    assert "\\Seen" in it["FLAGS"]
    unseen.remove(n)

    # SEARCH
    def search(*crit, uid=False):
        data = ok(m.uid("SEARCH", *crit) if uid else m.search(None, *crit))
        return [int(x) for x in b" ".join(data).split()]

    assert search("ALL") == list(range(1, len(INBOX) + 1))
    assert search("UNSEEN") == unseen
    want = [i for i, d in enumerate(INBOX_BYTES, 1) if "base64" in str(parse_msg(d)["Subject"] or "").lower()]
    assert want and search("SUBJECT", "base64") == want
    want = [i for i, d in enumerate(INBOX_BYTES, 1) if "bob" in str(parse_msg(d)["From"]).lower()]
    assert want and search("FROM", "bob") == want
    assert search("UID", "2:4") == [2, 3, 4]
    assert search("UID", "2:4", uid=True) == [2, 3, 4]

    # STORE +FLAGS, checked with FETCH
    flagged = unseen[0]
    ok(m.store(str(flagged), "+FLAGS", "(\\Flagged)"))
    assert "\\Flagged" in fetch_items(ok(m.fetch(str(flagged), "(FLAGS)")))[flagged]["FLAGS"]

    # COPY to Archive, then STATUS of it
    typ, data = m.copy("1:2", "Archive")
    assert typ == "OK", data
    assert b"COPYUID" in data[0]
    st = ok(m.status("Archive", "(MESSAGES UIDNEXT)"))[0]
    mo = re.search(rb"MESSAGES (\d+)", st)
    assert mo and int(mo.group(1)) == len(maildir_files(FOLDERS["Archive"])) + 2, st

    # APPEND, then fetch it back by UID
    new_msg = (b"From: Test User <user@mailrig.test>\r\nTo: bob@mailrig.test\r\n"
               b"Subject: appended by imaplib\r\nMessage-ID: <append@mailrig.test>\r\n\r\n"
               b"Hello.\r\n.dot line\r\n")
    typ, data = m.append("INBOX", "(\\Seen)", None, new_msg)
    assert typ == "OK", data
    mo = re.search(rb"APPENDUID (\d+) (\d+)", data[0])
    assert mo, data
    new_uid = int(mo.group(2))
    assert new_uid == len(INBOX) + 1
    got = fetch_items(ok(m.uid("FETCH", str(new_uid), "(UID FLAGS BODY.PEEK[])")))
    (it,) = got.values()
    assert it["UID"] == new_uid and it["BODY[]"] == new_msg and "\\Seen" in it["FLAGS"]

    # CREATE, RENAME, DELETE a folder
    ok(m.create("Projects"))
    ok(m.rename("Projects", "Projects2"))
    listed = b"\n".join(ok(m.list()))
    assert b'"Projects2"' in listed and b'"Projects"' not in listed
    ok(m.create("Scratch"))
    ok(m.delete("Scratch"))
    assert b"Scratch" not in b"\n".join(ok(m.list()))

    # EXPUNGE after \Deleted: message 7 already has it (Maildir T)
    deleted = {n for n, p in enumerate(INBOX, 1) if "\\Deleted" in maildir_flags(p)}
    ok(m.store("1", "+FLAGS", "(\\Deleted)"))
    deleted.add(1)
    typ, data = m.expunge()
    assert typ == "OK"
    # EXPUNGE responses give sequence numbers as they are at each moment
    seqs = list(range(1, len(INBOX) + 2))
    gone = []
    for x in data:
        gone.append(seqs.pop(int(x) - 1))
    assert sorted(gone) == sorted(deleted)

    # UID FETCH after the expunge: UIDs stay
    got = fetch_items(ok(m.uid("FETCH", "1:*", "(UID)")))
    assert [it["UID"] for _, it in sorted(got.items())] == \
        [u for u in range(1, len(INBOX) + 2) if u not in deleted]

    imap_idle(m)
    assert m.logout()[0] == "BYE"

    res = finish(srv)[1]
    assert res["verdict"] == "passed", res
    assert res["end"] == "server-close"
    assert res["user"] == USER
    check_tls(res, mode)
    mb = mailbox_json(res)
    inbox = folder_of(mb, "INBOX")
    uids = [msg["uid"] for msg in inbox["messages"]]
    assert uids == [u for u in range(1, len(INBOX) + 2) if u not in deleted]
    by_uid = {msg["uid"]: msg for msg in inbox["messages"]}
    assert "\\Flagged" in by_uid[flagged]["flags"]
    assert "\\Seen" in by_uid[n]["flags"]
    assert by_uid[new_uid]["size"] == len(new_msg)
    assert by_uid[new_uid]["subject"] == "appended by imaplib"
    assert len(folder_of(mb, "Archive")["messages"]) == len(maildir_files(FOLDERS["Archive"])) + 2
    assert folder_of(mb, "Projects2") is not None
    assert folder_of(mb, "Projects") is None and folder_of(mb, "Scratch") is None


def _cram_md5(challenge_b64, user=USER, password=PASSWORD):
    chal = base64.b64decode(challenge_b64)
    digest = hmac.new(password.encode(), chal, hashlib.md5).hexdigest()
    return base64.b64encode(f"{user} {digest}".encode())


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("mech", ["PLAIN", "CRAM-MD5"])
def test_imap_authenticate(serve, mode, mech):
    srv = serve("imap", tls=mode)
    m = imap_connect(srv, mode)
    if mech == "PLAIN":
        typ, data = m.authenticate("PLAIN", lambda _: f"\0{USER}\0{PASSWORD}".encode())
    else:
        typ, data = m.login_cram_md5(USER, PASSWORD)
    assert typ == "OK", data
    assert m.state == "AUTH"
    assert ok(m.select("INBOX", readonly=True)) == [str(len(INBOX)).encode()]
    m.logout()
    res = finish(srv)[1]
    assert res["verdict"] == "passed" and res["user"] == USER
    check_tls(res, mode)


def test_imap_bad_password_is_refused(serve):
    srv = serve("imap")
    m = imaplib.IMAP4(srv.host, srv.port, timeout=5)
    with pytest.raises(imaplib.IMAP4.error):
        m.login(USER, "wrong")
    with pytest.raises(imaplib.IMAP4.error):
        m.login_cram_md5(USER, "wrong")
    m.logout()
    res = finish(srv)[1]
    assert res["user"] is None


# ------------------------------------------------------------ POP3


def pop3_connect(srv, mode):
    if mode == "implicit":
        p = poplib.POP3_SSL(srv.host, srv.port, context=tls_context(srv), timeout=5)
    else:
        p = poplib.POP3(srv.host, srv.port, timeout=5)
    caps = p.capa()
    if mode == "starttls":
        assert "STLS" in caps
        p.stls(context=tls_context(srv))
        caps = p.capa()
    assert "STLS" not in caps, caps
    for c in ("TOP", "UIDL", "USER"):
        assert c in caps
    assert set(caps["SASL"]) >= {"PLAIN", "LOGIN", "CRAM-MD5"}
    return p


def pop3_uidls(p):
    return [line.split()[1] for line in p.uidl()[1]]


@pytest.mark.parametrize("mode", MODES)
def test_pop3_full_session(serve, mode):
    srv = serve("pop3", tls=mode)
    p = pop3_connect(srv, mode)
    assert re.match(rb"\+OK .*<[^<>@]+@[^<>]+>$", p.getwelcome())
    p.user(USER)
    p.pass_(PASSWORD)
    total = sum(len(d) for d in INBOX_BYTES)
    assert p.stat() == (len(INBOX), total)
    resp, lines, _ = p.list()
    assert lines == [f"{n} {len(d)}".encode() for n, d in enumerate(INBOX_BYTES, 1)]
    assert p.list(3).split()[1:] == [b"3", str(len(INBOX_BYTES[2])).encode()]
    uidls = pop3_uidls(p)
    assert len(set(uidls)) == len(INBOX)
    for n, data in enumerate(INBOX_BYTES, 1):
        resp, lines, octets = p.retr(n)
        # poplib undoes the byte-stuffing and drops the CRLFs
        got = b"".join(line + b"\r\n" for line in lines)
        assert got == data, INBOX[n - 1]
        resp, lines, _ = p.top(n, 0)
        assert b"".join(line + b"\r\n" for line in lines) == header_part(data)
    assert p.noop().startswith(b"+OK")
    p.dele(1)
    with pytest.raises(poplib.error_proto):
        p.retr(1)
    assert p.stat() == (len(INBOX) - 1, total - len(INBOX_BYTES[0]))
    p.rset()
    assert p.stat() == (len(INBOX), total)
    p.dele(2)
    p.dele(3)
    assert p.quit().startswith(b"+OK")

    res = finish(srv)[1]
    assert res["verdict"] == "passed" and res["user"] == USER
    assert res["end"] == "server-close"
    check_tls(res, mode)
    msgs = folder_of(mailbox_json(res), "INBOX")["messages"]
    assert [m["uid"] for m in msgs] == [u for u in range(1, len(INBOX) + 1) if u not in (2, 3)]
    assert [m["uidl"] for m in msgs] == [u.decode() for i, u in enumerate(uidls, 1) if i not in (2, 3)]
    # RETR sets \Seen (mr_fake_pop3.c), TOP does not
    assert all("\\Seen" in m["flags"] for m in msgs)


def test_pop3_no_quit_no_deletion(serve):
    """RFC 1939 6: without QUIT there is no UPDATE state: DELE is undone."""
    srv = serve("pop3")
    p = poplib.POP3(srv.host, srv.port, timeout=5)
    p.user(USER)
    p.pass_(PASSWORD)
    p.dele(1)
    p.dele(2)
    p.sock.close()
    p.file.close()
    res = finish(srv)[1]
    assert res["end"] in ("client-close", "client-reset"), res
    assert res["verdict"] == "passed"
    msgs = folder_of(mailbox_json(res), "INBOX")["messages"]
    assert [m["uid"] for m in msgs] == list(range(1, len(INBOX) + 1))


@pytest.mark.parametrize("mode", MODES)
def test_pop3_apop(serve, mode):
    srv = serve("pop3", tls=mode)
    p = pop3_connect(srv, mode)
    assert p.apop(USER, PASSWORD).startswith(b"+OK")
    assert p.stat()[0] == len(INBOX)
    p.quit()
    res = finish(srv)[1]
    assert res["verdict"] == "passed" and res["user"] == USER
    check_tls(res, mode)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("mech", ["PLAIN", "LOGIN", "CRAM-MD5"])
def test_pop3_auth(serve, mode, mech):
    """poplib has no AUTH: RFC 5034 by hand with _shortcmd."""
    srv = serve("pop3", tls=mode)
    p = pop3_connect(srv, mode)
    b64 = lambda s: base64.b64encode(s.encode()).decode()
    if mech == "PLAIN":
        resp = p._shortcmd("AUTH PLAIN " + b64(f"\0{USER}\0{PASSWORD}"))
    elif mech == "LOGIN":
        assert p._shortcmd("AUTH LOGIN").startswith(b"+ ")
        assert p._shortcmd(b64(USER)).startswith(b"+ ")
        resp = p._shortcmd(b64(PASSWORD))
    else:
        chal = p._shortcmd("AUTH CRAM-MD5")
        assert chal.startswith(b"+ ")
        resp = p._shortcmd(_cram_md5(chal[2:]).decode())
    assert resp.startswith(b"+OK"), resp
    assert p.stat()[0] == len(INBOX)
    p.quit()
    res = finish(srv)[1]
    assert res["verdict"] == "passed" and res["user"] == USER
    check_tls(res, mode)


def test_pop3_bad_password(serve):
    srv = serve("pop3")
    p = poplib.POP3(srv.host, srv.port, timeout=5)
    p.user(USER)
    with pytest.raises(poplib.error_proto, match=r"\[AUTH\]"):
        p.pass_("wrong")
    with pytest.raises(poplib.error_proto):
        p.apop(USER, "wrong")
    p.quit()
    assert finish(srv)[1]["user"] is None


# ------------------------------------------------------------ SMTP


def smtp_connect(srv, mode):
    if mode == "implicit":
        s = smtplib.SMTP_SSL(srv.host, srv.port, context=tls_context(srv), timeout=5)
    else:
        s = smtplib.SMTP(srv.host, srv.port, timeout=5)
    code, _ = s.ehlo("client.test")
    assert code == 250
    if mode == "starttls":
        assert s.has_extn("starttls")
        assert s.starttls(context=tls_context(srv))[0] == 220
        s.ehlo("client.test")
    assert not s.has_extn("starttls"), s.esmtp_features
    for ext in ("size", "8bitmime", "pipelining", "chunking", "smtputf8", "enhancedstatuscodes", "dsn"):
        assert s.has_extn(ext), (ext, s.esmtp_features)
    assert set(s.esmtp_features["auth"].split()) == {"PLAIN", "LOGIN", "CRAM-MD5"}
    assert int(s.esmtp_features["size"]) > 0
    return s


def received_files(res):
    out = Path(res["result"]).parent
    stem = Path(res["result"]).name[: -len(".json")]
    return sorted(out.glob(f"{stem}.received-*.eml"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))


BODY_8BIT = ("From: Test User <user@mailrig.test>\r\n"
             "To: a@mailrig.test, b@mailrig.test\r\n"
             "Subject: dots and 8 bits\r\n"
             "MIME-Version: 1.0\r\n"
             "Content-Type: text/plain; charset=utf-8\r\n"
             "Content-Transfer-Encoding: 8bit\r\n"
             "\r\n"
             "Grüße aus Köln.\r\n"
             ".a line that starts with a dot\r\n"
             "..two dots\r\n"
             ".\r\n"
             "the end\r\n").encode("utf-8")


@pytest.mark.parametrize("mode", MODES)
def test_smtp_full_session(serve, mode):
    srv = serve("smtp", tls=mode)
    s = smtp_connect(srv, mode)
    s.login(USER, PASSWORD)
    rcpts = ["a@mailrig.test", "b@mailrig.test", "c@elsewhere.test"]
    refused = s.sendmail("user@mailrig.test", rcpts, BODY_8BIT, mail_options=["BODY=8BITMIME"])
    assert refused == {}
    assert s.rset()[0] == 250
    assert s.noop()[0] == 250
    assert s.vrfy(USER)[0] in (250, 251, 252)
    second = b"Subject: second\r\n\r\nplain ascii\r\n"
    assert s.sendmail("user@mailrig.test", ["d@mailrig.test"], second) == {}
    assert s.quit()[0] == 221

    res = finish(srv)[1]
    assert res["verdict"] == "passed" and res["user"] == USER
    check_tls(res, mode)
    rec = res["received"]
    assert len(rec) == 2, rec
    assert rec[0]["from"] == "user@mailrig.test"
    assert rec[0]["rcpts"] == rcpts
    assert rec[0]["size"] == len(BODY_8BIT)
    assert rec[1]["rcpts"] == ["d@mailrig.test"] and rec[1]["size"] == len(second)
    files = received_files(res)
    assert [f.read_bytes() for f in files] == [BODY_8BIT, second]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("mech", ["PLAIN", "LOGIN", "CRAM-MD5"])
def test_smtp_auth_mechanisms(serve, mode, mech):
    srv = serve("smtp", tls=mode)
    s = smtp_connect(srv, mode)
    s.user, s.password = USER, PASSWORD
    authobj = {"PLAIN": s.auth_plain, "LOGIN": s.auth_login, "CRAM-MD5": s.auth_cram_md5}[mech]
    code, _ = s.auth(mech, authobj, initial_response_ok=(mech != "CRAM-MD5"))
    assert code == 235
    s.quit()
    res = finish(srv)[1]
    assert res["verdict"] == "passed" and res["user"] == USER
    check_tls(res, mode)


def test_smtp_login_picks_a_mechanism_and_refuses_a_bad_password(serve):
    srv = serve("smtp")
    s = smtplib.SMTP(srv.host, srv.port, timeout=5)
    s.ehlo()
    with pytest.raises(smtplib.SMTPAuthenticationError):
        s.login(USER, "wrong")
    s.login(USER, PASSWORD)
    s.quit()
    assert finish(srv)[1]["user"] == USER


def test_smtp_bdat(serve):
    """smtplib has no BDAT (RFC 3030): chunks sent raw."""
    srv = serve("smtp")
    s = smtplib.SMTP(srv.host, srv.port, timeout=5)
    s.ehlo()
    assert s.has_extn("chunking")
    msg = b"Subject: chunked\r\n\r\n.not stuffed in BDAT\r\n\xc3\xa9\r\n"
    a, b = msg[:10], msg[10:]
    assert s.mail("user@mailrig.test", ["BODY=8BITMIME"])[0] == 250
    assert s.rcpt("x@mailrig.test")[0] == 250
    s.send(b"BDAT %d\r\n" % len(a) + a)
    assert s.getreply()[0] == 250
    s.send(b"BDAT %d LAST\r\n" % len(b) + b)
    assert s.getreply()[0] == 250
    # an empty last chunk ends a second message
    assert s.mail("user@mailrig.test")[0] == 250
    assert s.rcpt("y@mailrig.test")[0] == 250
    s.send(b"BDAT 5\r\nabc\r\n")
    assert s.getreply()[0] == 250
    s.send(b"BDAT 0 LAST\r\n")
    assert s.getreply()[0] == 250
    s.quit()
    res = finish(srv)[1]
    rec = res["received"]
    assert [r["rcpts"] for r in rec] == [["x@mailrig.test"], ["y@mailrig.test"]]
    assert [r["size"] for r in rec] == [len(msg), 5]
    assert [f.read_bytes() for f in received_files(res)] == [msg, b"abc\r\n"]


# ------------------------------------------------------------ STARTTLS not taken


@pytest.mark.parametrize("proto", ["imap", "pop3", "smtp"])
def test_starttls_offered_but_not_taken(serve, proto):
    """The default policy allows plaintext login when STARTTLS is offered."""
    srv = serve(proto, tls="starttls")
    if proto == "imap":
        m = imaplib.IMAP4(srv.host, srv.port, timeout=5)
        assert "STARTTLS" in m.capabilities
        ok(m.login(USER, PASSWORD))
        ok(m.select("INBOX"))
        m.logout()
    elif proto == "pop3":
        p = poplib.POP3(srv.host, srv.port, timeout=5)
        assert "STLS" in p.capa()
        p.user(USER)
        p.pass_(PASSWORD)
        assert p.stat()[0] == len(INBOX)
        p.quit()
    else:
        s = smtplib.SMTP(srv.host, srv.port, timeout=5)
        s.ehlo()
        assert s.has_extn("starttls")
        s.login(USER, PASSWORD)
        s.sendmail("user@mailrig.test", ["a@mailrig.test"], b"Subject: x\r\n\r\nplain\r\n")
        s.quit()
    res = finish(srv)[1]
    assert res["verdict"] == "passed" and res["user"] == USER
    assert res["tls"]["mode"] == "starttls" and res["tls"]["established"] is False


# ------------------------------------------------------------ scenarios


def scenario(tmp_path, name, text):
    p = tmp_path / f"{name}.scn"
    p.write_text(f"name: {name}\n" + text)
    return p


IMAP_NO_PLAIN_LOGIN = """protocol: imap
tls: starttls

expect no-send LOGIN plaintext
expect order STARTTLS LOGIN
"""


@pytest.mark.parametrize("upgrade", [True, False])
def test_scenario_imap_no_plaintext_login(serve, tmp_path, upgrade):
    sc = scenario(tmp_path, "imap-no-plain-login", IMAP_NO_PLAIN_LOGIN)
    srv = serve(scenario=sc)
    m = imaplib.IMAP4(srv.host, srv.port, timeout=5)
    if upgrade:
        ok(m.starttls(ssl_context=tls_context(srv)))
    ok(m.login(USER, PASSWORD))
    m.logout()
    res = finish(srv)[1]
    assert res["scenario"] == "imap-no-plain-login"
    exp = {e["kind"]: e for e in res["expectations"]}
    if upgrade:
        assert res["verdict"] == "passed", res["expectations"]
        assert res["tls"]["established"] is True
    else:
        assert res["verdict"] == "failed"
        assert exp["no-send"]["passed"] is False
        assert "LOGIN" in exp["no-send"]["detail"] and "plaintext" in exp["no-send"]["detail"]
        assert exp["order"]["passed"] is False
        assert res["tls"]["established"] is False


def test_scenario_pop3_rules_and_expectations(serve, tmp_path):
    """Rules change what poplib sees; expectations judge what it sent."""
    sc = scenario(tmp_path, "pop3-rules", """protocol: pop3
tls: implicit

on STAT
    send "+OK 1 42\\r\\n"

on RETR nth 2
    error "[SYS/TEMP] try later"

expect send PASS tls
expect send STAT
expect no-send DELE
expect order USER PASS STAT RETR
""")
    srv = serve(scenario=sc)
    p = poplib.POP3_SSL(srv.host, srv.port, context=tls_context(srv), timeout=5)
    p.user(USER)
    p.pass_(PASSWORD)
    assert p.stat() == (1, 42)
    assert b"".join(l + b"\r\n" for l in p.retr(1)[1]) == INBOX_BYTES[0]
    with pytest.raises(poplib.error_proto, match=r"SYS/TEMP"):
        p.retr(2)
    p.quit()
    res = finish(srv)[1]
    assert res["verdict"] == "passed", res["expectations"]
    assert all(e["passed"] for e in res["expectations"])
    check_tls(res, "implicit")


SMTP_SCENARIO = """protocol: smtp
tls: starttls

on <data> first
    error "5.6.0 first message refused"

expect order STARTTLS AUTH MAIL
expect no-send AUTH plaintext
expect silent-after QUIT
"""


@pytest.mark.parametrize("upgrade", [True, False])
def test_scenario_smtp_data_refused_and_starttls_first(serve, tmp_path, upgrade):
    sc = scenario(tmp_path, "smtp-rules", SMTP_SCENARIO)
    srv = serve(scenario=sc)
    s = smtplib.SMTP(srv.host, srv.port, timeout=5)
    s.ehlo()
    if upgrade:
        s.starttls(context=tls_context(srv))
        s.ehlo()
    s.login(USER, PASSWORD)
    with pytest.raises(smtplib.SMTPDataError) as ei:
        s.sendmail("user@mailrig.test", ["a@mailrig.test"], b"Subject: 1\r\n\r\none\r\n")
    assert ei.value.smtp_code // 100 == 5 and b"first message refused" in ei.value.smtp_error
    assert s.sendmail("user@mailrig.test", ["a@mailrig.test"], b"Subject: 2\r\n\r\ntwo\r\n") == {}
    s.quit()
    res = finish(srv)[1]
    exp = {e["kind"]: e for e in res["expectations"]}
    assert [r["size"] for r in res["received"]] == [len(b"Subject: 2\r\n\r\ntwo\r\n")]
    assert exp["silent-after"]["passed"] is True
    if upgrade:
        assert res["verdict"] == "passed", res["expectations"]
    else:
        assert res["verdict"] == "failed"
        assert exp["no-send"]["passed"] is False and "plaintext" in exp["no-send"]["detail"]
        assert exp["order"]["passed"] is False


def test_scenario_regex_patterns(serve, tmp_path):
    """`match`/`save` and "REGEX" expectations, with poplib (under ASan
    too: the line matched must have a NUL after it)."""
    sc = scenario(tmp_path, "pop3-regex", """protocol: pop3

on USER match "^USER (.*)$" save who
    default

on STAT
    send "+OK 1 1 ${who}\\r\\n"

expect send "^PASS password$" plaintext
expect no-send "^DELE "
expect order "^USER " "^PASS " "^STAT$"
""")
    srv = serve(scenario=sc)
    try:
        p = poplib.POP3(srv.host, srv.port, timeout=5)
        p.user(USER)
        p.pass_(PASSWORD)
        assert p._shortcmd("STAT") == b"+OK 1 1 user"
        p.quit()
        wait_sessions(srv, 1)
    finally:
        check_stopped(srv)
    res = srv.results()[1]
    assert res["verdict"] == "passed", res["expectations"]


# ------------------------------------------------------------ the parsing corpus as a mailbox

CORPUS = TOP / "corpora" / "mailbox"
CORPUS_FILES = sorted(CORPUS.glob("*.eml"), key=lambda p: p.name)
CORPUS_BYTES = [crlf(p.read_bytes()) for p in CORPUS_FILES]


def test_pop3_retr_corpus_dot_lines_and_no_final_crlf(serve):
    """corpora/mailbox/*.eml as the maildrop: dot lines are byte-stuffed and
    unstuffed (RFC 1939 3), a message without a final CRLF gets one."""
    srv = serve("pop3", mailbox=CORPUS)
    p = poplib.POP3(srv.host, srv.port, timeout=5)
    p.user(USER)
    p.pass_(PASSWORD)
    assert p.stat() == (len(CORPUS_FILES), sum(map(len, CORPUS_BYTES)))
    assert p.list()[1] == [f"{n} {len(d)}".encode() for n, d in enumerate(CORPUS_BYTES, 1)]
    for n, data in enumerate(CORPUS_BYTES, 1):
        _, lines, _ = p.retr(n)
        want = data if data.endswith(b"\r\n") else data + b"\r\n"
        assert b"".join(line + b"\r\n" for line in lines) == want, CORPUS_FILES[n - 1]
        # TOP n 3: the header, the empty line, then 3 lines of the body
        _, lines, _ = p.top(n, 3)
        head = header_part(want)
        body = want[len(head):].split(b"\r\n")[:-1]
        assert b"".join(line + b"\r\n" for line in lines) == \
            head + b"".join(line + b"\r\n" for line in body[:3]), CORPUS_FILES[n - 1]
    p.quit()
    assert finish(srv)[1]["verdict"] == "passed"


def test_imap_fetch_corpus(serve):
    """ENVELOPE, BODYSTRUCTURE, sizes and BODY[] over the 40 varied messages."""
    srv = serve("imap", mailbox=CORPUS)
    m = imaplib.IMAP4(srv.host, srv.port, timeout=5)
    ok(m.login(USER, PASSWORD))
    assert ok(m.select("INBOX", readonly=True)) == [str(len(CORPUS_FILES)).encode()]
    got = fetch_items(ok(m.fetch("1:*", "(RFC822.SIZE ENVELOPE BODYSTRUCTURE BODY.PEEK[])")))
    more = fetch_items(ok(m.fetch("1:*", "(BODY.PEEK[TEXT] BODY.PEEK[]<5.20>)")))
    for n, (path, data) in enumerate(zip(CORPUS_FILES, CORPUS_BYTES), 1):
        it = got[n]
        assert it["RFC822.SIZE"] == len(data), path
        assert it["BODY[]"] == data, path
        assert more[n]["BODY[TEXT]"] == data[len(header_part(data)):], path
        assert more[n]["BODY[]<5>"] == data[5:25], path
        msg = parse_msg(data)
        check_envelope(it["ENVELOPE"], msg)
        check_bodystructure(it["BODYSTRUCTURE"], msg)
    m.logout()
    assert finish(srv)[1]["verdict"] == "passed"


# ------------------------------------------------------------ more IMAP and SMTP


def test_imap_close_expunges_examine_does_not(serve):
    """RFC 3501 6.4.2: CLOSE expunges a mailbox selected with SELECT, not one
    selected with EXAMINE."""
    srv = serve("imap")
    m = imaplib.IMAP4(srv.host, srv.port, timeout=5)
    ok(m.login(USER, PASSWORD))
    ok(m.select("Sent"))
    ok(m.store("1", "+FLAGS", "(\\Deleted)"))
    ok(m.close())
    ok(m.select("Archive", readonly=True))
    typ, _ = m.store("1", "+FLAGS", "(\\Deleted)")
    assert typ == "NO"
    ok(m.close())
    ok(m.select("INBOX"))
    ok(m.close())  # message 7 has \Deleted from its Maildir name
    m.logout()
    mb = mailbox_json(finish(srv)[1])
    assert [x["uid"] for x in folder_of(mb, "Sent")["messages"]] == [2]
    assert [x["uid"] for x in folder_of(mb, "Archive")["messages"]] == [1, 2]
    deleted = [n for n, p in enumerate(INBOX, 1) if "\\Deleted" in maildir_flags(p)]
    assert [x["uid"] for x in folder_of(mb, "INBOX")["messages"]] == \
        [u for u in range(1, len(INBOX) + 1) if u not in deleted]


def smtputf8_session(serve):
    srv = serve("smtp")
    s = smtplib.SMTP(srv.host, srv.port, timeout=5)
    s.ehlo()
    msg = "From: jörg@mailrig.test\r\nSubject: ü\r\n\r\nÜberall\r\n".encode()
    assert s.sendmail("jörg@mailrig.test", ["zoë@mailrig.test", "plain@mailrig.test"], msg,
                      mail_options=["SMTPUTF8", "BODY=8BITMIME"]) == {}
    s.quit()
    return finish(srv)[1], msg


def test_smtp_smtputf8(serve):
    res, msg = smtputf8_session(serve)
    (rec,) = res["received"]
    assert rec["size"] == len(msg) and rec["rcpts"][1] == "plain@mailrig.test"
    assert received_files(res)[0].read_bytes() == msg


def test_smtp_smtputf8_addresses_in_result(serve):
    res, _ = smtputf8_session(serve)
    (rec,) = res["received"]
    assert rec["from"] == "jörg@mailrig.test"
    assert rec["rcpts"] == ["zoë@mailrig.test", "plain@mailrig.test"]
