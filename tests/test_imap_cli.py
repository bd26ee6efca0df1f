"""`mailrig parse imap` (docs/cli.md, "IMAP"): the --print round trip over
every IMAP case and real-server transcript, the dialogue-mode client
tracker (literals, SASL, IDLE), and the command-line contract.

The round trip.  For the server bytes x of each input, P = print(parse(x))
(`mailrig parse imap --print`), then

  1. parse(P) gives the same JSON as parse(x), after leaving out the keys
     that depend on byte positions or on the exact bytes sent rather than
     on what they mean:
       "range"        the response's place in the stream: the canonical
                      form is shorter or longer (spaces, escapes);
       "diagnostics"  each has an offset, and the canonical form removes
                      the deviations they report (extra spaces, needless
                      escapes, a missing SP); so "diagnostics_dropped" too;
       error "offset" the offending byte's place in the stream.
     Every other key (tag, keyword, number, code and its args, text, the
     typed data, the value tree, "literals", ...) is computed from the
     head and the value tree, which print keeps.  "greeting" is kept too:
     it only moves when the first response of x cannot be printed, and
     then it is left out.
     Responses that cannot be printed are left out of parse(x): those of
     error events other than BAD_FIELD and BAD_BASE64 (after BAD_SYNTAX,
     TOO_DEEP or TOO_MANY_ITEMS the value tree is gone; fatal errors have
     no response).  --print writes the others, see mr_cli_parse.c.
  2. print(parse(P)) == P, byte for byte: the canonical form is a fixed
     point.
  3. In dialogue mode --print writes the same bytes as in raw mode: the
     client's commands change "cmd", "sasl" and diagnostics, never the
     value tree.

Both sides run in raw mode without the case's limit options
(--stream-threshold would make literals unprintable, --max-* would stop
either side at a different byte).
"""

import random
import re

import pytest

import mailrig_cases as mc
from mailrig_cases import cli, objects, stderr_of

IMAP_CASES = sorted((mc.DATA / "imap").glob("*.case"))
IMAP_TRS = sorted((mc.TOP / "corpora" / "transcripts").glob("imap-*.trs"))
ROUND_TRIP = IMAP_CASES + IMAP_TRS

PRINTABLE_ERRORS = {"BAD_FIELD", "BAD_BASE64"}
POSITION_KEYS = ("range", "diagnostics", "diagnostics_dropped")

HEAD_KEYS = ["protocol", "kind", "type", "tag", "keyword", "number", "cmd", "greeting", "code",
             "text", "sasl", "range", "literals", "streamed"]


def trs(*segments):
    """An IMAP transcript of (direction, bytes) segments."""
    out = ["# mailrig transcript 1", "# protocol: imap"]
    out += [f"{d} {mc.quote(data)}" for d, data in segments]
    return "\n".join(out).encode() + b"\n"


# ------------------------------------------------------------ the round trip

def source(path):
    """(transcript, mode, expected exit status) of a case file or a capture."""
    if path.suffix == ".case":
        case = mc.load(path)
        return case.transcript, case.mode, case.exit
    return path.read_bytes(), "dialogue", 0


def normalise(objs, drop_greeting):
    out = []
    for o in objs:
        o = dict(o)
        for k in POSITION_KEYS:
            o.pop(k, None)
        if drop_greeting:
            o.pop("greeting", None)
        if "error" in o:
            o["error"] = {k: v for k, v in o["error"].items() if k != "offset"}
        out.append(o)
    return out


def printable(o):
    return "kind" in o and ("error" not in o or o["error"]["code"] in PRINTABLE_ERRORS)


