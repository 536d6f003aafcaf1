"""The suite's own contract: every clause of the contract (mock_pokee/contract.md) is
checked by some test.

Citations are read from the source of contract_tests/test_*.py (see `clauses.cited`), so
the check holds for the whole suite even when a run selects only a few tests. These tests
touch no target.
"""

from __future__ import annotations

from .clauses import citations_in_source, clause_ids, clauses


def _cited_here() -> set[str]:
    return set().union(*(c.ids for c in citations_in_source()))


def test_every_clause_is_cited_by_a_test() -> None:
    """A clause no test names is a clause nobody checks."""
    missing = clause_ids() - _cited_here()
    assert not missing, f"no contract test cites {sorted(missing)} (name or docstring)"


def test_no_test_cites_a_clause_the_contract_lacks() -> None:
    """A citation of an id the contract (mock_pokee/contract.md) does not define is a typo
    or a stale id."""
    wrong = [
        f"{c.where} cites {sorted(c.ids - clause_ids())}"
        for c in citations_in_source()
        if c.ids - clause_ids()
    ]
    assert not wrong, "\n".join(wrong)


def test_the_contract_tags_its_clauses() -> None:
    """The API's sections say where each rule comes from ([D] or [C]); the mock's own
    sections (its control plane, its scenarios) have no tag."""
    for clause in clauses():
        mock_own = clause.id[0] in "CD"
        assert (clause.tag == "") == mock_own, clause
