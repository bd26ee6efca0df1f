#!/usr/bin/python3
"""The conformance runner, "mailrig run" (conformance/runner/), end to end.

The clients are tests/data/run/clients/client.py, a scripted fake client
(one short session with the fake server over plain sockets, poplib,
imaplib or smtplib, then exit, crash, hang or allocate as asked), run
through the profile tests/data/run/fake.profile: each scenario picks the
client's behaviour with its "needs:" line (one profile feature per
behaviour).

Data-driven like the other suites, one case per file:

  tests/data/run/scenarios/NAME.scn    a scenario
  tests/data/run/scenarios/NAME.want   its verdict on the first line, then
                                       one regular expression per reason
                                       the runner gives (in order, each
                                       matching the whole reason)

Every scenario runs once, 4 at a time (the "main" run below); the other
tests read its reports and files, or run the runner again on a few
scenarios (--jobs 1, --replay, templates, broken input).

To rewrite the .want files from the current verdicts (a reason line that
still matches is kept, so hand-made patterns such as \\d+ survive; read
the result before committing it):

    tests/test_run.py --regen [--mailrig build/mailrig] [NAME.scn...]
"""

import json
import os
import re
import stat
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from types import SimpleNamespace

import pytest

import mailrig_cases as mc

TESTS = Path(__file__).resolve().parent
TOP = TESTS.parent
DATA = TESTS / "data" / "run"
SCN = DATA / "scenarios"
SCENARIOS = sorted(SCN.glob("*.scn"))
PROFILE = DATA / "fake.profile"
CLIENT = DATA / "clients" / "client.py"
PY = "/usr/bin/python3"
VERDICTS = ["pass", "fail", "crash", "hang", "skip", "error"]


def run(mailrig, *args, cwd=None, env=None, timeout=120):
    p = subprocess.run([mailrig, "run", *map(str, args)], cwd=cwd, env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       errors="replace", timeout=timeout)
    mc.no_sanitizer_report(p)
    return p





def want(scn):
    lines = scn.with_suffix(".want").read_text(encoding="utf-8").splitlines()
    assert lines and lines[0] in VERDICTS, f"{scn.with_suffix('.want')}: first line is a verdict"
    return lines[0], lines[1:]


def results(out):
    return json.loads((Path(out) / "results.json").read_text(encoding="utf-8"))


def by_name(res):
    return {s["name"]: s for s in res["scenarios"]}


def client_out(out, job, n=1):
    """The "argv: {...}" line client.py prints first, and the rest."""
    text = (Path(out) / job["id"] / f"client-{n}.out").read_text(encoding="utf-8")
    first, _, rest = text.partition("\n")
    assert first.startswith("argv: "), text
    return json.loads(first[6:]), rest


def alive(pid):
    """Running (not a zombie waiting for a parent that is gone too)."""
    try:
        st = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return st[st.rindex(")") + 2] != "Z"


def group_members(pgid):
    pids = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            st = (d / "stat").read_text()
        except OSError:
            continue
        fields = st[st.rindex(")") + 2:].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            pids.append(int(d.name))
    return pids


def template(*words):
    """A --client command template (the runner splits it as a profile
    does: blanks separate, "..." groups)."""
    return " ".join('"' + w.replace("\\", "\\\\").replace('"', '\\"') + '"'
                    if re.search(r'[\s"\\]', w) or w == "" else w for w in words)


# ------------------------------------------------------------ the main run