def check_round_trip(mailrig, x):
    """Steps 1 and 2 for server bytes x; returns (the printable responses
    of parse(x), P = print(parse(x)))."""
    parsed = cli(mailrig, "parse", "imap", "-", stdin=x)
    assert parsed.returncode in (0, 1), stderr_of(parsed)
    p = cli(mailrig, "parse", "imap", "--print", "-", stdin=x)
    assert p.returncode in (0, 1), stderr_of(p)
    P = p.stdout
    # Responses the printer refuses (mr_imap_print: SIZE_MAX), by offset.
    refused = {int(m) for m in re.findall(r"^<stdin>:(\d+): cannot print", stderr_of(p), re.M)}

    # 1. parse(print(x)) == parse(x), printable responses, position keys left out.
    def printed(o):
        return printable(o) and o["range"][0] not in refused

    a_all = objects(parsed)
    a = [o for o in a_all if printed(o)]
    drop_greeting = bool(a_all) and not printed(a_all[0])
    reparsed = cli(mailrig, "parse", "imap", "-", stdin=P)
    stderr_of(reparsed)
    b = objects(reparsed)
    assert all(printable(o) for o in b), "a printed response does not parse back"
    na, nb = normalise(a, drop_greeting), normalise(b, drop_greeting)
    assert len(na) == len(nb)
    for i, (u, v) in enumerate(zip(na, nb)):
        assert u == v, f"response {i + 1} differs after the round trip"

    # 2. The canonical form is a fixed point.
    again = cli(mailrig, "parse", "imap", "--print", "-", stdin=P)
    assert again.stdout == P
    assert again.returncode == reparsed.returncode
    return a, P


def test_there_are_imap_inputs():
    assert IMAP_CASES, "no tests/data/imap/*.case"


# Known exceptions, strict: each must fail, so that a fix shows up.  None
# today (quirk 15, a mailbox name with HTABs sent as atoms, round-trips
# since the printer keeps the white space between top-level atoms).
KNOWN_ROUND_TRIP_FAILURES = {}


def round_trip_params():
    out = []
    for p in ROUND_TRIP:
        marks = []
        if p.name in KNOWN_ROUND_TRIP_FAILURES:
            marks = [pytest.mark.xfail(reason=KNOWN_ROUND_TRIP_FAILURES[p.name], strict=True)]
        out.append(pytest.param(p, marks=marks, id=f"{p.parent.name}/{p.name}"))
    return out


@pytest.mark.parametrize("path", round_trip_params())
def test_print_round_trip(mailrig, path):
    transcript, mode, exit_status = source(path)
    if exit_status == 2:
        pytest.skip("a usage or transcript error case: nothing to print")
    _, P = check_round_trip(mailrig, mc.server_bytes(transcript))

    # 3. Commands do not change what is printed.
    if mode == "dialogue":
        d = cli(mailrig, "parse", "imap", "--dialogue", "--print", "-", stdin=transcript)
        stderr_of(d)
        assert d.stdout == P


# A seeded generator of server streams with every kind of value, odd
# spacing, needless escapes, literals of all three forms (in data and in
# response codes), atoms that look like literal announcements, sections and
# origins, at every nesting up to 4.  Most responses are grammatical; many
# do not have their type's shape (BAD_FIELD), which --print still prints.

