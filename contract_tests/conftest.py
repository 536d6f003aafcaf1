"""Chooses the target of the contract tests and gives each test a clean tenant.

- Default: the mock, served by uvicorn on an ephemeral port in a thread (real sockets).
- ``POKEE_API`` (and ``POKEE_KEY``) set: that deployment. Tests marked ``mock_only`` need the
  control plane and are skipped there; a failing ``inferred`` test (a [C] clause) is
  reported as "inferred clause differs" instead of as a failure.

Each test gets a fresh tenant key on the mock (``pk_<random>_contract``), so tests share one
server yet never see each other's sessions, clock or state (C2). Against a deployment there
is only the one key, so every test cleans up the sessions it made.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator

import httpx
import pytest

from contract_tests.observed import undocumented
from contract_tests.target import Target, client_for, external_target, new_key
from mock_pokee.server import ThreadedServer
from mock_pokee.settings import Settings


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if external_target() is None:
        return
    skip = pytest.mark.skip(reason="mock_only: needs the mock's /_mock control plane")
    for item in items:
        if "mock_only" in item.keywords:
            item.add_marker(skip)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.failed and "inferred" in item.keywords and external_target() is not None:
        report.outcome = "skipped"
        report.wasxfail = "inferred clause differs on this deployment"
    return report


@pytest.fixture(scope="session")
def mock_server() -> Iterator[ThreadedServer | None]:
    """The in-process mock, started once for the whole run; None against a deployment."""
    if external_target() is not None:
        yield None
        return
    with ThreadedServer(Settings(port=0)) as server:
        yield server


@pytest.fixture(scope="session", autouse=True)
def _every_status_is_documented(mock_server: ThreadedServer | None) -> Iterator[None]:
    """After the run: each status the mock gave on a /v1 operation is in its OpenAPI
    document (an error at the teardown of the last test if not)."""
    yield
    if mock_server is not None:
        missing = undocumented()
        assert not missing, "statuses the server gave that openapi.yaml does not list:\n" + (
            "\n".join(missing)
        )


@pytest.fixture(scope="session")
def target(mock_server: ThreadedServer | None) -> Target:
    if mock_server is None:
        external = external_target()
        assert external is not None
        return external
    return Target(url=mock_server.url, key=None, is_mock=True)


@pytest.fixture(autouse=True)
def _no_server_errors(mock_server: ThreadedServer | None) -> Iterator[None]:
    """Fail the test that made the mock raise unexpectedly (a 500 is a mock bug)."""
    before = len(mock_server.errors) if mock_server else 0
    yield
    if mock_server is not None and len(mock_server.errors) > before:
        new = mock_server.errors[before:]
        pytest.fail(f"the mock raised {len(new)} unexpected error(s): {new!r}")


@pytest.fixture
def key(target: Target) -> str:
    return target.key if target.key is not None else new_key()


@pytest.fixture
def api(target: Target, key: str) -> Iterator[httpx.Client]:
    """An httpx client of the target with this test's key. Cleans up after itself."""
    with client_for(target, key) as client:
        yield client
        if not target.is_mock:
            client.delete("/v1/sessions", params={"status": "any"})


@pytest.fixture
def anon(target: Target) -> Iterator[httpx.Client]:
    """A client with no Authorization header."""
    with client_for(target, None) as client:
        yield client


@pytest.fixture
def control(target: Target, key: str) -> Iterator[httpx.Client]:
    """The mock's control plane for this test's tenant (C2)."""
    with client_for(target, key) as client:
        yield client
