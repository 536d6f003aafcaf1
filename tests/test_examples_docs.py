"""Every Python and shell example of docs/, run as written (see `tests/examples.py` for
how a block says how it runs).

Script examples talk to a `mock-pokee serve` started the way the block says (by default
as `make serve` starts it), each with a key of its own in ``POKEE_API`` and ``POKEE_KEY``.
Test-file examples run under pytest as a user's suite would: the plugin from its entry
point, no pytest-timeout (a hang is bounded here, from outside, and fails the example).
The examples are split over two test files so that pytest-xdist runs them side by side.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.examples import Example, Servers, all_examples, run_example

EXAMPLES = [e for e in all_examples() if e.runs and e.document.parent.name == "docs"]


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.name)
def test_example(example: Example, servers: Servers, tmp_path: Path) -> None:
    run_example(example, servers, tmp_path)
