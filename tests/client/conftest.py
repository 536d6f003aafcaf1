"""The client's tests run against the mock over real sockets: one server on a virtual clock
for the whole run, and a fresh tenant key per test, so no test sees another's sessions,
files, usage or time (C2). Time moves only when a test moves it."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import httpx
import pytest

from mock_pokee.server import ThreadedServer
from mock_pokee.settings import Settings
from pokee_client import PokeeClient, RetryPolicy
from tests.client.helpers import Sleeper


@pytest.fixture(scope="session")
def mock() -> Iterator[ThreadedServer]:
    with ThreadedServer(Settings(port=0, clock_mode="virtual")) as server:
        yield server


@pytest.fixture(autouse=True)
def _no_mock_errors(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test that made the mock fail unexpectedly fails itself (a 500 is a mock bug)."""
    if "mock" not in request.fixturenames:
        yield
        return
    server: ThreadedServer = request.getfixturevalue("mock")
    before = len(server.errors)
    yield
    assert server.errors[before:] == []


@pytest.fixture
def key() -> str:
    return f"pk_t{secrets.token_hex(6)}_client"


@pytest.fixture
def control(mock: ThreadedServer, key: str) -> Iterator[httpx.Client]:
    """This test's tenant, seen directly: its clock and state (C1–C3)."""
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=mock.url, headers=headers, timeout=10) as client:
        yield client


@pytest.fixture
def sleeper(control: httpx.Client) -> Sleeper:
    return Sleeper(control)


@pytest.fixture
def client(mock: ThreadedServer, key: str, sleeper: Sleeper) -> Iterator[PokeeClient]:
    """A client whose every wait moves this tenant's clock instead of real time."""
    retry = RetryPolicy(jitter=lambda: 0.5)
    with PokeeClient(
        mock.url, key, sleep=sleeper, retry=retry, watch_interval=0.02, timeout=10
    ) as pokee:
        yield pokee
