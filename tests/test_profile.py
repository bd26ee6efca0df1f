#!/usr/bin/python3
"""The client profile reader (conformance/runner/mr_profile.c) through
"mailrig run".

Data-driven, one case per file (docs/testing.md's habit):

  tests/data/profile/bad/NAME.profile  a profile that does not read;
                                       NAME.err is the one line
                                       "NAME.profile:LINE:COL: message"
                                       that "mailrig run --client
                                       NAME.profile x.scn" prints (exit 2,
                                       nothing run)
  tests/data/profile/ok/NAME.profile   a profile that reads; NAME.want
                                       (JSON) is its --list-clients line
                                       and what running it against
                                       tests/data/profile/scenarios/ did:
                                       each job's verdict, reasons, the
                                       command the client got, its MRT_*
                                       environment and the files written
                                       in its state folder (paths and the
                                       port written as {root}, {out},
                                       {port})

The ok profiles run tests/data/run/clients/client.py (see there).  Cases
run from their own folder, so FILE is the bare file name.  Every message
the reader can report (each fail() format in mr_profile.c) must be the
message of some bad case or of a test below.

To write the expected files from the current output (then read them):

    tests/test_profile.py --regen [--mailrig build/mailrig] [CASE.profile...]
"""

import json
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

import mailrig_cases as mc

TESTS = Path(__file__).resolve().parent
TOP = TESTS.parent
DATA = TESTS / "data" / "profile"
OK = sorted((DATA / "ok").glob("*.profile"))
BAD = sorted((DATA / "bad").glob("*.profile"))
SCN = DATA / "scenarios"
READER = TOP / "conformance" / "runner" / "mr_profile.c"
CLIENT = TESTS / "data" / "run" / "clients" / "client.py"


