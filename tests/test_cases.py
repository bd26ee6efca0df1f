"""Run every data-driven case in tests/data/<protocol>/*.case (docs/testing.md).

One test per file.  The case's transcript is given to `mailrig parse` on
stdin (dialogue mode: as a transcript with --dialogue; raw mode: its S
segments concatenated), and stdout must hold exactly the expected JSON
objects, in order (compared as parsed JSON), the exit status must match
"# exit:" and stderr must contain each line of the "=== stderr" section.
"""

import json

import pytest

import mailrig_cases as mc

CASES = mc.all_cases()


def _fmt(obj):
    return json.dumps(obj, sort_keys=False, ensure_ascii=False)


@pytest.mark.parametrize("path", CASES, ids=[f"{p.parent.name}/{p.name}" for p in CASES])
def test_case(path, mailrig):
    case = mc.load(path)
    proc = mc.run(case, mailrig)
    err = proc.stderr.decode("utf-8", "replace")
    out = proc.stdout.decode("utf-8")

    san = mc.sanitizer_report(err)
    assert san is None, f"{case.id}: sanitizer report ({san}):\n{err}"

    got_lines = [l for l in out.split("\n") if l != ""]
    got = []
    for n, line in enumerate(got_lines, 1):
        try:
            obj = json.loads(line)
        except ValueError as e:
            pytest.fail(f"{case.id}: output line {n} is not JSON ({e}): {line!r}")
        assert isinstance(obj, dict), f"{case.id}: output line {n} is not an object"
        got.append(obj)

    want = []
    for text, n in zip(case.expected, case.expected_lines):
        try:
            want.append(json.loads(text))
        except ValueError as e:
            pytest.fail(f"{path}:{n}: expected line is not JSON ({e})")

    for i, (w, g) in enumerate(zip(want, got)):
        if w != g:
            pytest.fail(f"{path}:{case.expected_lines[i]}: response {i + 1} differs\n"
                        f"  expected: {_fmt(w)}\n"
                        f"  got:      {_fmt(g)}\n"
                        f"(why: {case.why})\nstderr:\n{err}")
    if len(want) != len(got):
        extra = got[len(want):] or want[len(got):]
        which = "unexpected" if len(got) > len(want) else "missing"
        pytest.fail(f"{case.id}: expected {len(want)} responses, got {len(got)}; "
                    f"first {which}: {_fmt(extra[0])}\nstderr:\n{err}")

    assert proc.returncode == case.exit, \
        f"{case.id}: exit status {proc.returncode}, expected {case.exit}\nstderr:\n{err}"
    for sub in case.stderr:
        assert sub in err, f"{case.id}: stderr lacks {sub!r}\nstderr:\n{err}"


def test_cases_exist():
    """The runner must not pass by finding nothing."""
    assert CASES, f"no case files under {mc.DATA}"


def test_case_headers():
    """Every case loads: first line, '# why:', mode, exit, '=== expected'."""
    bad = []
    for path in CASES:
        try:
            mc.load(path)
        except mc.CaseError as e:
            bad.append(str(e))
    assert not bad, "\n".join(bad)
