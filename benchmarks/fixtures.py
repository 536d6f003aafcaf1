"""What a test pays for the ``pokee`` fixture, beside what it pays for the nearest
equivalent of two peers, and the plain no-op test as pytest's own share.

Every system is a real pytest run in a subprocess, in one venv (`peers.fixtures_venv`):
one interpreter, one pytest, the same plugins loaded for every run, so that the only
difference between runs is the test file. A run is ``TESTS`` parametrized tests; its
first test pays the session-scoped start (the mock's server, httpserver's thread, moto's
first backend) and is reported apart as "start". moto's run has ``MOTO_TESTS`` tests: at
about 0.1 s a test, 300 would add a minute and a half to the part for no steadier a
median. The per-test cost of a system is its median testcase time minus the no-op's
median in the same round; the runs are repeated ``ROUNDS`` times, the systems interleaved
within each round so that all see the same machine, and each figure is the median of the
rounds with their spread (min–max).

The peers' tests are written as those tools' users write them:

- moto: a fixture entering a fresh ``mock_aws()`` and yielding a boto3 S3 client made
  inside it (moto's documented pattern); the test creates one bucket.
- pytest-httpserver: its ``httpserver`` fixture (one server per session, cleared after
  each test), one expectation and one POST from an ``httpx.Client`` opened once for the
  session. A client made per test would add httpx's own set-up (a TLS context: about
  35 ms here) to the peer's figure: that cost is httpx's, not the fixture's. ``pokee.http`` is a
  new client per test, on a connection pool the plugin shares, and its cost is the
  fixture's.
"""

from __future__ import annotations

import platform
import statistics
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks import peers, pytest_runs
from benchmarks.fixture_patterns import patterns
from benchmarks.servers import RECORD
from benchmarks.spread import Spread

TESTS = 300
MOTO_TESTS = 100
ROUNDS = 3
TARGET_MS = 5.0
OURS = "mock-pokee `pokee`"
BASELINE = "no-op test"

NOOP = """\
import pytest


@pytest.mark.parametrize("n", range(TESTS))
def test_x(n):
    pass
"""

POKEE = """\
import pytest


@pytest.mark.parametrize("n", range(TESTS))
def test_x(pokee, n):
    assert pokee.http.post("/v1/sessions", json={}).status_code == 201
"""

MOTO = """\
import boto3
import pytest
from moto import mock_aws


@pytest.fixture
def s3():
    with mock_aws():
        yield boto3.client("s3", region_name="us-east-1")


@pytest.mark.parametrize("n", range(TESTS))
def test_x(s3, n):
    created = s3.create_bucket(Bucket="bench")
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 200
"""

HTTPSERVER = """\
import httpx
import pytest

RECORD = RECORD_JSON


@pytest.fixture(scope="session")
def http():
    with httpx.Client() as client:
        yield client


@pytest.mark.parametrize("n", range(TESTS))
def test_x(httpserver, http, n):
    httpserver.expect_request("/v1/sessions", method="POST").respond_with_json(RECORD, status=201)
    assert http.post(httpserver.url_for("/v1/sessions"), json={}).status_code == 201
"""


@dataclass(frozen=True)
class System:
    name: str
    key: str  # the test file's name, and the `peers.FIXTURE_PEERS` entry it needs if any
    source: str
    peer: bool = True
    tests: int = TESTS

    @property
    def test_file(self) -> str:
        return self.source.replace("TESTS", str(self.tests)).replace("RECORD_JSON", repr(RECORD))


SYSTEMS = (
    System(BASELINE, "noop", NOOP, peer=False),
    System(OURS, "mock-pokee", POKEE, peer=False),
    System("moto mock_aws() + S3", "moto", MOTO, tests=MOTO_TESTS),
    System("pytest-httpserver", "pytest-httpserver", HTTPSERVER),
)


@dataclass
class Rounds:
    """One system's runs: per round, its first test, its median test and its whole run."""

    starts: list[float] = field(default_factory=list)
    medians: list[float] = field(default_factory=list)
    walls: list[float] = field(default_factory=list)

    def add(self, run: pytest_runs.Run, tests: int) -> None:
        if len(run.cases) != tests:
            raise RuntimeError(f"{len(run.cases)} testcases in the report, not {tests}")
        first, *rest = run.cases
        self.starts.append(first.seconds)
        self.medians.append(statistics.median(case.seconds for case in rest))
        self.walls.append(run.wall_s)