def run(mailrig, *args, cwd=None, env=None):
    p = subprocess.run([mailrig, "run", *map(str, args)], cwd=cwd, env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    mc.no_sanitizer_report(p)
    return p


def list_clients(mailrig, folder):
    env = dict(os.environ, MAILRIG_CLIENTS=str(folder))
    p = subprocess.run([mailrig, "run", "--list-clients"], env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60)
    mc.no_sanitizer_report(p)
    p.stdout, p.stderr = p.stdout.decode(), p.stderr.decode()
    return p


# ------------------------------------------------------------ bad cases

@pytest.mark.parametrize("prof", BAD, ids=lambda p: p.name)
def test_bad_case(mailrig, prof, tmp_path):
    p = run(mailrig, "--client", prof.name, "--out", tmp_path / "out", "x.scn", cwd=prof.parent)
    assert p.returncode == 2
    assert p.stdout == b""
    want = prof.with_suffix(".err").read_text(encoding="utf-8")
    assert p.stderr.decode("utf-8", "replace") == want
    assert re.fullmatch(rf"{re.escape(prof.name)}:\d+:\d+: [^\n]+\n", want)
    assert not (tmp_path / "out").exists()


def test_every_case_has_its_expectation():
    assert len(OK) >= 5 and len(BAD) >= 40
    for prof in OK:
        assert prof.with_suffix(".want").exists(), f"{prof} has no .want"
    for prof in BAD:
        assert prof.with_suffix(".err").exists(), f"{prof} has no .err"
    for f in list((DATA / "ok").iterdir()) + list((DATA / "bad").iterdir()):
        assert f.with_suffix(".profile").exists(), f"{f} has no .profile beside it"


# Messages of the tests below rather than of bad cases: the template's
EXTRA_MESSAGES = ["an empty command"]


def test_every_error_has_a_case():
    fmts = mc.c_fail_formats(READER)
    assert len(fmts) >= 28, fmts
    messages = EXTRA_MESSAGES + [
        re.sub(r"^[^:]*:\d+:\d+: ", "", f.with_suffix(".err").read_text().rstrip("\n"))
        for f in BAD if f.with_suffix(".err").exists()]
    missing = [f for f in fmts if not any(mc.format_regex(f).fullmatch(m) for m in messages)]
    assert not missing, "fail() messages without a bad case:\n  " + "\n  ".join(missing)
    # and each form of "'KEY' takes the form: FORM"
    src = READER.read_text()
    forms = re.findall(r'WANT\(key, \d, "([^"]*)"\)', src)
    assert len(forms) == 8, forms
    for form in forms:
        assert any(m.endswith("takes the form: " + form) for m in messages), form


# ------------------------------------------------------------ ok cases

def normalise(value, subs):
    if isinstance(value, str):
        for old, new in subs:
            value = value.replace(old, new)
        return value
    if isinstance(value, list):
        return [normalise(v, subs) for v in value]
    if isinstance(value, dict):
        return {k: normalise(v, subs) for k, v in value.items()}
    return value


def observe(mailrig, prof, out):
    """What --list-clients says of the profile and what running it did."""
    lst = list_clients(mailrig, prof.parent)
    assert lst.returncode == 0, lst.stderr
    mine = [l for l in lst.stdout.splitlines() if l.startswith(name_of(prof) + "\t")]
    assert len(mine) == 1, lst.stdout
    got = {"list": mine[0]}
    p = run(mailrig, "--client", prof, "-q", "--out", out, SCN)
    got["exit"] = p.returncode
    if p.returncode == 2:
        got["stderr"] = p.stderr.decode("utf-8", "replace")
        return got
    assert p.stderr == b""
    res = json.loads((out / "results.json").read_text())
    got["client"] = res["client"]
    got["version"] = res["version"]
    jobs = {}
    for j in res["scenarios"]:
        job = {"verdict": j["verdict"], "reasons": j["reasons"], "known": j["known"]}
        if j["command"]:
            port = j["command"][3]  # client.py PROTOCOL PORT ...
            d = out / j["id"]
            first = (d / "client-1.out").read_text().split("\n", 1)[0]
            args = json.loads(first[len("argv: "):])
            assert args["argv"] == j["command"][2:]
            subs = [(str(out.resolve()), "{out}"), (str(prof.parent.resolve()), "{root}"),
                    (port, "{port}")]
            job["command"] = normalise(j["command"], subs)
            job["env"] = normalise(args["env"], subs)
            files = {}
            for f in sorted((d / "state").iterdir()):
                files[f.name] = {"mode": oct(stat.S_IMODE(f.stat().st_mode)),
                                 "text": normalise(f.read_text(), subs)}
            job["files"] = files
        jobs[j["id"]] = job
    got["jobs"] = jobs
    return got


def name_of(prof):
    m = re.search(rb"^name:[ \t]*(.*?)[ \t]*\r?$", prof.read_bytes(), re.M)
    return m.group(1).decode()


@pytest.mark.parametrize("prof", OK, ids=lambda p: p.name)
def test_ok_case(mailrig, prof, tmp_path):
    want = json.loads(prof.with_suffix(".want").read_text(encoding="utf-8"))
    assert observe(mailrig, prof, tmp_path / "out") == want


def test_list_clients_of_the_ok_folder(mailrig):
    p = list_clients(mailrig, DATA / "ok")
    assert p.returncode == 0 and p.stderr == ""
    lines = p.stdout.splitlines()
    # one line per profile, in file name order
    assert len(lines) == len(OK)
    assert [l.split("\t")[0] for l in lines] == [name_of(f) for f in OK]
    for line in lines:
        name, state, text = line.split("\t")
        assert state in ("installed", "missing")


def test_list_clients_with_a_bad_profile(mailrig, tmp_path):
    shutil.copy(DATA / "ok" / "minimal.profile", tmp_path / "a.profile")
    shutil.copy(DATA / "bad" / "run-tls.profile", tmp_path / "b.profile")
    (tmp_path / "c.txt").write_text("not a profile: not listed\n")
    p = list_clients(mailrig, tmp_path)
    assert p.returncode == 2
    # minimal has no requires: line, so it counts as installed wherever it is
    assert p.stdout == "minimal\tinstalled\t\n"
    assert p.stderr == (f"{tmp_path}/b.profile:2:5: run takes a protocol (imap, pop3, smtp or *) "
                        "and a TLS mode (none, implicit, starttls or *)\n")


def test_list_clients_missing_folder(mailrig, tmp_path):
    p = list_clients(mailrig, tmp_path / "nope")
    assert p.returncode == 2
    assert p.stderr == f"mailrig run: {tmp_path}/nope: No such file or directory\n"


def test_by_name_from_MAILRIG_CLIENTS(mailrig, tmp_path):
    env = dict(os.environ, MAILRIG_CLIENTS=str(DATA / "ok"))
    p = run(mailrig, "--client", "minimal", "-q", "--out", tmp_path, SCN / "plain-pop3.scn",
            env=env)
    assert p.returncode == 0, p.stdout
    res = json.loads((tmp_path / "results.json").read_text())
    assert res["profile"] == str(DATA / "ok" / "minimal.profile")
    p = run(mailrig, "--client", "nope", SCN / "plain-pop3.scn", env=env)
    assert p.returncode == 2
    assert p.stderr.decode() == (
        f"no client profile 'nope' (looked for {DATA / 'ok'}/nope.profile; 'mailrig run "
        "--list-clients' lists them, or give a command template)\n")


# ------------------------------------------------------------ files, templates

def test_missing_file(mailrig, tmp_path):
    p = run(mailrig, "--client", tmp_path / "nope.profile", "x.scn")
    assert p.returncode == 2
    assert p.stderr.decode() == f"{tmp_path}/nope.profile: No such file or directory\n"


def test_file_too_large(mailrig, tmp_path):
    f = tmp_path / "big.profile"
    f.write_bytes(b"name: big\nrun * *: prog\n" + b"#" * (1 << 20))
    p = run(mailrig, "--client", f, "x.scn")
    assert p.returncode == 2
    assert p.stderr.decode() == f"{f}: larger than 1 MiB\n"
    # exactly 1 MiB reads
    f.write_bytes(b"name: big\nrun * *: prog\n#" + b"#" * ((1 << 20) - 26) + b"\n")
    assert f.stat().st_size == 1 << 20
    p = run(mailrig, "--client", f, tmp_path / "nope.scn")
    assert p.stderr.decode() == f"mailrig run: {tmp_path}/nope.scn: No such file or directory\n"


def test_a_folder_is_not_a_profile(mailrig, tmp_path):
    d = tmp_path / "dir.profile"
    d.mkdir()
    p = run(mailrig, "--client", d, "x.scn")
    assert p.returncode == 2
    assert p.stderr.decode() == f"{d}: read error\n"


@pytest.mark.parametrize("tmpl,err", [
    ("   ", "--client:1:1: an empty command"),
    ('"/usr/bin/prog {port}', "--client:1:1: string not closed (a '\"' is missing)"),
    ('prog {port} "a b', "--client:1:13: string not closed (a '\"' is missing)"),
    ("prog" + " {port}" * 256, "--client:1:1791: more than 256 words"),  # at the 257th
], ids=["empty", "quote-first", "quote-later", "words"])
def test_template_errors(mailrig, tmpl, err):
    p = run(mailrig, "--client", tmpl, "x.scn")
    assert p.returncode == 2
    assert p.stderr.decode() == err + "\n"


def plain(tmp_path):
    f = tmp_path / "plain.scn"
    f.write_text("name: plain\nprotocol: pop3\nclient-timeout: 3000\n")
    return f


@pytest.mark.parametrize("profile,reason", [
    # placeholders are filled when the client starts: errors are the job's
    ("run * *: prog {nope}", "{P} line 2: unknown placeholder {nope}"),
    ("run * *: prog {port", "{P} line 2: '{port': a '{' without its '}' (write '{{' for a brace)"),
    ("run * *: prog {" + "x" * 70 + "}",
     "{P} line 2: '{" + "x" * 39 + "': a '{' without its '}' (write '{{' for a brace)"),
    ("run * *: prog {}", "{P} line 2: unknown placeholder {}"),
    ("run * *: prog {features}\nfeature * extra: {bad}", None),  # not needed: not filled
    ("run * *: prog\nenv X: {port}{oops}", "env X: unknown placeholder {oops}"),
    ("run * *: prog\nfile rc * *:\n    {user} {nope}", "profile file rc: unknown placeholder {nope}"),
    ("run * *: prog\nfile rc imap *:\n    {nope}", None),  # not used for pop3
])
def test_fill_errors_are_job_errors(mailrig, tmp_path, profile, reason):
    prof = tmp_path / "p.profile"
    prof.write_text("name: p\n" + profile.replace("prog", f"/usr/bin/python3 {CLIENT} pop3 {{port}}")
                    + "\n")
    p = run(mailrig, "--client", prof, "-q", "--out", tmp_path / "out", plain(tmp_path))
    res = json.loads((tmp_path / "out/results.json").read_text())
    j = res["scenarios"][0]
    if reason is None:
        assert p.returncode == 0 and j["verdict"] == "pass", j["reasons"]
    else:
        assert p.returncode == 1
        assert j["verdict"] == "error"
        assert j["reasons"] == [reason.replace("{P}", str(prof))]


def test_requires_with_a_job_placeholder(mailrig, tmp_path):
    prof = tmp_path / "p.profile"
    prof.write_text("name: p\nrequires: prog-{port}\nrun * *: prog\n")
    p = run(mailrig, "--client", prof, plain(tmp_path))
    assert p.returncode == 2
    assert p.stderr.decode() == ("mailrig run: the client of profile p cannot run: requires: "
                                 "unknown placeholder {port}\n")


def test_requires_on_path(mailrig, tmp_path):
    prof = tmp_path / "p.profile"
    prof.write_text("name: p\nrequires: python3 no-such-program-xyz\nrun * *: prog\n")
    p = run(mailrig, "--client", prof, plain(tmp_path))
    assert p.returncode == 2
    assert p.stderr.decode() == ("mailrig run: the client of profile p cannot run: "
                                 "no-such-program-xyz is not installed (not on PATH)\n")


# ------------------------------------------------------------ regeneration

def regen(mailrig, cases):
    import tempfile
    for prof in cases:
        prof = Path(prof).resolve()
        if prof.parent.name == "ok":
            with tempfile.TemporaryDirectory() as tmp:
                got = observe(mailrig, prof, Path(tmp) / "out")
            prof.with_suffix(".want").write_text(json.dumps(got, indent=2, ensure_ascii=False)
                                                 + "\n", encoding="utf-8")
        else:
            with tempfile.TemporaryDirectory() as tmp:
                p = run(mailrig, "--client", prof.name, "--out", Path(tmp) / "out", "x.scn",
                        cwd=prof.parent)
            if p.returncode != 2:
                print(f"{prof}: reads (exit {p.returncode})", file=sys.stderr)
                continue
            prof.with_suffix(".err").write_text(p.stderr.decode("utf-8", "replace"),
                                                encoding="utf-8")
        print(f"{prof.relative_to(TOP)}: written")


if __name__ == "__main__":
    import argparse
    ap = argparse.ArgumentParser(description="rewrite the expected files of profile cases")
    ap.add_argument("--regen", action="store_true", required=True)
    ap.add_argument("--mailrig", default=str(TOP / "build" / "mailrig"))
    ap.add_argument("cases", nargs="*")
    a = ap.parse_args()
    regen(a.mailrig, a.cases or OK + BAD)