@pytest.fixture(scope="module")
def main(mailrig, tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "out"
    t0 = time.monotonic()
    p = run(mailrig, "--client", PROFILE, "--jobs", "4", "--out", out, SCN)
    wall = time.monotonic() - t0
    assert (out / "results.json").exists(), p.stderr
    res = results(out)
    return SimpleNamespace(p=p, out=out, wall=wall, res=res, jobs=by_name(res))


@pytest.mark.parametrize("scn", SCENARIOS, ids=lambda p: p.stem)
def test_verdict(main, scn):
    verdict, reasons = want(scn)
    job = main.jobs[scn.stem]
    assert job["verdict"] == verdict, job["reasons"]
    assert len(job["reasons"]) == len(reasons), job["reasons"]
    for got, pat in zip(job["reasons"], reasons):
        assert re.fullmatch(pat, got), (pat, got)


def test_every_case_has_its_want():
    assert len(SCENARIOS) >= 20
    for scn in SCENARIOS:
        assert scn.with_suffix(".want").exists(), f"{scn} has no .want"
        assert re.search(rf"^name: {re.escape(scn.stem)}$", scn.read_text(), re.M), \
            f"{scn}: its name: is not its file name"
    for f in SCN.glob("*.want"):
        assert f.with_suffix(".scn").exists(), f"{f} has no .scn beside it"
    # every verdict but error (test_exec_failure) has a case
    assert {want(s)[0] for s in SCENARIOS} == set(VERDICTS) - {"error"}


def test_main_run_status_and_summary(main):
    tally = {v: 0 for v in VERDICTS}
    for scn in SCENARIOS:
        tally[want(scn)[0]] += 1
    assert main.p.returncode == 1  # something failed
    assert main.res["totals"] == {"scenarios": len(SCENARIOS), **tally}
    assert main.res["client"] == "fake"
    assert main.res["profile"] == str(PROFILE)
    assert main.res["template"] is None
    assert re.fullmatch(r"Python 3\.\d+\.\d+\S*", main.res["version"])
    assert main.res["jobs"] == 4
    total = re.search(r"^total +(\d+) +(\d+) +(\d+) +(\d+) +(\d+) +(\d+) +(\d+)$", main.p.stdout,
                      re.M)
    assert total, main.p.stdout
    assert [int(x) for x in total.groups()] == [len(SCENARIOS)] + [tally[v] for v in VERDICTS]
    assert main.p.stderr.startswith(f"mailrig run: {len(SCENARIOS)} scenarios against fake "
                                    f"({main.res['version']}), 4 at a time, into {main.out}/\n")
    # one progress line per scenario
    assert len(re.findall(r"^\[ ?\d+/\d+\] ", main.p.stderr, re.M)) == len(SCENARIOS)
    # every not-passed scenario in the summary, with its first reason
    for job in main.res["scenarios"]:
        line = f"  {job['verdict']:<5} {job['id']}"
        if job["verdict"] in ("pass", "skip"):
            assert line not in main.p.stdout
        else:
            assert line in main.p.stdout


def test_parallel_wall_time(main):
    # 22 scenarios, the slowest a 1 s hang: 4 at a time is quick
    assert main.wall < 10, main.wall
    assert main.res["wall_seconds"] < main.wall


def test_result_fields(main):
    j = main.jobs["pass"]
    assert j["id"] == "pop3/pass" and j["protocol"] == "pop3" and j["tls"] == "none"
    assert j["file"] == str(SCN / "pass.scn")
    assert j["description"].startswith("a client that logs in to nothing")
    assert j["rfc"] == "RFC 1939 5"
    assert j["reasons"] == [] and j["known"] is None
    assert j["exit_code"] == 0 and j["signal"] is None
    assert 1000 < j["max_rss_kb"] < 50 * 1024
    assert j["runs"] == 1
    assert j["command"][:3] == [PY, str(CLIENT), "pop3"]
    assert j["command"][3].isdigit() and 1024 <= int(j["command"][3]) < 65536
    assert j["command"][4:] == ["--user", "user", "--password", "password"]
    assert j["dir"] == f"{main.out}/pop3/pass"
    assert j["transcript"] == f"{main.out}/pop3/pass/server/session-0001.trs"
    assert Path(j["transcript"]).exists()
    assert j["server_verdict"] == "passed" and j["server_end"] == "server-close"
    assert j["client_stdout"] == "client-1.out" and j["client_stderr"] == "client-1.err"
    out = (main.out / "pop3/pass/client-1.out").read_bytes()
    assert j["stdout_bytes"] == len(out) and j["stderr_bytes"] == 0
    assert j["checks"] == [
        {"line": 8, "expect": "expect send QUIT", "by": "server", "passed": True, "detail": ""},
        {"line": 6, "expect": "expect exit success", "by": "runner", "passed": True,
         "detail": "exit status 0, which means success"},
        {"line": 7, "expect": "expect memory-below 50M", "by": "runner", "passed": True,
         "detail": j["checks"][2]["detail"]}]
    assert re.fullmatch(r"peak RSS \d+\.\d MiB \(limit 50\.0 MiB\)", j["checks"][2]["detail"])
    assert 0 < j["duration"] < 5

    seg = main.jobs["segv"]
    assert seg["exit_code"] is None and seg["signal"] == 11
    hang = main.jobs["hang"]
    assert hang["exit_code"] is None and hang["signal"] is None
    assert main.jobs["exit-three"]["exit_code"] == 3
    assert main.jobs["exit-five"]["exit_code"] == 5
    mem = main.jobs["memory"]
    assert mem["max_rss_kb"] > 100 * 1024
    assert [c["passed"] for c in mem["checks"]] == [False, True]
    # skipped: nothing ran
    skip = main.jobs["skip-tls"]
    assert skip["command"] == [] and skip["exit_code"] is None and skip["transcript"] is None
    assert "client_stdout" not in skip and skip["checks"] == []
    assert not (main.out / "pop3/skip-tls/server").exists()


def test_output_beyond_the_cap(main):
    j = main.jobs["output-big"]
    kept = (main.out / "imap/output-big/client-1.out").read_bytes()
    assert len(kept) == 1 << 20  # MR_OUT_CAP
    assert kept.startswith(b"argv: ")
    # every byte is counted: the session lines, 3,000,000 and END-OF-OUTPUT
    assert j["stdout_bytes"] > 3_000_000 + len("END-OF-OUTPUT\n")
    assert j["checks"][1] == {"line": 7, "expect": 'expect no-output "END-OF-OUTPUT"',
                              "by": "runner", "passed": True,
                              "detail": f"the client's output ({j['stdout_bytes']} + 0 bytes) "
                                        "does not match"}


def test_server_detail_in_reason(main):
    j = main.jobs["no-send"]
    assert j["server_verdict"] == "failed"
    assert j["checks"][0] == {"line": 5, "expect": "expect no-send NOOP", "by": "server",
                              "passed": False,
                              "detail": 'the client sent "NOOP" (command 1, in plaintext)'}
    assert j["checks"][1]["passed"] is True
    # the detail is the server's own, from its result file
    session = json.loads((main.out / "pop3/no-send/server/session-0001.json").read_text())
    assert [x["detail"] for x in session["expectations"] if not x["passed"]] == \
        [j["checks"][0]["detail"]]


def test_hang_is_killed_quickly_with_its_children(main):
    j = main.jobs["hang"]
    assert j["verdict"] == "hang"
    assert 1.0 <= j["duration"] < 3.0, j["duration"]
    state = main.out / "pop3/hang/state"
    client = int((state / "client.pid").read_text())
    child = int((state / "child.pid").read_text())
    assert client != child
    assert not alive(client) and not alive(child)
    assert group_members(client) == []  # the client was its own process group
    # the session had ended before: the hang was the process, not the server
    assert j["server_end"] == "server-close"


def test_no_client_process_left(main):
    # nothing started from client.py outlives the run
    left = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                cmd = (d / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if str(CLIENT).encode() in cmd and str(main.out).encode() in b" ".join(cmd) \
                    and alive(int(d.name)):
                left.append(cmd)
    assert left == []


def test_features_land_at_their_placeholder(main):
    j = main.jobs["files"]
    args, _ = client_out(main.out, j)
    port = j["command"][3]
    state = str((main.out / "pop3/files/state").resolve())
    want_argv = ["pop3", port, "--user", "alice smith", "--password", '"p\\"w {x}"',
                 # feature words: "two words" {user} "{{braces}" "" "say \"hi\" \\ back"
                 "--print", "two words", "alice smith", "{braces}", "", 'say "hi" \\ back',
                 # feature show-files: --cat rc.txt --cat {file:other.txt}
                 "--cat", "rc.txt", "--cat", f"{state}/other.txt",
                 # feature no-connect
                 "--no-connect"]
    assert args["argv"] == want_argv
    assert j["command"] == [PY, str(CLIENT)] + want_argv
    # it runs in its state folder, which is also its HOME
    assert args["cwd"] == state and args["home"] == state


def test_env(main):
    j = main.jobs["files"]
    args, _ = client_out(main.out, j)
    assert args["env"] == {"MRT_WHO": f"alice smith@127.0.0.1:{j['command'][3]}",
                           "MRT_BRACE": "{literal}", "MRT_TWICE": "second"}


def test_file_blocks(main):
    j = main.jobs["files"]
    port = j["command"][3]
    state = (main.out / "pop3/files/state").resolve()
    rc = state / "rc.txt"
    want_rc = (f"user alice smith\npassword \"p\\\"w {{x}}\"\nport {port}\n  indented {{x}}\n\n"
               f"state {state}\n")
    assert rc.read_text() == want_rc
    assert stat.S_IMODE(rc.stat().st_mode) == 0o600
    other = state / "other.txt"
    assert other.read_text() == "a tab-indented line for pop3\n"
    assert stat.S_IMODE(other.stat().st_mode) == 0o600
    # what the client read is what was written
    _, rest = client_out(main.out, j)
    assert f"cat rc.txt: {json.dumps(want_rc)}\n" in rest
    # the first file line that fits the protocol wins
    imap = (main.out / "imap/imap-store/state/rc.txt")
    assert imap.read_text() == "only for IMAP\n"
    assert stat.S_IMODE(imap.stat().st_mode) == 0o600


def test_runs_two_keeps_state_and_judges_the_last(main):
    j = main.jobs["runs-two"]
    d = main.out / "pop3/runs-two"
    assert j["verdict"] == "pass" and j["runs"] == 2
    _, first = client_out(main.out, j, 1)
    _, second = client_out(main.out, j, 2)
    assert first.startswith("count: 0\n") and second.startswith("count: 1\n")
    assert (d / "state/count").read_text() == "2"
    # run 1 sent NOOP: its session failed "expect no-send NOOP"; run 2's is judged
    s1 = json.loads((d / "server/session-0001.json").read_text())
    s2 = json.loads((d / "server/session-0002.json").read_text())
    assert s1["verdict"] == "failed" and s2["verdict"] == "passed"
    assert j["transcript"].endswith("/server/session-0002.trs")
    assert j["client_stdout"] == "client-2.out"
    assert (d / "maildir-1").is_dir() and (d / "maildir-2").is_dir()
    assert [c["passed"] for c in j["checks"]] == [True, True, True]


def test_mailbox_checks(main):
    assert main.jobs["pop3-dele"]["checks"][0]["detail"] == "14 messages left in INBOX"
    st = main.jobs["imap-store"]["checks"]
    assert [c["detail"] for c in st] == ["UID 4 has \\Seen", "UID 9 does not have \\Seen",
                                         "15 messages left in INBOX"]
    assert main.jobs["smtp-send"]["checks"][1]["detail"] == "the server accepted 1 message"


def test_known(main):
    three = main.jobs["exit-three"]["known"]
    assert three == {"verdict": "fail", "reason": "exits with status 3 on purpose",
                     "matches": True}
    miss = main.jobs["output-missing"]["known"]
    assert miss == {"verdict": "crash", "reason": "listed with the wrong verdict on purpose",
                    "matches": False}
    assert "  fail  pop3/exit-three (known): " in main.p.stdout
    assert "  fail  smtp/output-missing: " in main.p.stdout


def test_junit(main):
    root = ET.parse(main.out / "junit.xml").getroot()
    assert root.tag == "testsuites"
    assert root.get("name") == "mailrig run: fake"
    assert int(root.get("tests")) == len(SCENARIOS)
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert set(suites) == {"fake.imap", "fake.pop3", "fake.smtp"}
    for proto in ("imap", "pop3", "smtp"):
        jobs = [j for j in main.res["scenarios"] if j["protocol"] == proto]
        n = lambda *vs: sum(j["verdict"] in vs for j in jobs)  # noqa: E731
        s = suites[f"fake.{proto}"]
        assert int(s.get("tests")) == len(jobs) == len(s.findall("testcase"))
        assert int(s.get("failures")) == n("fail", "hang")
        assert int(s.get("errors")) == n("crash", "error")
        assert int(s.get("skipped")) == n("skip")
        for case in s.findall("testcase"):
            assert case.get("classname") == f"fake.{proto}"
            job = main.jobs[case.get("name")]
            kids = list(case)
            if job["verdict"] == "pass":
                assert kids == []
                continue
            tag = {"skip": "skipped", "crash": "error", "error": "error"}.get(job["verdict"],
                                                                             "failure")
            assert [k.tag for k in kids] == [tag]
            assert kids[0].get("type") == job["verdict"]
            assert kids[0].get("message") == job["reasons"][0]
            for r in job["reasons"]:
                assert r in kids[0].text
            if job["transcript"]:
                assert f"transcript: {job['transcript']}" in kids[0].text


def test_report_md(main):
    md = (main.out / "report.md").read_text()
    assert md.startswith("# mailrig run: fake\n")
    tot = {v: sum(want(s)[0] == v for s in SCENARIOS) for v in VERDICTS}
    assert (f"| **total** | {len(SCENARIOS)} | " + " | ".join(str(tot[v]) for v in VERDICTS)
            + " |") in md
    sections = re.split(r"^### ", md, flags=re.M)[1:]
    listed = {}
    for sec in sections:
        head = sec.split("\n", 1)[0]
        m = re.fullmatch(r"(\S+): (\w+)( \(known\))?", head)
        assert m, head
        listed[m.group(1)] = (m.group(2), bool(m.group(3)), sec)
    not_passed = [j for j in main.res["scenarios"] if j["verdict"] not in ("pass", "skip")]
    assert sorted(listed) == sorted(j["id"] for j in not_passed)
    for j in not_passed:
        verdict, known, sec = listed[j["id"]]
        assert verdict == j["verdict"]
        assert known == bool(j["known"] and j["known"]["matches"])
        assert f"- transcript: `{j['transcript']}`" in sec
        assert f"- client output: `{j['dir']}/{j['client_stdout']}`, `.err`" in sec
        assert f"- rerun: `mailrig run --replay {j['dir']}`" in sec
        for r in j["reasons"]:
            assert "- " + r.replace("|", "\\|") in sec
    assert "- known crash: listed with the wrong verdict on purpose" in listed[
        "smtp/output-missing"][2]
    assert "the client exits 3, which the profile does not call success (no RFC given)" in \
        listed["pop3/exit-three"][2]
    skipped = md.split("## Skipped\n", 1)[1]
    for j in main.res["scenarios"]:
        if j["verdict"] == "skip":
            assert f"- {j['id']}: {j['reasons'][0]}" in skipped


def test_job_json(main):
    job = json.loads((main.out / "pop3/exit-three/job.json").read_text())
    assert job == {"scenario": str(SCN / "exit-three.scn"), "client": str(PROFILE),
                   "default_timeout": 20000}


def test_replay(main, mailrig):
    for name, rc in (("exit-three", 1), ("pass", 0), ("segv", 1)):
        orig = main.jobs[name]
        d = main.out / orig["id"]
        p = run(mailrig, "--replay", d)
        assert p.returncode == rc, p.stderr
        rep = results(d / "replay")
        assert rep["totals"]["scenarios"] == 1
        j = rep["scenarios"][0]
        assert j["id"] == orig["id"] and j["verdict"] == orig["verdict"]
        assert j["reasons"] == orig["reasons"]
        assert j["dir"] == f"{d}/replay/{orig['id']}"
        assert (d / "replay" / orig["id"] / "client-1.out").exists()
        assert rep["jobs"] == 1
    # the original results are untouched
    assert results(main.out)["scenarios"] == main.res["scenarios"]


def test_replay_bad_dir(mailrig, tmp_path):
    p = run(mailrig, "--replay", tmp_path)
    assert p.returncode == 2
    assert p.stderr.startswith(f"mailrig run: {tmp_path}/job.json: ")
    (tmp_path / "job.json").write_text('{"scenario": 1}')
    p = run(mailrig, "--replay", tmp_path)
    assert p.returncode == 2
    assert p.stderr == f"mailrig run: {tmp_path}/job.json: not a job record\n"


def test_jobs_1_gives_the_same_verdicts(main, mailrig, tmp_path):
    p = run(mailrig, "--client", PROFILE, "--jobs", "1", "-q", "--out", tmp_path / "out", SCN)
    assert p.returncode == main.p.returncode
    assert p.stderr == ""  # --quiet
    res = results(tmp_path / "out")
    assert res["jobs"] == 1
    one = {j["id"]: (j["verdict"], len(j["reasons"]), [c["passed"] for c in j["checks"]])
           for j in res["scenarios"]}
    four = {j["id"]: (j["verdict"], len(j["reasons"]), [c["passed"] for c in j["checks"]])
            for j in main.res["scenarios"]}
    assert one == four


# ------------------------------------------------------------ exit status, templates

def test_exit_status_0(mailrig, tmp_path):
    p = run(mailrig, "--client", PROFILE, "-o", tmp_path, SCN / "pass.scn", SCN / "skip-tls.scn",
            SCN / "exit-five.scn")
    assert p.returncode == 0, p.stdout
    assert results(tmp_path)["totals"] == {"scenarios": 3, "pass": 2, "fail": 0, "crash": 0,
                                           "hang": 0, "skip": 1, "error": 0}
    assert "not passed" not in p.stdout


@pytest.mark.parametrize("name,rc", [("exit-three", 1), ("segv", 1), ("hang", 1),
                                     ("skip-needs", 0), ("pop3-dele", 0)])
def test_exit_status_alone(mailrig, tmp_path, name, rc):
    p = run(mailrig, "--client", PROFILE, "-o", tmp_path, SCN / f"{name}.scn")
    assert p.returncode == rc, p.stdout
    assert results(tmp_path)["scenarios"][0]["verdict"] == want(SCN / f"{name}.scn")[0]


def plain_scenario(tmp_path, proto="pop3"):
    """A scenario that needs no feature (a template has none)."""
    f = tmp_path / "plain.scn"
    f.write_text(f"name: plain\nprotocol: {proto}\nclient-timeout: 3000\n"
                 "expect exit success\n")
    return f


def test_template_success_is_exit_0_only(mailrig, tmp_path):
    # no success: line in a template: 5 is a failure there
    t = template(PY, str(CLIENT), "{protocol}", "{port}", "--exit", "5")
    p = run(mailrig, "--client", t, "-o", tmp_path / "out", plain_scenario(tmp_path))
    assert p.returncode == 1
    res = results(tmp_path / "out")
    assert res["client"] == "python3" and res["template"] == t and res["profile"] is None
    j = res["scenarios"][0]
    assert j["verdict"] == "fail"
    assert j["reasons"] == ["expect exit success (line 4): exit status 5, which means failure"]
    assert j["command"][:2] == [PY, str(CLIENT)]


def test_exec_failure_is_an_error(mailrig, tmp_path):
    p = run(mailrig, "--client", "/nonexistent/mailrig-client {port}", "-o", tmp_path,
            SCN / "pass.scn")
    assert p.returncode == 1
    res = results(tmp_path)
    assert res["totals"]["error"] == 1
    j = res["scenarios"][0]
    assert j["verdict"] == "error"
    assert j["reasons"] == ["cannot run '/nonexistent/mailrig-client': No such file or directory"]
    suite = ET.parse(tmp_path / "junit.xml").getroot().find("testsuite")
    assert suite.get("errors") == "1" and suite.get("failures") == "0"
    assert suite.find("testcase/error").get("type") == "error"
    assert "  error pop3/pass: cannot run '/nonexistent/mailrig-client'" in p.stdout


def test_broken_scenario_runs_nothing(mailrig, tmp_path):
    d = tmp_path / "scn"
    d.mkdir()
    (d / "a-good.scn").write_text("name: good\nprotocol: pop3\n")
    (d / "b-bad.scn").write_text("name: bad\nprotocol: pop3\nexpect exit maybe\n")
    marker = tmp_path / "ran"
    t = template(PY, "-c", f"open({str(marker)!r}, 'w')", "{port}")
    p = run(mailrig, "--client", t, "-o", tmp_path / "out", d)
    assert p.returncode == 2
    assert p.stderr == f"{d}/b-bad.scn:3:13: exit takes success or failure\n"
    assert p.stdout == ""
    assert not (tmp_path / "out").exists()
    assert not marker.exists()
    # the template itself works: the same run without the broken file
    (d / "b-bad.scn").unlink()
    p = run(mailrig, "--client", t, "-o", tmp_path / "out", d)
    assert p.returncode == 0, p.stdout
    assert marker.exists()


def test_missing_scenario_and_usage(mailrig, tmp_path):
    p = run(mailrig, "--client", PROFILE, "-o", tmp_path / "out", tmp_path / "nope.scn")
    assert p.returncode == 2
    assert p.stderr == f"mailrig run: {tmp_path}/nope.scn: No such file or directory\n"
    p = run(mailrig, SCN / "pass.scn")
    assert p.returncode == 2 and p.stderr.startswith("mailrig run: --client is required\n")
    p = run(mailrig, "--client", PROFILE)
    assert p.returncode == 2 and p.stderr.startswith("mailrig run: no scenario given\n")
    p = run(mailrig, "--client", PROFILE, "--jobs", "0", SCN / "pass.scn")
    assert p.returncode == 2
    assert p.stderr == "mailrig run: --jobs: '0' is not a number from 1 to 256\n"
    p = run(mailrig, "--client", "no-such-client", SCN / "pass.scn")
    assert p.returncode == 2 and p.stderr.startswith("no client profile 'no-such-client'")


def test_protocol_filter(mailrig, tmp_path):
    p = run(mailrig, "--client", PROFILE, "-p", "smtp", "-o", tmp_path,
            SCN / "pass.scn", SCN / "smtp-send.scn")
    assert p.returncode == 0
    assert [j["id"] for j in results(tmp_path)["scenarios"]] == ["smtp/smtp-send"]
    p = run(mailrig, "--client", PROFILE, "-p", "imap", "-o", tmp_path, SCN / "pass.scn")
    assert p.returncode == 2
    assert p.stderr == "mailrig run: no scenario of those protocols\n"


def test_requires_missing(mailrig, tmp_path):
    prof = tmp_path / "gone.profile"
    prof.write_text("name: gone\nrequires: /nonexistent/client\nrun * *: /nonexistent/client\n")
    p = run(mailrig, "--client", prof, "-o", tmp_path / "out", SCN / "pass.scn")
    assert p.returncode == 2
    assert p.stderr == ("mailrig run: the client of profile gone cannot run: /nonexistent/client "
                        "is not installed (no such executable)\n")
    assert not (tmp_path / "out").exists()


def test_relative_paths(mailrig, tmp_path):
    # a relative --out and profile: the client runs in its state folder, so
    # every path it is given must be absolute
    rel = os.path.relpath(PROFILE, tmp_path)
    p = run(mailrig, "--client", rel, "-o", "out", SCN / "files.scn", SCN / "pop3-dele.scn",
            cwd=tmp_path)
    assert p.returncode == 0, p.stdout + p.stderr
    res = results(tmp_path / "out")
    j = by_name(res)["files"]
    args, _ = client_out(tmp_path / "out", j)
    state = str(tmp_path / "out/pop3/files/state")
    assert args["cwd"] == state and args["home"] == state
    assert f"{state}/other.txt" in args["argv"]
    assert j["command"][1] == str(CLIENT)  # {root}
    assert res["profile"] == str(PROFILE)
    # --replay from elsewhere finds the profile again
    p = run(mailrig, "--replay", tmp_path / "out/pop3/files")
    assert p.returncode == 0, p.stdout


def test_relative_out_gives_the_client_a_readable_cafile(mailrig, tmp_path):
    # the server is started with the job's folder: with a relative --out
    # its CA file was a relative path, unreadable from the client's state
    # folder (curl exit 77 on every TLS scenario)
    (tmp_path / "tls.scn").write_text("name: tls\nprotocol: pop3\ntls: implicit\n"
                                      "expect exit success\n")
    p = run(mailrig, "--client", 'sh -c "test -r \\"$0\\" && case $0 in /*) ;; *) exit 9;; esac" '
            "{cafile}", "-o", "out", "tls.scn", cwd=tmp_path)
    assert p.returncode == 0, p.stdout + p.stderr
    j = by_name(results(tmp_path / "out"))["tls"]
    assert j["verdict"] == "pass" and j["command"][3].startswith(str(tmp_path / "out") + "/")


def test_template_runs_in_the_callers_folder(mailrig, tmp_path):
    # a template's relative paths mean what they meant in the user's shell
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin/client.sh").write_text('pwd; exit 0\n')
    (tmp_path / "t.scn").write_text("name: t\nprotocol: pop3\nexpect exit success\n")
    p = run(mailrig, "--client", "sh bin/client.sh {port}", "-o", "out", "t.scn", cwd=tmp_path)
    assert p.returncode == 0, p.stdout + p.stderr
    assert (tmp_path / "out/pop3/t/client-1.out").read_text().strip() == str(tmp_path)


def test_profile_name_is_escaped_in_junit(mailrig, tmp_path):
    prof = tmp_path / "odd.profile"
    prof.write_text('name: a&b "c" <d>\n'
                    f"run * *: {PY} {CLIENT} {{protocol}} {{port}} --exit 3\n")
    p = run(mailrig, "--client", prof, "-o", tmp_path / "out", plain_scenario(tmp_path))
    assert p.returncode == 1
    root = ET.parse(tmp_path / "out/junit.xml").getroot()
    assert root.get("name") == 'mailrig run: a&b "c" <d>'
    suite = root.find("testsuite")
    assert suite.get("name") == 'a&b "c" <d>.pop3'
    assert suite.find("testcase").get("classname") == 'a&b "c" <d>.pop3'
    assert suite.find("testcase/failure").get("message").startswith("expect exit success")


def test_list_clients(mailrig, tmp_path):
    env = dict(os.environ, MAILRIG_CLIENTS=str(DATA))
    p = subprocess.run([mailrig, "run", "--list-clients"], env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert p.stdout == ("fake\tinstalled\ttests/data/run/clients/client.py, a scripted fake "
                        "client\n")
    # and by name, from that folder
    p = run(mailrig, "--client", "fake", "-o", tmp_path, SCN / "pass.scn", env=env)
    assert p.returncode == 0, p.stdout
    assert results(tmp_path)["profile"] == str(PROFILE)


# ------------------------------------------------------------ regeneration

def regen(mailrig, cases, out):
    p = subprocess.run([mailrig, "run", "--client", str(PROFILE), "--jobs", "4", "-q", "--out",
                        str(out)] + [str(c) for c in cases], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    if not (Path(out) / "results.json").exists():
        sys.exit(p.stderr)
    jobs = by_name(results(out))
    for scn in cases:
        scn = Path(scn).resolve()
        job = jobs[scn.stem]
        w = scn.with_suffix(".want")
        old = want(scn)[1] if w.exists() else []
        lines = [job["verdict"]]
        for i, r in enumerate(job["reasons"]):
            keep = i < len(old) and re.fullmatch(old[i], r)
            lines.append(old[i] if keep else re.escape(r).replace("\\ ", " "))
        w.write_text("\n".join(lines) + "\n", encoding="utf-8")
        print(f"{w.relative_to(TOP)}: {job['verdict']}")


if __name__ == "__main__":
    import argparse
    import tempfile
    ap = argparse.ArgumentParser(description="rewrite the .want files of the runner's cases")
    ap.add_argument("--regen", action="store_true", required=True)
    ap.add_argument("--mailrig", default=str(TOP / "build" / "mailrig"))
    ap.add_argument("cases", nargs="*")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        regen(a.mailrig, [Path(c) for c in a.cases] or SCENARIOS, Path(tmp) / "out")
