"""Every Python and shell example of the README and scenarios/README.md, run as written
(see `tests/examples.py` for how a block says how it runs).

Script examples talk to a `mock-pokee serve` started the way the block says (by default
as `make serve` starts it), each with a key of its own in ``POKEE_API`` and ``POKEE_KEY``.
Test-file examples run under pytest as a user's suite would: the plugin from its entry
point, no pytest-timeout (a hang is bounded here, from outside, and fails the example).
The examples are split over two test files so that pytest-xdist runs them side by side.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import examples
from tests.examples import Example, Servers, all_examples, run_example

EXAMPLES = [e for e in all_examples() if e.runs and e.document.parent.name != "docs"]


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.name)
def test_example(example: Example, servers: Servers, tmp_path: Path) -> None:
    run_example(example, servers, tmp_path)


def test_directives_are_only_on_examples_that_run() -> None:
    misplaced = [e.name for e in all_examples() if e.directives and not e.runs]
    assert misplaced == []


def test_there_are_examples_to_run() -> None:
    """The parser finds the README's blocks (a broken parser would pass every example)."""
    readme = [e for e in EXAMPLES if e.document.name == "README.md"]
    assert len(readme) >= 5
    assert any("pytest" in e.directives for e in readme)
    assert any(e.language == "python" and not e.directives for e in EXAMPLES)


@pytest.mark.parametrize(
    ("code", "failure"), [("exit 3\n", "exited 3"), ("sleep 30\n", "hung: no end within 1 s")]
)
def test_an_example_that_fails_or_hangs_fails(
    servers: Servers, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: str, failure: str
) -> None:
    monkeypatch.setattr(examples, "BOUND", 1.0)
    broken = Example(examples.REPO / "README.md", 1, "sh", code, {})
    with pytest.raises(pytest.fail.Exception, match=failure):
        run_example(broken, servers, tmp_path)
