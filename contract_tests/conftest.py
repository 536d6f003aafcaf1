"""Chooses the target of the contract tests, gives each test a clean tenant, and leaves
the target as it found it.

- Default: the mock, served by uvicorn on an ephemeral port in a thread (real sockets),
  with the contract tests' own scenarios (contract_tests/scenarios/) and any given with
  ``--scenarios DIR``.
- ``POKEE_API`` (and ``POKEE_KEY``) set: that deployment. Tests marked ``mock_only`` need the
  control plane and are skipped there, and so are tests marked ``destructive`` (they
  delete sessions they did not create, or depend on the tenant's limits) unless
  ``--allow-destructive`` is given; a failing ``inferred`` test (a [C] clause) is
  reported as "inferred clause differs" instead of as a failure.

Each test gets a fresh tenant key on the mock (``pk_<random>_contract``), so tests share one
server yet never see each other's sessions, clock or state (C2). Against a deployment there
is only the one key, so every test removes the sessions and files it made (see
`contract_tests.cleanup`), whether it passed or not; on the mock a test that would leave
something behind fails.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from pathlib import Path

import httpx
import pytest

from mock_pokee.server import ThreadedServer
from mock_pokee.settings import Settings

from . import sse
from .cleanup import LEDGER, Tally, clean_up, unique_folder
from .coverage import ClauseCoverage, is_contract_test
from .observed import undocumented
from .target import (
    OWN_SCENARIOS,
    Target,
    client_for,
    external_target,
    new_key,
    tls,
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("contract tests")
    group.addoption(
        "--allow-destructive",
        action="store_true",
        help="against POKEE_API, also run tests that delete sessions they did not create "
        "or depend on the tenant's limits (marked destructive)",
    )
    group.addoption(
        "--clause-report",
        type=Path,
        metavar="PATH",
        help="write the clause coverage table (clause → tests → outcomes) as JSON to PATH",
    )
    group.addoption(
        "--scenarios",
        action="append",
        type=Path,
        default=[],
        metavar="DIR",
        help="scenario files for the in-process mock and the scenario matrix (repeatable)",
    )
    group.addoption(
        "--diff-against",
        metavar="URL",
        help="also run the seeded differential sequence against URL and report differences",
    )
    group.addoption(
        "--diff-seed",
        type=int,
        default=1,
        metavar="N",
        help="the seed of the differential sequence (default 1)",
    )
    group.addoption(
        "--model-profile",
        choices=("fast", "real", "thorough"),
        help="the model-based test's hypothesis profile (default: fast on the in-process "
        "mock, real against POKEE_API)",
    )


MARKERS = (
    "mock_only: needs the mock's control plane (/_mock); skipped against other targets",
    "inferred: checks a [C] clause; against a deployment a failure reads 'inferred clause differs'",
    "destructive: deletes sessions it did not create or depends on the tenant's limits; "
    "skipped against POKEE_API unless --allow-destructive",
)


def pytest_configure(config: pytest.Config) -> None:
    for marker in MARKERS:
        config.addinivalue_line("markers", marker)
    if not config.pluginmanager.has_plugin("contract-clause-coverage"):
        coverage = ClauseCoverage(config.getoption("--clause-report"), config)
        config.pluginmanager.register(coverage, "contract-clause-coverage")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if external_target() is None:
        return
    mock_only = pytest.mark.skip(reason="mock_only: needs the mock's /_mock control plane")
    destructive = pytest.mark.skip(
        reason="destructive: deletes sessions it did not create or depends on the tenant's "
        "limits; --allow-destructive runs it"
    )
    allow = config.getoption("--allow-destructive")
    for item in items:
        if not is_contract_test(item):
            continue
        if "mock_only" in item.keywords:
            item.add_marker(mock_only)
        elif "destructive" in item.keywords and not allow:
            item.add_marker(destructive)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.failed and "inferred" in item.keywords and external_target() is not None:
        report.outcome = "skipped"
        report.wasxfail = f"inferred clause differs on this deployment: {_finding(report)}"
    return report


FINDING_LIMIT = 500  # characters of the assertion a "differs" carries into the summary


def _finding(report: pytest.TestReport) -> str:
    """What was expected and what came back: the failed assertion's message, on one line
    (the terminal's summary and JUnit's skipped message show it)."""
    crash = getattr(report.longrepr, "reprcrash", None)
    text = crash.message if crash is not None else str(report.longrepr)
    line = " ".join(text.split())
    return line if len(line) <= FINDING_LIMIT else line[: FINDING_LIMIT - 1] + "…"


@pytest.fixture(scope="session")
def mock_server(request: pytest.FixtureRequest) -> Iterator[ThreadedServer | None]:
    """The in-process mock, started once for the whole run; None against a deployment."""
    if external_target() is not None:
        yield None
        return
    folders = (*request.config.getoption("--scenarios"), OWN_SCENARIOS)
    with ThreadedServer(Settings(port=0, scenario_folders=folders)) as server:
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


@pytest.fixture(scope="session", autouse=True)
def _what_the_run_spent(
    request: pytest.FixtureRequest, mock_server: ThreadedServer | None
) -> Iterator[None]:
    """On a deployment, the tenant's credit balance before and after the run (U2), for
    the closing summary."""
    external = external_target() if mock_server is None else None
    if external is not None:
        SPENT["before"] = _balance(external)
    yield
    if external is not None:
        SPENT["after"] = _balance(external)


SPENT: dict[str, float | None] = {}


def _balance(target: Target) -> float | None:
    with client_for(target, target.key) as api:
        answer = api.get("/v1/usage")
    try:
        return float(answer.json()["credits"]["balance"])
    except (ValueError, KeyError, TypeError):
        return None


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """What the run made on the target, what it left there and what it spent."""
    if hasattr(terminalreporter.config, "workerinput"):
        return  # an xdist worker: its tally is a part
    tally = LEDGER.tally
    if not (tally.sessions or tally.files or tally.turns or tally.skills or tally.response_posts):
        return
    write = terminalreporter.write_line
    terminalreporter.section("what the run did to the target")
    write(
        f"created {tally.sessions} sessions and {tally.files} files, installed {tally.skills} "
        f"skills, started {len(tally.turns)} turns, made {len(tally.responses)} /v1/responses "
        "calls"
    )
    if tally.response_posts:
        write(_response_bucket(tally))
    if tally.left_behind:
        write(f"left behind ({len(tally.left_behind)}): {'; '.join(tally.left_behind)}", red=True)
    else:
        write("left behind: no session and no file")
    if tally.folders:
        shown = ", ".join(sorted(tally.folders)[:5]) + (", …" if len(tally.folders) > 5 else "")
        write(f"empty folders left (the API cannot delete a folder): {len(tally.folders)}: {shown}")
    before, after = SPENT.get("before"), SPENT.get("after")
    if before is not None and after is not None:
        write(f"credits: {before:,.4f} before, {after:,.4f} after: spent {before - after:,.4f}")


def _response_bucket(tally: Tally) -> str:
    """R7: what the run's /v1/responses calls used of the tenant's response bucket (each
    answered call once, an idempotent replay not again), and their credit at U2's
    documented rates (a cancelled response is not billed, R6)."""
    tokens = sum(tally.response_tokens.values())
    known = [c for c in tally.response_credit.values() if c is not None]
    line = (
        f"response bucket: {tokens:,} tokens and {sum(known):,.4f} of credit at the documented "
        f"rates for the {len(tally.responses)} calls answered ({tally.response_posts} POST "
        "/v1/responses in all: the others were refused or idempotent replays)"
    )
    unread = len(tally.responses) - len(tally.response_tokens)
    if unread:
        line += f"; {unread} calls' usage was not read"
    unpriced = len(tally.response_credit) - len(known)
    if unpriced:
        line += f"; {unpriced} calls were of a model without a documented rate"
    return line


@pytest.fixture(scope="session")
def target(mock_server: ThreadedServer | None) -> Target:
    if mock_server is None:
        external = external_target()
        assert external is not None
        sse.MOCK_CHOICES = False  # a deployment is held to the contract, not our choices
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
    """An httpx client of the target with this test's key; what it creates is recorded
    and removed after the test (`_leave_nothing_behind`)."""
    with client_for(target, key) as client:
        yield client


@pytest.fixture(autouse=True)
def _leave_nothing_behind(
    request: pytest.FixtureRequest, target: Target, key: str
) -> Iterator[None]:
    """After each test, delete the sessions, files and skills it created (`cleanup`),
    whatever its outcome. On the mock, a test that runs against deployments too must then have
    left its tenant empty; a mock-only test has a tenant of its own and is not cleaned."""
    LEDGER.take()
    yield
    mock_only = request.node.get_closest_marker("mock_only") is not None
    if target.is_mock and mock_only:
        LEDGER.take()
        return
    problems = clean_up(target.url, tls())
    if target.is_mock:
        with client_for(target, key) as control:
            state = control.get("/_mock/state").json()
        problems += [f"session {s['id']} left behind" for s in state["sessions"]]
        problems += [f"file {f['path']} left behind" for f in state["files"]]
        problems += [f"skill {s['name']} left behind" for s in state["skills"]]
    if problems:
        pytest.fail("the test left the target changed: " + "; ".join(problems))


@pytest.fixture
def folder() -> str:
    """This test's own workspace folder, ``ct-<hex>/``: files go here, never at the root."""
    return unique_folder()


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
