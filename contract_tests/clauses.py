"""The clause ids of the contract (mock_pokee/contract.md), and which ids a test cites.

A test cites a clause in its name (``test_s6_…``, ``test_m7_m8_…``) or in its docstring
(``"S6 [C]: …"``, ``"M5 and M7"``, ``"S1–S8"`` for every numbered clause between); the
coverage report (`contract_tests.coverage`) and
the check that every clause is cited (`test_clauses.py`) both read citations through
`cited`, so the two can never disagree about what a test covers.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path

CONTRACT = Path(str(files("mock_pokee") / "contract.md"))  # installed with the package
TESTS = Path(__file__).resolve().parent

# "- **S6 [D]** …", "- **R2 [O]** …", "- **C1** Clock. …", "- **D** A scenario …"
_HEADING = re.compile(r"^- \*\*([A-Z]\d*[a-z]?)(?: \[([DCO])\])?\*\*", re.MULTILINE)
# In prose: S1, S1a, M12, K2, R5 … (never inside a word); D alone, but not the [D] tag.
_IN_PROSE = re.compile(r"(?<![\w\[])([ASMFUKRC]\d{1,2}[a-z]?|D)(?![\w\]])")
# A range, "S1–S8": every numbered clause between (S1a and S1b are not numbered ones).
_RANGE = re.compile(r"(?<!\w)([ASMFUKRC])(\d{1,2})[–-]\1(\d{1,2})(?!\w)")


@dataclass(frozen=True)
class Clause:
    id: str
    tag: str  # "D", "C", "O" (OpenAI's reference, section R), or "" for sections C and D

    @property
    def label(self) -> str:
        return f"{self.id} [{self.tag}]" if self.tag else self.id


@cache
def clauses() -> tuple[Clause, ...]:
    """Every clause of the contract (mock_pokee/contract.md), in the document's order."""
    found = [Clause(m[1], m[2] or "") for m in _HEADING.finditer(CONTRACT.read_text("utf-8"))]
    ids = [c.id for c in found]
    duplicates = {i for i in ids if ids.count(i) > 1}
    assert not duplicates, (
        f"the contract (mock_pokee/contract.md) defines these clause ids twice: {duplicates}"
    )
    return tuple(found)


@cache
def clause_ids() -> frozenset[str]:
    return frozenset(c.id for c in clauses())


@cache
def _by_lowercase() -> dict[str, str]:
    return {i.lower(): i for i in clause_ids()}


def cited(name: str, docstring: str | None) -> set[str]:
    """The clause ids (known or not) a test cites by its name and its docstring."""
    ids = set()
    lowercase = _by_lowercase()
    for token in name.split("_"):
        if token in lowercase:
            ids.add(lowercase[token])
    ids.update(_IN_PROSE.findall(docstring or ""))
    for letter, first, last in _RANGE.findall(docstring or ""):
        ids.update(f"{letter}{n}" for n in range(int(first), int(last) + 1))
    return ids


@dataclass(frozen=True)
class Citation:
    where: str  # "test_sessions.py::test_s1_defaults"
    ids: frozenset[str]


def citations_in_source() -> list[Citation]:
    """Every citation in contract_tests/test_*.py, read from the source (so a run of a
    few tests still checks the whole suite): test functions, and the classes of a test
    module with their methods (a state machine's rules cite what they exercise)."""
    found = []
    for path in sorted(TESTS.glob("test_*.py")):
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            is_test = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and (
                node.name.startswith("test_")
            )
            if is_test or isinstance(node, ast.ClassDef):
                assert isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
                ids = cited(node.name, ast.get_docstring(node))
                if isinstance(node, ast.ClassDef):
                    for member in node.body:
                        if isinstance(member, ast.FunctionDef | ast.AsyncFunctionDef):
                            ids |= cited("", ast.get_docstring(member))
                if ids:
                    found.append(Citation(f"{path.name}::{node.name}", frozenset(ids)))
    return found
