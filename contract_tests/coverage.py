"""Clause coverage: which tests checked which clause of the contract, and how they did.

At collection every contract test gets a ``clauses`` user property (the ids it cites, see
`contract_tests.clauses`), so the ids travel with its reports: to pytest-xdist's
controller, and into ``--junitxml`` as a ``<property name="clauses">`` per test case.
At the end of the run a table says, for every clause, how many tests checked it and how
many passed, failed, were skipped, or (``inferred`` tests on a deployment) differ (with
``-v``, each test under its clauses), then each test that differs with the assertion that
failed; with ``--clause-report PATH`` the same goes to a JSON file:

    {"clauses": {"S6": {"tag": "D", "tests": {"<nodeid>": "passed", …},
                        "passed": 9, "failed": 0, "skipped": 2, "differs": 0}, …},
     "failed_clauses": ["S9"],
     "differs": {"<nodeid>": "inferred clause differs on this deployment: assert …"}}
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .clauses import TESTS, cited, clauses

PROPERTY = "clauses"
OUTCOMES = ("passed", "failed", "skipped", "differs")


def clauses_of(item: pytest.Item) -> set[str]:
    """The ids an item cites: its function's name and docstring."""
    function = getattr(item, "function", None)
    name = getattr(item, "originalname", None) or item.name
    return cited(name, getattr(function, "__doc__", None))


def is_contract_test(item: pytest.Item) -> bool:
    return item.path.is_relative_to(TESTS)


class ClauseCoverage:
    """The plugin object; registered by contract_tests/conftest.py."""

    def __init__(self, report_path: Path | None, config: pytest.Config):
        self.report_path = report_path
        self.is_worker = hasattr(config, "workerinput")  # pytest-xdist: the controller reports
        self.verbose = config.option.verbose > 0
        self.cited: dict[str, list[str]] = {}  # nodeid -> clause ids
        self.outcome: dict[str, str] = {}  # nodeid -> passed / failed / skipped / differs
        self.findings: dict[str, str] = {}  # nodeid -> what differed (see conftest)

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            if is_contract_test(item):
                ids = sorted(clauses_of(item))
                item.user_properties.append((PROPERTY, " ".join(ids)))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        ids = next((str(v).split() for k, v in report.user_properties if k == PROPERTY), None)
        if ids is None:
            return
        self.cited[report.nodeid] = ids
        before = self.outcome.get(report.nodeid)
        if report.failed:
            self.outcome[report.nodeid] = "failed"
        elif before == "failed":
            return
        elif report.skipped:
            differs = hasattr(report, "wasxfail")
            self.outcome[report.nodeid] = "differs" if differs else "skipped"
            if differs:
                self.findings[report.nodeid] = report.wasxfail
        elif report.when == "call":
            self.outcome[report.nodeid] = "passed"

    def summary(self) -> dict[str, object]:
        table: dict[str, dict[str, object]] = {}
        for clause in clauses():
            tests = {
                nodeid: self.outcome.get(nodeid, "skipped")
                for nodeid, ids in self.cited.items()
                if clause.id in ids
            }
            counts = {o: sum(1 for v in tests.values() if v == o) for o in OUTCOMES}
            table[clause.id] = {"tag": clause.tag, "tests": tests, **counts}
        return {
            "clauses": table,
            "failed_clauses": [c for c, row in table.items() if row["failed"]],
            "differs": dict(self.findings),
        }

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if not self.cited or self.is_worker:
            return
        summary = self.summary()
        if self.report_path is not None:
            self.report_path.write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
        write = terminalreporter.write_line
        terminalreporter.section("contract clauses")
        write(
            f"{'clause':<9} {'tests':>5} {'passed':>7} {'failed':>7} {'skipped':>8} {'differs':>8}"
        )
        rows = summary["clauses"]
        assert isinstance(rows, dict)
        for clause in clauses():
            row = rows[clause.id]
            if not row["tests"]:
                write(f"{clause.label:<9} {0:>5}   none run")
                continue
            counts = " ".join(f"{row[o]:>{w}}" for o, w in zip(OUTCOMES, (7, 7, 8, 8), strict=True))
            write(f"{clause.label:<9} {len(row['tests']):>5} {counts}", red=bool(row["failed"]))
            if self.verbose:
                for nodeid, outcome in row["tests"].items():
                    write(f"            {outcome:<8} {nodeid}")
        for nodeid, finding in self.findings.items():
            write(f"differs: {nodeid}: {finding}", yellow=True)
        if self.report_path is not None:
            write(f"clause report: {self.report_path}")
