"""The transcripts the fake servers write read back: `mailrig parse
--dialogue` parses every server answer of a whole session, for each
protocol, in plaintext, with implicit TLS and with STARTTLS (the TLS
event, notes and rule comments included), with no diagnostic in
strict mode: what the fake servers answer is clean by the RFCs.
"""

import imaplib
import json
import poplib
import smtplib
import ssl
import subprocess

import pytest

from fakeserver import FakeServer


def ctx(srv):
    return ssl.create_default_context(cafile=srv.cafile)


def imap_session(srv, tls):
    if tls == "implicit":
        c = imaplib.IMAP4_SSL(srv.host, srv.port, ssl_context=ctx(srv))
    else:
        c = imaplib.IMAP4(srv.host, srv.port)
        if tls == "starttls":
            c.starttls(ctx(srv))
    c.login("user", "password")
    c.list()
    c.select("INBOX")
    c.fetch("1:3", "(FLAGS ENVELOPE BODYSTRUCTURE BODY.PEEK[HEADER])")
    c.search(None, "ALL")
    c.store("1", "+FLAGS", "(\\Flagged)")
    c.logout()


def pop3_session(srv, tls):
    if tls == "implicit":
        c = poplib.POP3_SSL(srv.host, srv.port, context=ctx(srv))
    else:
        c = poplib.POP3(srv.host, srv.port)
        if tls == "starttls":
            c.stls(ctx(srv))
    c.capa()
    c.user("user")
    c.pass_("password")
    c.stat()
    c.list()
    c.uidl()
    c.retr(1)
    c.top(2, 0)
    c.quit()


def smtp_session(srv, tls):
    if tls == "implicit":
        c = smtplib.SMTP_SSL(srv.host, srv.port, context=ctx(srv))
    else:
        c = smtplib.SMTP(srv.host, srv.port)
        if tls == "starttls":
            c.starttls(context=ctx(srv))
    c.ehlo("client.invalid")
    c.login("user", "password")
    c.sendmail("a@mailrig.test", ["b@mailrig.test"],
               b"Subject: t\r\n\r\n.leading dot\r\nbody\r\n")
    c.quit()


SESSIONS = {"imap": imap_session, "pop3": pop3_session, "smtp": smtp_session}


@pytest.mark.parametrize("tls", ["none", "implicit", "starttls"])
@pytest.mark.parametrize("proto", ["imap", "pop3", "smtp"])
def test_transcript_parses_as_a_dialogue(mailrig, tmp_path, proto, tls):
    with FakeServer(mailrig, proto, tls=tls, out=tmp_path / "out") as srv:
        SESSIONS[proto](srv, tls)
        res = srv.wait_results(1)[1]
    trs = res["transcript"]
    text = open(trs).read()
    assert (" tls TLSv1" in text) == (tls != "none")
    p = subprocess.run([mailrig, "parse", proto, "--dialogue", "--strict", trs],
                       capture_output=True, timeout=30)
    assert p.returncode == 0, p.stdout.decode()[-2000:] + p.stderr.decode()
    objs = [json.loads(line) for line in p.stdout.decode().splitlines()]
    assert objs[0]["kind"] == "greeting" or objs[0].get("greeting") is True
    assert len(objs) >= 6
    # the fake servers' answers are clean in strict mode too
    assert [o["diagnostics"] for o in objs if o["diagnostics"]] == []
