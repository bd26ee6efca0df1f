"""The mailrig command line (docs/cli.md): dispatch, options, exit
statuses, stdin and files, error messages, the JSON Lines schema."""

import pytest

from mailrig_cases import cli, objects, stderr_of

POP3_RAW = (b"+OK ready <1.2@host>\r\n"
            b"+OK 2 320\r\n"
            b"+OK\r\n1 120\r\n2 200\r\n.\r\n")

POP3_TRS = b"""# mailrig transcript 1
# protocol: pop3
S "+OK ready\\r\\n"
C "STAT\\r\\n"
S "+OK 2 320\\r\\n"
C "RETR 1\\r\\n"
S "+OK\\r\\nSubject: x\\r\\n\\r\\nbody\\r\\n.\\r\\n"
"""

SMTP_TRS = b"""# mailrig transcript 1
# protocol: smtp
S "220 mx.example.org ESMTP\\r\\n"
C "EHLO c\\r\\n"
S "250-mx.example.org\\r\\n250-SIZE 1000\\r\\n250 AUTH=PLAIN\\r\\n"
C "MAIL FROM:<a@b>\\r\\n"
S "250 2.1.0 ok\\r\\n"
"""

POP3_KEYS = ["protocol", "kind", "status", "code", "code_kind", "text", "range", "multiline"]
SMTP_KEYS = ["protocol", "kind", "code", "status", "enhanced", "text", "mixed_codes", "range",
             "fields", "diagnostics"]


def put(tmp_path, name, data):
    """A file under tmp_path holding data; its path."""
    f = tmp_path / name
    f.write_bytes(data)
    return f


# ------------------------------------------------------------ dispatch

def test_no_arguments_is_usage_error(mailrig):
    p = cli(mailrig)
    assert p.returncode == 2
    assert "usage: mailrig" in stderr_of(p)


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help(mailrig, flag):
    p = cli(mailrig, flag)
    assert p.returncode == 0
    assert b"mailrig parse" in p.stdout


def test_version(mailrig):
    p = cli(mailrig, "--version")
    assert p.returncode == 0
    assert p.stdout.startswith(b"mailrig ")


def test_unknown_command(mailrig):
    p = cli(mailrig, "frobnicate")
    assert p.returncode == 2
    assert "unknown command 'frobnicate'" in stderr_of(p)


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_parse_help(mailrig, flag):
    p = cli(mailrig, "parse", flag)
    assert p.returncode == 0
    assert b"usage: mailrig parse pop3|smtp" in p.stdout
    assert b"--dialogue" in p.stdout


# ------------------------------------------------------------ usage errors

def test_missing_protocol(mailrig):
    p = cli(mailrig, "parse")
    assert p.returncode == 2
    assert "missing protocol" in stderr_of(p)


@pytest.mark.parametrize("proto", ["imap4", "POP3", "http", ""])
def test_unknown_protocol(mailrig, proto):
    p = cli(mailrig, "parse", proto)
    assert p.returncode == 2
    assert "unknown protocol" in stderr_of(p)
    assert p.stdout == b""


@pytest.mark.parametrize("args,msg", [
    (["--bogus"], "unknown option '--bogus'"),
    (["--chunk"], "--chunk needs a value"),
    (["--chunk", "0"], "not a positive size"),
    (["--chunk", "-1"], "not a positive size"),
    (["--chunk", "12x"], "not a positive size"),
    (["--max-line", "99999999999999999999999"], "not a positive size"),
    (["--max-body=1T"], "not a positive size"),
    (["--strict=yes"], "--strict takes no value"),
])
def test_bad_options(mailrig, args, msg):
    p = cli(mailrig, "parse", "pop3", *args, stdin=POP3_RAW)
    assert p.returncode == 2
    assert msg in stderr_of(p)
    assert p.stdout == b""


def test_missing_file(mailrig, tmp_path):
    missing = tmp_path / "nope.raw"
    p = cli(mailrig, "parse", "pop3", str(missing))
    assert p.returncode == 2
    assert f"{missing}: cannot open" in stderr_of(p)


def test_directory_is_unreadable(mailrig, tmp_path):
    p = cli(mailrig, "parse", "pop3", "--dialogue", str(tmp_path))
    assert p.returncode == 2
    assert str(tmp_path) in stderr_of(p)


# ------------------------------------------------------------ input

def test_stdin_implicit_and_dash(mailrig):
    a = cli(mailrig, "parse", "pop3", stdin=POP3_RAW)
    b = cli(mailrig, "parse", "pop3", "-", stdin=POP3_RAW)
    assert a.returncode == b.returncode == 0
    assert a.stdout == b.stdout
    kinds = [o["kind"] for o in objects(a)]
    assert kinds == ["greeting", "other", "other-multi"]


