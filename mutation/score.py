"""The score of a run: what mutmut decided for each sampled mutant, less the equivalents.

An equivalent mutant changes no behaviour anyone could observe, so no test can kill it;
docs/testing.md names each one with the reason, in its survivors table (the second column,
the verdict, says ``equivalent``). That table is the one list: the score is
killed / (tested - equivalent), a timeout counting as killed (the mutant hung the suite).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from mutmut.stats import status_by_exit_code

DOC = Path("docs") / "testing.md"
_ROW = re.compile(r"^\|\s*`(?P<name>[^`]+__mutmut_\d+)`\s*\|(?P<cells>.*)\|\s*$")
KILLED = frozenset({"killed", "timeout"})
UNDECIDED = frozenset({"not checked", "check was interrupted by user", "skipped"})


def statuses(root: Path = Path("mutants")) -> dict[str, str]:
    """Every mutant mutmut has a record of, with its status (``killed``, ``survived`` …)."""
    found: dict[str, str] = {}
    for meta in root.rglob("*.py.meta"):
        codes: dict[str, int | None] = json.loads(meta.read_text())["exit_code_by_key"]
        found.update({name: str(status_by_exit_code[code]) for name, code in codes.items()})
    return found


def equivalents(doc: Path = DOC) -> set[str]:
    """The mutants docs/testing.md's survivors table calls equivalent."""
    if not doc.exists():
        return set()
    named = set()
    for line in doc.read_text(encoding="utf-8").splitlines():
        row = _ROW.match(line.strip())
        if row and "equivalent" in row["cells"].split("|")[0].lower():
            named.add(row["name"])
    return named


@dataclass
class Score:
    """The outcome of the sampled mutants of one run."""

    by_status: Counter[str] = field(default_factory=Counter)
    survivors: list[str] = field(default_factory=list)  # not killed and not equivalent
    equivalent: list[str] = field(default_factory=list)

    @property
    def killed(self) -> int:
        return sum(self.by_status[status] for status in KILLED)

    @property
    def counted(self) -> int:
        """Mutants decided and not equivalent: the score's denominator."""
        decided = sum(n for status, n in self.by_status.items() if status not in UNDECIDED)
        return decided - len(self.equivalent)

    @property
    def percent(self) -> float:
        return 100.0 * self.killed / self.counted if self.counted else 0.0


def score(sampled: list[str], found: dict[str, str], equivalent: set[str]) -> Score:
    result = Score()
    for name in sampled:
        status = found.get(name, "not checked")
        result.by_status[status] += 1
        if status in KILLED or status in UNDECIDED:
            continue
        (result.equivalent if name in equivalent else result.survivors).append(name)
    return result
