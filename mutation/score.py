"""The score of a run: what mutmut decided for each sampled mutant, with the verdicts
docs/testing.md gives the survivors.

docs/testing.md's survivors table is the one list of verdicts, a row per mutant:

- ``equivalent``: the mutant changes no behaviour anyone could observe, so no test can
  kill it; it leaves the score's denominator.
- ``import-time``: the mutated function runs while its module is imported (a route table
  built by a helper), so mutmut, which picks a mutant's tests by the calls it saw in a
  test, runs only the test that happened to import the module. The row names the test
  that does check it; each run tests the mutant against that test again, and it counts
  as killed only when that test fails (`confirm`).

The score is killed / (tested - equivalent); a timeout or a crash of the test process
counts as killed.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from mutmut.stats import status_by_exit_code

from mutation.scopes import TREE_PREFIX

DOC = Path("docs") / "testing.md"
MUTANTS = Path("mutants")
CONFIRMED_FILE = MUTANTS / "import-time-confirmed.json"
_ROW = re.compile(r"^\|\s*`(?P<name>[^`]+__mutmut_\d+)`\s*\|(?P<verdict>[^|]*)\|(?P<why>.*)\|$")
_TEST_ID = re.compile(r"`(?P<test>(?:tests|contract_tests)/[^`]+)`")
# A mutant that hangs the suite (timeout) or crashes its process (segfault: SIGSEGV or
# SIGKILL) fails the run as surely as a failing test.
KILLED = frozenset({"killed", "timeout", "segfault"})
UNDECIDED = frozenset({"not checked", "check was interrupted by user", "skipped"})


@dataclass(frozen=True)
class Verdict:
    """A survivor's row in docs/testing.md: ``equivalent``, or ``import-time`` with the
    test that kills it."""

    kind: str
    test: str | None = None


def statuses(root: Path = MUTANTS) -> dict[str, str]:
    """Every mutant mutmut has a record of, with its status (``killed``, ``survived`` …)."""
    found: dict[str, str] = {}
    for meta in root.rglob("*.py.meta"):
        if meta.relative_to(root).parts[0].startswith(TREE_PREFIX):
            continue  # another scope's tree, with mutants of its own
        codes: dict[str, int | None] = json.loads(meta.read_text())["exit_code_by_key"]
        found.update({name: str(status_by_exit_code[code]) for name, code in codes.items()})
    return found


def verdicts(doc: Path = DOC) -> dict[str, Verdict]:
    """The survivors docs/testing.md gives a verdict."""
    if not doc.exists():
        return {}
    found = {}
    for line in doc.read_text(encoding="utf-8").splitlines():
        row = _ROW.match(line.strip())
        if row is None:
            continue
        kind = row["verdict"].strip().lower()
        if kind == "equivalent":
            found[row["name"]] = Verdict(kind)
        elif kind == "import-time" and (test := _TEST_ID.search(row["why"])):
            found[row["name"]] = Verdict(kind, test["test"])
    return found


def confirm(survivors: list[str], given: dict[str, Verdict]) -> list[str]:
    """The import-time survivors that the test their row names kills, tested now (in
    mutants/, as mutmut runs them); saved for `report`."""
    confirmed = []
    for name in survivors:
        verdict = given.get(name)
        if verdict is None or verdict.test is None:
            continue
        run = subprocess.run(
            [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", verdict.test],
            cwd=MUTANTS,
            env={**os.environ, "MUTANT_UNDER_TEST": name},
            capture_output=True,
            check=False,
        )
        if run.returncode == 1:  # tests failed; anything else (no such test) proves nothing
            confirmed.append(name)
    CONFIRMED_FILE.write_text(json.dumps(confirmed))
    return confirmed


def confirmed_before() -> set[str]:
    return set(json.loads(CONFIRMED_FILE.read_text())) if CONFIRMED_FILE.exists() else set()


@dataclass
class Score:
    """The outcome of the sampled mutants of one run."""

    by_status: Counter[str] = field(default_factory=Counter)
    survivors: list[str] = field(default_factory=list)  # not killed, no verdict
    equivalent: list[str] = field(default_factory=list)
    import_time: list[str] = field(default_factory=list)  # killed by the test named

    @property
    def killed(self) -> int:
        return sum(self.by_status[status] for status in KILLED) + len(self.import_time)

    @property
    def counted(self) -> int:
        """Mutants decided and not equivalent: the score's denominator."""
        decided = sum(n for status, n in self.by_status.items() if status not in UNDECIDED)
        return decided - len(self.equivalent)

    @property
    def percent(self) -> float:
        return 100.0 * self.killed / self.counted if self.counted else 0.0


def score(
    sampled: list[str], found: dict[str, str], given: dict[str, Verdict], confirmed: set[str]
) -> Score:
    result = Score()
    for name in sampled:
        status = found.get(name, "not checked")
        result.by_status[status] += 1
        if status in KILLED or status in UNDECIDED:
            continue
        verdict = given.get(name)
        if verdict is not None and verdict.kind == "equivalent":
            result.equivalent.append(name)
        elif name in confirmed:
            result.import_time.append(name)
        else:
            result.survivors.append(name)
    return result