def test_empty_input(mailrig):
    p = cli(mailrig, "parse", "smtp")
    assert p.returncode == 0
    assert p.stdout == b""


def test_options_after_files_and_equals_form(mailrig, tmp_path):
    f = put(tmp_path, "s.raw", POP3_RAW)
    a = cli(mailrig, "parse", "pop3", str(f), "--chunk=3", "--max-line", "1K")
    b = cli(mailrig, "parse", "--chunk", "3", "pop3", str(f))
    assert a.returncode == b.returncode == 0
    assert a.stdout == b.stdout and a.stdout


def test_double_dash_ends_options(mailrig, tmp_path):
    put(tmp_path, "--strict", POP3_RAW)
    p = cli(mailrig, "parse", "pop3", "--", "--strict", cwd=tmp_path)
    assert p.returncode == 0
    assert len(objects(p)) == 3


def test_several_files_are_separate_streams(mailrig, tmp_path):
    a = put(tmp_path, "a.raw", POP3_RAW)
    b = put(tmp_path, "b.raw", b"+OK other server\r\n")
    p = cli(mailrig, "parse", "pop3", str(a), str(b))
    assert p.returncode == 0
    objs = objects(p)
    assert [o["kind"] for o in objs] == ["greeting", "other", "other-multi", "greeting"]
    assert objs[3]["range"] == [0, 18]  # offsets restart: a fresh parser


def test_several_files_worst_status_wins(mailrig, tmp_path):
    good = put(tmp_path, "good.raw", POP3_RAW)
    bad = put(tmp_path, "bad.raw", b"+OK hi\r\nnonsense\r\n")
    p = cli(mailrig, "parse", "pop3", str(bad), str(good))
    assert p.returncode == 1
    p = cli(mailrig, "parse", "pop3", str(bad), str(tmp_path / "missing"), str(good))
    assert p.returncode == 2
    # the files after the missing one are still parsed
    assert [o.get("kind") for o in objects(p)][-3:] == ["greeting", "other", "other-multi"]


def test_chunk_does_not_change_output(mailrig):
    whole = cli(mailrig, "parse", "pop3", "--dialogue", stdin=POP3_TRS)
    assert whole.returncode == 0
    for n in ("1", "2", "7", "64K"):
        p = cli(mailrig, "parse", "pop3", "--dialogue", "--chunk", n, stdin=POP3_TRS)
        assert p.stdout == whole.stdout, n
    raw = cli(mailrig, "parse", "pop3", stdin=POP3_RAW)
    for n in ("1", "5"):
        assert cli(mailrig, "parse", "pop3", "--chunk", n, stdin=POP3_RAW).stdout == raw.stdout


# ------------------------------------------------------------ errors

def test_bad_response_reports_file_and_offset(mailrig, tmp_path):
    f = put(tmp_path, "bad.raw", b"+OK hi\r\nHTTP/1.1 400 Bad\r\n+OK\r\n")
    p = cli(mailrig, "parse", "pop3", str(f))
    assert p.returncode == 1
    e = stderr_of(p)
    assert f"{f}:8: BAD_STATUS: " in e
    assert "does not start with +OK" in e  # the reason
    objs = objects(p)
    assert objs[1]["error"]["code"] == "BAD_STATUS"
    assert objs[1]["error"]["offset"] == 8
    assert list(objs[1]["error"]) == ["code", "reason", "detail", "offset"]
    assert objs[2]["status"] == "+OK"  # non-fatal: parsing went on


def test_bad_response_on_stdin(mailrig):
    p = cli(mailrig, "parse", "smtp", stdin=b"220 hi\r\nxyz\r\n")
    assert p.returncode == 1
    assert "<stdin>:8: BAD_REPLY_CODE" in stderr_of(p)


def test_dialogue_error_names_the_segment_line(mailrig):
    trs = b'# mailrig transcript 1\nS "+OK hi\\r\\n"\nC "NOOP\\r\\n"\nS "bogus\\r\\n"\n'
    p = cli(mailrig, "parse", "pop3", "--dialogue", stdin=trs)
    assert p.returncode == 1
    assert "<stdin>:8: BAD_STATUS" in stderr_of(p)
    assert "(S segment at line 4)" in stderr_of(p)


def test_fatal_error_without_response(mailrig):
    p = cli(mailrig, "parse", "pop3", stdin=b"+OK hi\r\n+OK 1 2")
    assert p.returncode == 1
    last = objects(p)[-1]
    assert list(last) == ["protocol", "error"]
    assert last["error"]["code"] == "UNEXPECTED_EOF"
    assert "<stdin>:15: UNEXPECTED_EOF" in stderr_of(p)


