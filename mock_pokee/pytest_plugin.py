"""The pytest plugin: installed with the package (entry point ``pytest11``), nothing to
configure (scenario folders of one's own are an option).

- ``pokee_server`` (session scope): the mock on an ephemeral port with the autojump clock
  (C1: virtual time that moves only while a client waits on a turn), started once per test
  process, serving the scenario folders the ``pokee_scenarios`` ini option and
  ``--pokee-scenarios DIR`` name (recordings of ``mock-pokee record`` too) before its
  built-ins; with ``--pokee-url URL`` (or ``MOCK_POKEE_URL``), a mock already running there
  instead, which pytest-xdist workers can share.
- ``pokee`` (per test): a `mock_pokee.testing.TenantHandle` for a tenant of its own —
  ``url``, ``key``, ``headers``, ``http`` (an httpx client with the key), ``client`` (the
  reference client, `pokee_client.PokeeClient`, for that tenant, waiting on the mock's
  clock), ``sleep``, ``requests()``, and ``clock``, ``faults``, ``journal``, ``reset()``,
  ``state()``. Tests never see each other's sessions, files, clock, faults or journal
  (C2), in parallel or not. After the test its tenant is emptied and forgotten, and the
  test fails if the in-process mock raised an unexpected error while it ran (a 500 is a
  mock bug, reported where it happened).
- ``@pytest.mark.pokee(clock="virtual", strict=True, allow=[404])``: the test's clock mode,
  and strict mode, which fails the test if the mock answered an error status that no fault
  injected (``allow`` lists statuses the test expects). The ``pokee_strict`` ini option
  makes strict the default.

Nothing heavy is imported until a fixture is used.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from mock_pokee.testing import MockServer, SharedTransport, TenantHandle

URL_ENV = "MOCK_POKEE_URL"
MARKER = (
    "pokee(clock=None, strict=False, allow=()): the mock-pokee test's clock mode "
    "(real, scaled, virtual, autojump), and strict mode: fail on an error answer no fault "
    "injected, except the statuses in allow"
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mock-pokee")
    group.addoption(
        "--pokee-url",
        default=None,
        metavar="URL",
        help=f"use the mock running at URL instead of starting one (or set {URL_ENV})",
    )
    group.addoption(
        "--pokee-scenarios",
        action="append",
        default=[],
        metavar="DIR",
        help="a folder of scenario files (recordings too) the in-process mock serves before "
        "its built-ins; repeatable, added to the pokee_scenarios ini option",
    )
    parser.addini(
        "pokee_scenarios",
        "folders of scenario files (recordings too) the in-process mock serves before its "
        "built-ins, relative to the ini file",
        type="paths",
        default=[],
    )
    parser.addini(
        "pokee_strict",
        "fail every test using `pokee` on an error answer no fault injected",
        type="bool",
        default=False,
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER)


class PokeeServer:
    """The mock the tests run against: started here, or already running elsewhere."""

    def __init__(self, url: str, server: MockServer | None = None):
        self.url = url
        self.server = server
        self._transport: SharedTransport | None = None

    @property
    def errors(self) -> list[BaseException]:
        """Unexpected errors of the in-process mock (none known for a remote one)."""
        return self.server.errors if self.server is not None else []

    def tenant(self, key: str | None = None) -> TenantHandle:
        """A handle on a fresh tenant. Its key names this xdist worker, so two workers
        sharing one mock can never draw the same tenant."""
        from mock_pokee.testing import SharedTransport, TenantHandle, new_key

        if self._transport is None:
            self._transport = SharedTransport()
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        job = "pytest-" + "".join(c for c in worker if c.isalnum())[:16]
        return TenantHandle(self.url, key or new_key(job), self._transport)

    def release(self, tenant: TenantHandle) -> None:
        """A test is over: its tenant is emptied. The in-process mock forgets it on its
        own loop (no round trip); a remote one is asked with ``POST /_mock/reset``."""
        if self.server is not None and tenant.key is not None:
            self.server.drop_tenant(tenant.key)
        else:
            tenant.reset()

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close_pool()


@pytest.fixture(scope="session")
def pokee_server(request: pytest.FixtureRequest) -> Iterator[PokeeServer]:
    url = request.config.getoption("--pokee-url") or os.environ.get(URL_ENV)
    if url:
        remote = PokeeServer(url.rstrip("/"))
        yield remote
        remote.close()
        return
    from mock_pokee.testing import MockServer

    folders = [*request.config.getini("pokee_scenarios")]
    folders += [Path(folder) for folder in request.config.getoption("--pokee-scenarios")]
    with MockServer(scenario_folders=tuple(folders)) as server:
        local = PokeeServer(server.url, server)
        yield local
        local.close()


@pytest.fixture
def pokee(request: pytest.FixtureRequest, pokee_server: PokeeServer) -> Iterator[TenantHandle]:
    options = _options(request)
    before = len(pokee_server.errors)
    with pokee_server.tenant() as tenant:
        if options.get("clock") is not None:
            tenant.clock.set(mode=options["clock"])
        yield tenant
        unexpected = _unexpected_errors(tenant, options, request)
        pokee_server.release(tenant)
    new = pokee_server.errors[before:]
    if new:
        pytest.fail(f"the mock raised {len(new)} unexpected error(s) during this test: {new!r}")
    if unexpected:
        pytest.fail(
            "strict mode: the mock answered errors that no fault injected:\n"
            + "\n".join(unexpected)
        )


def _options(request: pytest.FixtureRequest) -> dict[str, Any]:
    marker = request.node.get_closest_marker("pokee")
    options: dict[str, Any] = {"strict": request.config.getini("pokee_strict")}
    if marker is not None:
        if marker.args:
            raise pytest.UsageError("@pytest.mark.pokee takes keyword arguments only")
        unknown = set(marker.kwargs) - {"clock", "strict", "allow"}
        if unknown:
            raise pytest.UsageError(f"@pytest.mark.pokee: unknown options {sorted(unknown)}")
        options.update(marker.kwargs)
    return options


def _unexpected_errors(
    tenant: TenantHandle, options: dict[str, Any], request: pytest.FixtureRequest
) -> list[str]:
    """Strict mode: the answers of 400 and above that no fault rule or header caused."""
    rep = getattr(request.node, "rep_call", None)
    if not options.get("strict") or (rep is not None and rep.failed):
        return []  # a test that failed already says why
    allowed = set(options.get("allow", ()))
    return [
        f"  {entry['method']} {entry['path']} → {entry['status']}"
        for entry in tenant.journal.requests()
        if (entry["status"] or 0) >= 400
        and entry.get("fault") is None
        and entry["status"] not in allowed
    ]


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Keep the call phase's report on the item, so strict mode can stay quiet about a
    test that already failed."""
    report = yield
    if report.when == "call":
        item.rep_call = report  # type: ignore[attr-defined]
    return report