def run() -> Iterator[str]:
    """The part: the fixtures venv (installed on first use), the per-test costs, then the
    user patterns under the plugin's default clock."""
    skipped: list[str] = []
    try:
        venv = peers.fixtures_venv(skipped.append)
    except peers.Skip as exc:
        yield f"Fixture cost skipped: {exc}\n"
        return
    yield from per_test_cost(venv, skipped)
    yield from patterns(venv.python)


def per_test_cost(venv: peers.FixtureVenv, skipped: list[str]) -> Iterator[str]:
    versions = ", ".join(f"{name} {version}" for name, version in venv.versions.items())
    yield (
        f"What a test pays for its fixture: {TESTS} parametrized tests a pytest run "
        f"({MOTO_TESTS} for moto), {ROUNDS} rounds, systems interleaved"
    )
    yield f"  one venv (.bench-peers/fixtures-venv): Python {platform.python_version()}, {versions}"
    yield from (f"  {line}" for line in skipped)
    systems = [s for s in SYSTEMS if not s.peer or s.key in venv.versions]
    rounds = {system.name: Rounds() for system in systems}
    with tempfile.TemporaryDirectory(prefix="mock-pokee-fixtures-") as folder:
        for number in range(ROUNDS):
            for system in list(systems):
                where = Path(folder) / f"{system.key}-{number}"
                try:
                    ran = pytest_runs.run(venv.python, where, system.key, system.test_file)
                    rounds[system.name].add(ran, system.tests)
                except (RuntimeError, OSError) as exc:
                    if system.name == BASELINE:
                        yield f"  fixture cost skipped: the no-op run failed: {exc}\n"
                        return
                    yield f"  {system.name} skipped: {str(exc).splitlines()[0]}"
                    systems.remove(system)
                    del rounds[system.name]
    yield from _report(rounds)


def _report(rounds: dict[str, Rounds]) -> Iterator[str]:
    baseline = rounds[BASELINE].medians
    costs = {
        name: Spread.of(m - b for m, b in zip(r.medians, baseline, strict=True)).scaled(1000)
        for name, r in rounds.items()
        if name != BASELINE
    }
    yield "  per test: the median testcase time (junit: setup + call + teardown, the first test"
    yield "  left out) minus the no-op's (*: the no-op's own); median of the rounds (min–max)"
    yield f"  {'':22} {'per test, ms':>19} {'start, ms':>16} {'whole run, s':>17}  peer ÷ ours"
    for name, measured in rounds.items():
        if name == BASELINE:
            per_test = Spread.of(measured.medians).scaled(1000).show(2) + "*"
        else:
            per_test = costs[name].show(2) + " "
        start = Spread.of(measured.starts).scaled(1000)
        wall = Spread.of(measured.walls)
        ratio = ""
        if name not in (BASELINE, OURS) and OURS in costs and costs[OURS].median > 0:
            ratio = f"{costs[name].median / costs[OURS].median:.2f}×"
        yield f"  {name:22} {per_test:>19} {start.show(0):>16} {wall.show(2):>17}  {ratio}"
    if OURS in costs:
        yield from _verdict(costs)
    yield ""


def _verdict(costs: dict[str, Spread]) -> Iterator[str]:
    """The target: at most `TARGET_MS`, and at most the fastest peer's cost; when the
    rounds of the two overlap, the order between them is within the machine's noise."""
    ours = costs[OURS]
    met = "met" if ours.median <= TARGET_MS else "NOT met"
    yield f"  target: `pokee` ≤ {TARGET_MS:g} ms a test: {met} ({ours.median:.2f} ms)"
    peers = {name: cost for name, cost in costs.items() if name != OURS}
    if not peers:
        return
    name, fastest = min(peers.items(), key=lambda item: item[1].median)
    met = "met" if ours.median <= fastest.median else "NOT met"
    overlap = ours.low <= fastest.high and fastest.low <= ours.high
    note = "; the rounds overlap: a tie within this machine's noise" if overlap else ""
    yield (f"  target: `pokee` ≤ the fastest peer's ({name}, {fastest.median:.2f} ms): {met}{note}")