def test_limits_are_passed_to_the_parser(mailrig):
    p = cli(mailrig, "parse", "pop3", "--max-line", "10", stdin=b"+OK " + b"x" * 40 + b"\r\n")
    assert p.returncode == 1
    assert "LINE_TOO_LONG" in stderr_of(p)


def test_bad_transcript_reports_line_and_column(mailrig, tmp_path):
    f = put(tmp_path, "t.trs", b'# mailrig transcript 1\nS "+OK\\r\\n"\nC "a\tb"\n')
    p = cli(mailrig, "parse", "pop3", "--dialogue", str(f))
    assert p.returncode == 2
    assert f"{f}:3:5: raw control byte 0x09" in stderr_of(p)
    assert p.stdout == b""


def test_not_a_transcript(mailrig):
    p = cli(mailrig, "parse", "pop3", "--dialogue", stdin=POP3_RAW)
    assert p.returncode == 2
    assert "<stdin>:1:1: not a mailrig transcript" in stderr_of(p)


def test_transcript_for_another_protocol(mailrig):
    p = cli(mailrig, "parse", "smtp", "--dialogue", stdin=POP3_TRS)
    assert p.returncode == 2
    assert "<stdin>:2:1: this transcript is for protocol 'pop3', not smtp" in stderr_of(p)


# ------------------------------------------------------------ JSON schema

def test_pop3_schema(mailrig):
    p = cli(mailrig, "parse", "pop3", "--dialogue", stdin=POP3_TRS)
    assert p.returncode == 0, stderr_of(p)
    greet, stat, retr = objects(p)
    assert list(greet) == POP3_KEYS + ["fields", "diagnostics"]
    assert greet["code"] is None and greet["code_kind"] is None
    assert stat["kind"] == "stat" and stat["fields"] == {"count": 2, "size": 320}
    assert list(retr) == POP3_KEYS + ["body_bytes", "streamed", "lines", "fields",
                                      "diagnostics"]
    assert retr["lines"] == ["Subject: x", "", "body"]
    assert retr["body_bytes"] == len(b"Subject: x\r\n\r\nbody\r\n")
    assert retr["range"] == [22, 22 + len(b"+OK\r\nSubject: x\r\n\r\nbody\r\n.\r\n")]


def test_pop3_streamed_body(mailrig):
    p = cli(mailrig, "parse", "pop3", "--dialogue", "--stream-threshold", "1", stdin=POP3_TRS)
    retr = objects(p)[2]
    assert retr["streamed"] is True
    assert "lines" not in retr
    assert list(retr)[8:11] == ["body_bytes", "streamed", "chunks"]
    assert retr["chunks"] >= 1


def test_smtp_schema(mailrig):
    p = cli(mailrig, "parse", "smtp", "--dialogue", stdin=SMTP_TRS)
    assert p.returncode == 0, stderr_of(p)
    greet, ehlo, mail = objects(p)
    for o in (greet, ehlo, mail):
        assert list(o) == SMTP_KEYS
    assert greet["fields"] == {"domain": "mx.example.org"}
    assert ehlo["fields"]["keywords"][0] == {"name": "SIZE", "kind": "size", "params": ["1000"],
                                            "number": 1000}
    assert ehlo["fields"]["keywords"][1]["legacy"] is True
    assert mail["enhanced"] == "2.1.0" and mail["status"] == "positive-completion"
    assert mail["text"] == ["2.1.0 ok"]


def test_strict_adds_diagnostics_only(mailrig):
    raw = b"220 mx\r\n250-a\r\n251 b\r\n"
    lenient = objects(cli(mailrig, "parse", "smtp", stdin=raw))
    strict = objects(cli(mailrig, "parse", "smtp", "--strict", stdin=raw))
    assert lenient[1]["diagnostics"] == []
    d = strict[1]["diagnostics"][0]
    assert list(d) == ["offset", "ref", "message"] and d["ref"].startswith("RFC 5321")
    for a, b in zip(lenient, strict):
        a.pop("diagnostics"), b.pop("diagnostics")
        assert a == b


def test_invalid_utf8_becomes_replacement_character(mailrig):
    p = cli(mailrig, "parse", "pop3", stdin=b"+OK caf\xc3\xa9 \xff\xe2\x82 ok\r\n")
    assert p.returncode == 0
    o = objects(p)[0]
    assert o["text"] == "caf\u00e9 \ufffd\ufffd ok"
    assert o["range"] == [0, len(b"+OK caf\xc3\xa9 \xff\xe2\x82 ok\r\n")]


def test_nul_bytes_survive(mailrig):
    p = cli(mailrig, "parse", "pop3", stdin=b"+OK a\x00b\r\n")
    assert objects(p)[0]["text"] == "a\x00b"