class Gen:
    ATOMS = [b"FOO", b"\\Seen", b"x-y", b"1:3,5:*", b"nil", b"NIL", b"007", b"12",
             b"18446744073709551616", b"[Gmail]/Sent", b"a%", b"*", b"x{5}", b"y{2+}",
             b"utf\xc3\xa9"]
    CODES = [b"ALERT", b"UIDNEXT 5", b"UIDNEXT  5 ", b"PERMANENTFLAGS (\\Seen \\*)",
             b"COPYUID 1 1:3 4:6", b"X-FOO some (free text", b"BADCHARSET",
             b"CAPABILITY IMAP4rev1 IDLE", b"METADATA MAXSIZE 5", b"X-LIT {3}\r\nabc",
             b"BADCHARSET (UTF-8 {5+}\r\nKOI-8)"]

    def __init__(self, seed):
        self.r = random.Random(seed)

    def sp(self):
        return self.r.choice([b" ", b" ", b" ", b"  ", b"\t"])

    def quoted(self):
        out = b'"'
        for c in self.r.choice([b"", b"a b", b'q"x', b"b\\s", b"\xff", b"{5}", b"\xc3\xa9"]):
            ch = bytes([c])
            out += b"\\" + ch if ch in (b'"', b"\\") or self.r.random() < 0.1 else ch
        return out + b'"'

    def literal(self):
        data = self.r.choice([b"", b"abc", b"a\r\nb", b")", b"{3}\r\n", b"\x00\xff"])
        return (self.r.choice([b"", b"", b"~"]) + b"{%d" % len(data) +
                self.r.choice([b"", b"", b"+"]) + b"}\r\n" + data)

    def value(self, depth=0):
        x = self.r.random()
        if depth < 4 and x < 0.25:
            items = [self.value(depth + 1) for _ in range(self.r.randint(0, 4))]
            return b"(" + b"".join((self.sp() if i else b"") + v for i, v in enumerate(items)) + b")"
        if x < 0.35:
            return (self.r.choice([b"BODY", b"BINARY", b"BODY.PEEK"]) + b"[" +
                    self.r.choice([b"", b"1.2", b"HEADER.FIELDS (From To)", b"1 (A B)"]) + b"]" +
                    self.r.choice([b"", b"<0>", b"<123>"]))
        if x < 0.5:
            return self.quoted()
        if x < 0.6:
            return self.literal()
        return self.r.choice(self.ATOMS)

    def response(self):
        x = self.r.random()
        if x < 0.2:
            kw = self.r.choice([b"OK", b"NO", b"BAD", b"BYE", b"PREAUTH", b"ok"])
            tag = b"*" if kw in (b"BYE", b"PREAUTH") or self.r.random() < 0.5 else b"a1"
            code = b"[" + self.r.choice(self.CODES) + b"]" if self.r.random() < 0.6 else b""
            text = self.r.choice([b"", b"done", b"two  spaces ", b"x {5}", b"[ not a code"])
            return (tag + b" " + kw + (self.sp() if code or text else b"") + code +
                    (self.sp() if code and text else b"") + text + b"\r\n")
        if x < 0.3:
            return (b"+" + self.r.choice([b" ", b"", b"  "]) +
                    self.r.choice([b"", b"go ahead", b"[ALERT] x", b"YmFzZQ==", b"x {5}"]) + b"\r\n")
        kw = self.r.choice([b"FETCH", b"X-DATA", b"LIST", b"SEARCH", b"STATUS", b"EXISTS",
                            b"CAPABILITY", b"ESEARCH", b"FLAGS", b"NAMESPACE", b"ID", b"THREAD"])
        num = b"%d" % self.r.randint(0, 99) + self.sp() if kw in (b"FETCH", b"EXISTS") else b""
        vals = b"".join(self.sp() + self.value() for _ in range(self.r.randint(0, 5)))
        if kw == b"FETCH":
            vals = self.sp() + b"(" + vals.lstrip(b" \t") + b")"
        return b"* " + num + kw + vals + self.r.choice([b"", b"", b" "]) + b"\r\n"

    def stream(self, n):
        return b"".join(self.response() for _ in range(n))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_print_round_trip_generated(mailrig, seed):
    a, _ = check_round_trip(mailrig, Gen(seed).stream(300))
    assert len(a) > 200  # the generator mostly makes whole responses


def test_print_canonical_form(mailrig):
    x = (b"* OK  [CAPABILITY IMAP4rev1  IDLE ]  hello \r\n"
         b"* 12   FETCH (FLAGS (\\Seen  \\Answered) BODY[HEADER.FIELDS  (From)]<0> {5}\r\n"
         b"abcde  ENVELOPE NIL X \"a\\b\\\"\\\\\")\r\n"
         b"* SEARCH\r\n"
         b"+\r\n"
         b"a1 ok\r\n"
         b"a2 NO [ALERT]\r\n")
    p = cli(mailrig, "parse", "imap", "--print", stdin=x)
    assert p.returncode == 1, stderr_of(p)  # ENVELOPE NIL is a BAD_FIELD: printed all the same
    assert p.stdout == (
        b"* OK [CAPABILITY IMAP4rev1  IDLE] hello \r\n"
        b"* 12 FETCH (FLAGS (\\Seen \\Answered) BODY[HEADER.FIELDS (From)]<0> {5}\r\n"
        b"abcde ENVELOPE NIL X \"ab\\\"\\\\\")\r\n"
        b"* SEARCH\r\n"
        b"+ \r\n"
        b"a1 ok \r\n"
        b"a2 NO [ALERT] \r\n")


def test_print_keeps_literal_forms(mailrig):
    x = b"* 1 FETCH (BINARY[1] ~{3}\r\na\x00b RFC822.TEXT {2+}\r\nhi BODY[] {0}\r\n)\r\n"
    p = cli(mailrig, "parse", "imap", "--print", stdin=x)
    assert p.returncode == 0, stderr_of(p)
    assert p.stdout == x


