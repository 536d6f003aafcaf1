"""The contract suite as a user runs it: against a mock it did not start (`mock-pokee
serve` in a process of its own, ``POKEE_API``/``POKEE_KEY``), in a pytest of its own.

- (Run twice in a row with one key on a tenant that already holds sessions, files and
  turns, from an installed wheel, it passes both times with no difference and leaves the
  tenant as it found it: tests/test_wheel.py.)
- Started with a deliberate drift, the suite reports exactly the clause that drifted as
  failing in its clause report (contract_tests/coverage.py), and every other clause the
  run touched as passing: the suite can fail, and says where.

The drift runs select a few modules or tests with ``-k`` to stay inside the time budget
of ``make test``.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from tests.processes import start_serve

ROOT = Path(__file__).resolve().parents[1]


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
