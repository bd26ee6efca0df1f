#!/usr/bin/python3
"""The scenario library against real clients: curl and Python's clients.

Runs "mailrig run --client NAME conformance/scenarios" once per client
(curl, and python: imaplib, poplib and smtplib through the drivers in
conformance/clients/drivers/) and checks every verdict against what the
profile says (conformance/clients/NAME.profile):

  - a scenario the profile lists as "known SCENARIO VERDICT: REASON" must
    end with exactly that verdict;
  - a scenario the client cannot be configured for is skipped, and the
    skip's reason must say so;
  - every other scenario must pass.

So a change of any verdict fails a test: a regression in mailrig (a
scenario that stops working), a client that changed, or a known failure
that now passes (then drop its "known" line).  The failure message has
the runner's reasons and the transcript's path.

The clients come from ci/install-deps; in CI (CI set) a missing one is an
error, elsewhere the client's tests are skipped.
"""

import json
import os
import subprocess
from pathlib import Path

import pytest

TOP = Path(__file__).resolve().parent.parent
LIBRARY = TOP / "conformance" / "scenarios"
CLIENTS = ("curl", "python")
SCENARIOS = sorted(LIBRARY.glob("*/*.scn"))


def scenario_name(path):
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith("name:"):
            return line.split(":", 1)[1].strip()
    return None


def known_lines(client):
    """{scenario name: verdict} from the profile's known lines (only to find
    lines that name no scenario: the runner reports the others)."""
    known = {}
    for line in (TOP / "conformance" / "clients" / f"{client}.profile").read_text().splitlines():
        if line.startswith("known "):
            head = line.split(":", 1)[0].split()
            known[head[1]] = head[2]
    return known


_runs = {}


def library_run(mailrig, client, tmp_path_factory):
    """One run of the whole library per client per session."""
    if client in _runs:
        return _runs[client]
    lst = subprocess.run([mailrig, "run", "--list-clients"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, check=True).stdout
    row = [l.split("\t") for l in lst.splitlines() if l.startswith(client + "\t")]
    assert row, f"no {client}.profile in conformance/clients"
    if row[0][1] != "installed":
        msg = f"{client} is not installed: {row[0][2]} (ci/install-deps installs it)"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    out = tmp_path_factory.mktemp(f"conformance-{client}")
    p = subprocess.run([mailrig, "run", "--quiet", "--client", client, "--jobs", "2", "--out",
                        str(out), str(LIBRARY)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=900)
    assert p.returncode in (0, 1), p.stderr
    res = json.loads((out / "results.json").read_text())
    _runs[client] = {s["file"]: s for s in res["scenarios"]}
    return _runs[client]


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize("scn", SCENARIOS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_verdict(mailrig, client, scn, tmp_path_factory):
    results = library_run(mailrig, client, tmp_path_factory)
    r = results.get(str(scn.resolve()))
    assert r is not None, f"{scn} is not in the run's results"
    known = r["known"]["verdict"] if r["known"] else None  # the profile's, as the runner read it
    detail = "\n  ".join(r["reasons"]) + f"\n  transcript: {r['transcript']}\n  rerun: " \
        f"mailrig run --replay {r['dir']}"
    if known:
        assert r["verdict"] == known, (
            f"{client} on {r['id']}: the profile says it is known to {known}, but the verdict "
            f"is {r['verdict']}" + (" (drop the known line?)" if r["verdict"] == "pass" else "")
            + f":\n  {detail}")
    elif r["verdict"] == "skip":
        assert "no command for" in r["reasons"][0] or "does not provide" in r["reasons"][0]
    else:
        assert r["verdict"] == "pass", f"{client} on {r['id']}: {r['verdict']}:\n  {detail}"


@pytest.mark.parametrize("client", CLIENTS)
def test_known_lines_name_real_scenarios(client):
    names = {scenario_name(p) for p in SCENARIOS}
    stale = sorted(set(known_lines(client)) - names)
    assert not stale, f"{client}.profile has known lines for no scenario: {stale}"