def test_print_streamed_literal_is_an_error(mailrig):
    x = (b"* OK hi\r\n"
         b"* 1 FETCH (BODY[] {20}\r\n01234567890123456789)\r\n"
         b"a1 OK done\r\n")
    p = cli(mailrig, "parse", "imap", "--print", "--stream-threshold", "10", stdin=x)
    assert p.returncode == 1
    assert ("<stdin>:9: cannot print this response in wire form: a literal was streamed"
            in stderr_of(p))
    assert p.stdout == b"* OK hi\r\na1 OK done\r\n"
    p = cli(mailrig, "parse", "imap", "--print", stdin=x)
    assert p.returncode == 0 and p.stdout == x


def test_print_leaves_out_bad_syntax(mailrig):
    x = b"* OK hi\r\n* 1 FETCH (UID 1\r\na1 OK done\r\n"
    p = cli(mailrig, "parse", "imap", "--print", stdin=x)
    assert p.returncode == 1
    assert "<stdin>:25: BAD_SYNTAX" in stderr_of(p)  # where the "(" should have closed
    assert p.stdout == b"* OK hi\r\na1 OK done\r\n"


# ------------------------------------------------------------ JSON schema

def test_imap_schema(mailrig):
    x = (b"* OK [UIDNEXT 4392] ready\r\n"
         b"* 3 FETCH (UID 7 X-ODD (1 2))\r\n"
         b"* X-NEW a \"b\" (c)\r\n"
         b"+ Ready\r\n"
         b"a1 NO [TRYCREATE] no\r\n")
    p = cli(mailrig, "parse", "imap", stdin=x)
    assert p.returncode == 0, stderr_of(p)
    ok, fetch, other, cont, tagged = objects(p)
    assert list(ok) == HEAD_KEYS + ["data", "diagnostics"]
    assert ok["code"] == {"kind": "UIDNEXT", "name": "UIDNEXT", "args": "4392", "number": 4392}
    assert ok["greeting"] is True and ok["tag"] is None and ok["text"] == "ready"
    assert list(fetch) == HEAD_KEYS + ["data", "diagnostics"]
    assert fetch["number"] == 3 and fetch["text"] is None
    assert fetch["data"]["items"][0] == {"item": "UID", "name": "UID", "section": None,
                                         "origin": None, "value": 7}
    assert fetch["data"]["items"][1]["item"] == "OTHER"
    assert fetch["data"]["items"][1]["value"] == [1, 2]
    assert list(other) == HEAD_KEYS + ["data", "values", "diagnostics"]
    assert other["type"] == "OTHER" and other["data"] is None
    assert other["values"] == [{"atom": "a"}, "b", [{"atom": "c"}]]
    assert cont["kind"] == "continuation" and cont["type"] == "+" and cont["keyword"] is None
    assert cont["text"] == "Ready"
    assert tagged["tag"] == "a1" and tagged["type"] == "NO"
    assert tagged["code"]["kind"] == "TRYCREATE"


def test_value_tree_json(mailrig):
    x = (b"* X-TREE NIL 18446744073709551615 BODY[1 (A)]<5> {3+}\r\nabc "
         b"~{1}\r\nz \"q\\\"\" ()\r\n")
    p = cli(mailrig, "parse", "imap", stdin=x)
    assert p.returncode == 0, stderr_of(p)
    (o,) = objects(p)
    assert o["literals"] == 2
    assert o["values"] == [
        None,
        {"number": "18446744073709551615"},
        {"atom": "BODY", "section": [1, [{"atom": "A"}]], "origin": 5},
        {"literal": "abc", "size": 3, "nonsync": True},
        {"literal8": "z", "size": 1},
        'q"',
        [],
    ]


def test_streamed_literal_json(mailrig):
    x = b"* 1 FETCH (BODY[] {20}\r\n01234567890123456789)\r\n"
    p = cli(mailrig, "parse", "imap", "--stream-threshold", "8", "--chunk", "7", stdin=x)
    assert p.returncode == 0, stderr_of(p)
    (o,) = objects(p)
    assert o["literals"] == 1 and o["streamed"] == 1
    assert list(o)[13:16] == ["streamed", "chunks", "data"]
    assert o["chunks"] >= 1
    assert o["data"]["items"][0]["value"] == {"streamed": True, "size": 20}


