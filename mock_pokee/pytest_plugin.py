"""The pytest plugin: installed with the package (entry point ``pytest11``), nothing to
configure.

- ``pokee_server`` (session scope): the mock on an ephemeral port with the virtual
  clock, started once per test process; with ``--pokee-url URL`` (or
  ``MOCK_POKEE_URL``), a mock already running there instead, which pytest-xdist
  workers can share.
- ``pokee`` (per test): a `mock_pokee.testing.TenantHandle` for a tenant of its own —
  ``url``, ``key``, ``headers``, ``http`` (an httpx client with the key), ``client`` (the
  reference client, `pokee_client.PokeeClient`, for that tenant), and ``clock``,
  ``faults``, ``journal``, ``reset()``, ``state()``. Tests never see each other's
  sessions, files, clock, faults or journal (C2), in parallel or not. After the test its
  tenant is reset, and the test fails if the in-process mock raised an unexpected error
  while it ran (a 500 is a mock bug, reported where it happened).

Nothing heavy is imported until a fixture is used.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from mock_pokee.testing import MockServer, TenantHandle

URL_ENV = "MOCK_POKEE_URL"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mock-pokee")
    group.addoption(
        "--pokee-url",
        default=None,
        metavar="URL",
        help=f"use the mock running at URL instead of starting one (or set {URL_ENV})",
    )


class PokeeServer:
    """The mock the tests run against: started here, or already running elsewhere."""

    def __init__(self, url: str, server: MockServer | None = None):
        self.url = url
        self.server = server

    @property
    def errors(self) -> list[BaseException]:
        """Unexpected errors of the in-process mock (none known for a remote one)."""
        return self.server.errors if self.server is not None else []

    def tenant(self, key: str | None = None) -> TenantHandle:
        from mock_pokee.testing import TenantHandle, new_key

        return TenantHandle(self.url, key or new_key("pytest"))


@pytest.fixture(scope="session")
def pokee_server(request: pytest.FixtureRequest) -> Iterator[PokeeServer]:
    url = request.config.getoption("--pokee-url") or os.environ.get(URL_ENV)
    if url:
        yield PokeeServer(url.rstrip("/"))
        return
    from mock_pokee.testing import MockServer

    with MockServer() as server:
        yield PokeeServer(server.url, server)


@pytest.fixture
def pokee(pokee_server: PokeeServer) -> Iterator[TenantHandle]:
    before = len(pokee_server.errors)
    with pokee_server.tenant() as tenant:
        yield tenant
        tenant.reset()
    new = pokee_server.errors[before:]
    if new:
        pytest.fail(f"the mock raised {len(new)} unexpected error(s) during this test: {new!r}")
