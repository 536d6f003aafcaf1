"""The contract suite as a user runs it: against a mock it did not start (`mock-pokee
serve` in a process of its own, ``POKEE_API``/``POKEE_KEY``), in a pytest of its own.

- Run twice in a row with one key, it passes both times and leaves no session and no
  file behind (the ledger of contract_tests/cleanup.py at work).
- Started with a deliberate drift, the suite reports exactly the clause that drifted as
  failing in its clause report (contract_tests/coverage.py), and every other clause the
  run touched as passing: the suite can fail, and says where.

Each run selects a few modules or tests with ``-k`` to stay inside the time budget of
``make test``; the full suite against an external mock is the same command without it.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.processes import start_serve

ROOT = Path(__file__).resolve().parents[1]

# Everything that runs against a deployment in these modules, and the model's real
# profile: sessions, turns and files (each file test works in a folder of its own).
TWICE = "test_sessions or test_messages or test_model or test_files or test_file_scopes"


@pytest.fixture
def external() -> Iterator[tuple[str, subprocess.Popen[str]]]:
    process, url = start_serve("--quiet")
    try:
        yield url, process
    finally:
        stop(process)


def stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    process.communicate(timeout=10)  # reaps it and closes its pipes


def suite(url: str, key: str, report: Path, *options: str) -> subprocess.Popen[str]:
    """Start ``pytest contract_tests`` against ``url`` (not waiting for it)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POKEE_", "MOCK_POKEE"))}
    env |= {"POKEE_API": url, "POKEE_KEY": key}
    command = [sys.executable, "-m", "pytest", "contract_tests", "-q", "-p", "no:cacheprovider"]
    command += ["-p", "no:schemathesis", "--clause-report", str(report), *options]
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def finished(process: subprocess.Popen[str], report: Path) -> tuple[int, str, dict[str, Any]]:
    output, _ = process.communicate(timeout=300)
    summary = json.loads(report.read_text()) if report.exists() else {}
    return process.returncode, output, summary


def outcomes(summary: dict[str, Any]) -> dict[str, str]:
    """Each clause the run touched: "failed" if any of its tests failed, else "passed"
    (a clause none of whose tests ran is left out)."""
    result = {}
    for clause, row in summary["clauses"].items():
        if row["failed"]:
            result[clause] = "failed"
        elif row["passed"]:
            result[clause] = "passed"
    return result


def test_twice_against_one_external_mock_with_one_key_passes_and_leaves_nothing(
    external: tuple[str, subprocess.Popen[str]], tmp_path: Path
) -> None:
    url, _ = external
    key = f"pk_twice{secrets.token_hex(4)}_ci"
    for run in (1, 2):
        report = tmp_path / f"run{run}.json"
        code, output, summary = finished(suite(url, key, report, "-k", TWICE), report)
        assert code == 0, output[-3000:]
        assert summary["failed_clauses"] == [], output[-3000:]
        assert "passed" in output
    state = httpx.get(f"{url}/_mock/state", headers={"Authorization": f"Bearer {key}"}).json()
    assert state["sessions"] == []
    assert state["files"] == []
    assert outcomes(summary)["S1"] == "passed"  # the runs did check something


def test_a_drifted_mock_fails_exactly_the_clause_that_drifted(tmp_path: Path) -> None:
    """Two drifts, run at the same time: ``--max-sessions 3`` (S9 says 10) and a fault
    rule answering 503 to every cancel (M8). Each run selects the tests of its clause and
    of neighbouring clauses that the drift must not disturb."""
    drifts = {
        "S9": (
            ("--max-sessions", "3"),
            None,
            "test_s9 or test_a7 or test_s1 or test_s4 or test_s5",
        ),
        "M8": ((), "/v1/sessions/*/responses/*/cancel", "test_m8 or test_m7 or test_m1 or test_m3"),
    }
    servers, runs = [], {}
    try:
        for clause, (options, faulty_path, selection) in drifts.items():
            process, url = start_serve("--quiet", *options)
            servers.append(process)
            if faulty_path is not None:  # a keyless rule applies to every tenant (C5)
                rule = {"match": {"path": faulty_path}, "fault": {"type": "status", "status": 503}}
                assert httpx.post(f"{url}/_mock/faults", json=rule).status_code == 201
            report = tmp_path / f"{clause}.json"
            key = f"pk_drift{secrets.token_hex(4)}_ci"
            allow = ("--allow-destructive",)
            selection = f"({selection}) and not test_model"
            runs[clause] = (suite(url, key, report, "-k", selection, *allow), report)
        for clause, (process, report) in runs.items():
            code, output, summary = finished(process, report)
            assert code == 1, output[-3000:]
            touched = outcomes(summary)
            assert summary["failed_clauses"] == [clause], output[-3000:]
            assert len(touched) >= 3, touched  # its neighbours ran, and passed
    finally:
        for process in servers:
            stop(process)