def test_max_depth_and_items(mailrig):
    deep = b"* X " + b"(" * 5 + b")" * 5 + b"\r\n"
    p = cli(mailrig, "parse", "imap", "--max-depth", "3", stdin=deep)
    assert p.returncode == 1
    assert "TOO_DEEP" in stderr_of(p)
    assert objects(p)[0]["error"]["code"] == "TOO_DEEP"
    assert cli(mailrig, "parse", "imap", "--max-depth", "5", stdin=deep).returncode == 0

    many = b"* SEARCH 1 2 3 4 5 6\r\n"
    p = cli(mailrig, "parse", "imap", "--max-items", "4", stdin=many)
    assert p.returncode == 1
    assert "TOO_MANY_ITEMS" in stderr_of(p)
    assert cli(mailrig, "parse", "imap", "--max-items", "6", stdin=many).returncode == 0


# ------------------------------------------------------------ dialogue mode

def cmds(objs):
    return [(o["tag"], o["cmd"]) for o in objs if o.get("kind") == "tagged"]


def dialogue(mailrig, *segments):
    """The JSON of `mailrig parse imap --dialogue` over trs(*segments),
    which must exit 0."""
    p = cli(mailrig, "parse", "imap", "--dialogue", stdin=trs(*segments))
    assert p.returncode == 0, stderr_of(p)
    return objects(p)


def test_dialogue_skips_synchronizing_literal(mailrig):
    objs = dialogue(mailrig,
                    ("S", b"* OK hi\r\n"),
                    ("C", b"a1 APPEND INBOX {11}\r\n"),
                    ("S", b"+ Ready\r\n"),
                    ("C", b"b2 NOOP x\r\n {4}\r\n"),  # literal data that looks like a command
                    ("S", b"+ go\r\n"),
                    ("C", b"c3 X\r\n"),
                    ("S", b"a1 OK appended\r\n"))
    assert cmds(objs) == [("a1", "APPEND")]


def test_dialogue_refused_literal_is_not_sent(mailrig):
    objs = dialogue(mailrig,
                    ("S", b"* OK hi\r\n"),
                    ("C", b"a1 APPEND INBOX {99}\r\n"),
                    ("S", b"a1 NO [TOOBIG] too big\r\n"),
                    ("C", b"a2 NOOP\r\n"),
                    ("S", b"a2 OK done\r\n"))
    assert cmds(objs) == [("a1", "APPEND"), ("a2", "NOOP")]


def test_dialogue_nonsync_literals_split_anywhere(mailrig):
    client = b"a1 LOGIN {4+}\r\nfred {6+}\r\nsecret\r\na2 UID FETCH 1 (FLAGS)\r\n"
    for cut in range(1, len(client)):
        t = trs(("S", b"* OK hi\r\n"),
                ("C", client[:cut]), ("C", client[cut:]),
                ("S", b"a1 OK in\r\na2 OK done\r\n"))
        p = cli(mailrig, "parse", "imap", "--dialogue", stdin=t)
        assert p.returncode == 0, (cut, stderr_of(p))
        assert cmds(objects(p)) == [("a1", "LOGIN"), ("a2", "UID FETCH")], cut


def test_dialogue_literal8_and_long_line(mailrig):
    objs = dialogue(mailrig,
                    ("S", b"* OK hi\r\n"),
                    ("C", b"a1 APPEND INBOX " + b"x" * 5000 + b" ~{3+}\r\nq\r\n\r\n"),
                    ("C", b"a2 NOOP\r\n"),
                    ("S", b"a1 OK done\r\na2 OK done\r\n"))
    assert cmds(objs) == [("a1", "APPEND"), ("a2", "NOOP")]


def test_dialogue_sasl_and_idle(mailrig):
    objs = dialogue(mailrig,
                    ("S", b"* OK hi\r\n"),
                    ("C", b"a1 AUTHENTICATE PLAIN\r\n"),
                    ("S", b"+ \r\n"),
                    ("C", b"AGZyZWQAc2VjcmV0\r\n"),
                    ("S", b"a1 OK authenticated\r\n"),
                    ("C", b"a2 IDLE\r\n"),
                    ("S", b"+ idling\r\n* 4 EXISTS\r\n"),
                    ("C", b"DONE\r\n"),
                    ("S", b"a2 OK IDLE terminated\r\n"))
    assert cmds(objs) == [("a1", "AUTHENTICATE"), ("a2", "IDLE")]
    assert objs[1]["kind"] == "continuation" and objs[1]["sasl"] == ""
    assert objs[4]["sasl"] is None  # "+ idling" answers IDLE, not a SASL challenge


