"""Fixtures shared by test modules of this folder."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.examples import Servers


@pytest.fixture(scope="module")
def servers() -> Iterator[Servers]:
    """The `mock-pokee serve` processes a module's documentation examples talk to, one per
    way of starting it that a block asks for, stopped when the module is done."""
    running = Servers()
    yield running
    running.stop()