def test_dialogue_chunking_does_not_change_output(mailrig):
    t = trs(("S", b"* OK hi\r\n"),
            ("C", b"a1 FETCH 1 BODY[]\r\n"),
            ("S", b"* 1 FETCH (BODY[] {12}\r\nhello\r\nworld)\r\na1 OK done\r\n"))
    whole = cli(mailrig, "parse", "imap", "--dialogue", stdin=t)
    assert whole.returncode == 0, stderr_of(whole)
    for n in ("1", "3", "17"):
        assert cli(mailrig, "parse", "imap", "--dialogue", "--chunk", n, stdin=t).stdout == \
            whole.stdout


# ------------------------------------------------------------ command line

def test_help_mentions_imap(mailrig):
    p = cli(mailrig, "parse", "--help")
    assert p.returncode == 0
    for word in (b"pop3|smtp|imap", b"--print", b"--max-depth", b"--max-items"):
        assert word in p.stdout


@pytest.mark.parametrize("proto", ["pop3", "smtp"])
def test_print_is_for_imap_only(mailrig, proto):
    p = cli(mailrig, "parse", proto, "--print", stdin=b"+OK hi\r\n")
    assert p.returncode == 2
    assert f"--print is for imap only, not {proto}" in stderr_of(p)
    assert p.stdout == b""


@pytest.mark.parametrize("args,msg", [
    (["imap", "--max-depth"], "--max-depth needs a value"),
    (["imap", "--max-depth", "0"], "not a positive size"),
    (["imap", "--max-items", "x"], "not a positive size"),
    (["imap", "--print=1"], "--print takes no value"),
    (["IMAP"], "unknown protocol 'IMAP'"),
])
def test_imap_usage_errors(mailrig, args, msg):
    p = cli(mailrig, "parse", *args, stdin=b"* OK hi\r\n")
    assert p.returncode == 2
    assert msg in stderr_of(p)
    assert p.stdout == b""


def test_missing_protocol_names_imap(mailrig):
    p = cli(mailrig, "parse")
    assert p.returncode == 2
    assert "pop3, smtp or imap" in stderr_of(p)


def test_imap_transcript_for_another_protocol(mailrig):
    t = b'# mailrig transcript 1\n# protocol: imap\nS "* OK hi\\r\\n"\n'
    p = cli(mailrig, "parse", "pop3", "--dialogue", stdin=t)
    assert p.returncode == 2
    assert "this transcript is for protocol 'imap', not pop3" in stderr_of(p)
    assert cli(mailrig, "parse", "imap", "--dialogue", stdin=t).returncode == 0


def test_imap_exit_statuses(mailrig):
    assert cli(mailrig, "parse", "imap", stdin=b"").returncode == 0
    p = cli(mailrig, "parse", "imap", stdin=b"* OK hi\r\n* 1 FETCH (BODY[] {10}\r\nabc")
    assert p.returncode == 1
    last = objects(p)[-1]
    assert list(last) == ["protocol", "error"]
    assert last["error"]["code"] == "UNEXPECTED_EOF"
    assert "<stdin>:" in stderr_of(p) and "UNEXPECTED_EOF" in stderr_of(p)
    # The same with --print: nothing on stdout for the cut response.
    p = cli(mailrig, "parse", "imap", "--print", stdin=b"* OK hi\r\n* 1 FETCH (BODY[] {10}\r\nabc")
    assert p.returncode == 1 and p.stdout == b"* OK hi\r\n"


def test_bad_field_is_reported_and_parsing_goes_on(mailrig):
    x = b"* OK hi\r\n* 1 FETCH UID\r\na1 OK done\r\n"
    p = cli(mailrig, "parse", "imap", stdin=x)
    assert p.returncode == 1
    greet, bad, done = objects(p)
    assert bad["error"]["code"] == "BAD_FIELD" and bad["data"] is None
    assert bad["values"] == [{"atom": "UID"}]
    assert done["tag"] == "a1"
    assert "<stdin>:" in stderr_of(p) and "BAD_FIELD" in stderr_of(p)
