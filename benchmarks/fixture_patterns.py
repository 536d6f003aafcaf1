"""What four things a user's test does with the ``pokee`` fixture cost in real time,
under the plugin's default clock (autojump: virtual time that moves while a client waits
on a turn, so a deck's minutes of scenario pauses pass in milliseconds).

Each pattern is a test in one generated file, run with pytest in the fixtures venv; its
time is the testcase's (setup + call + teardown, so the fixture's cost is in it). A first
test starts the server and pays the one-off imports (python-pptx for the deck, the
reference client) so that no pattern carries them; it is reported as "start". Each pattern
runs ``REPEATS`` times a run; a run's figure is their median, and the run is repeated
``RUNS`` times: median (min–max) of the runs. Each test also reads its tenant's clock
before and after (two control requests, well under a millisecond each) to show how much
mock time the pattern spanned.
"""

from __future__ import annotations

import statistics
import tempfile
from collections.abc import Iterator
from pathlib import Path

from benchmarks import pytest_runs
from benchmarks.spread import Spread, digits_for

RUNS = 3
REPEATS = 5

PATTERNS = {
    "test_a_stream_to_the_end": "(a) a blocking httpx client streams a deck turn to its end",
    "test_b_drop_then_resume": "(b) the same, dropped after 3 events, resumed (Last-Event-ID)",
    "test_c_drop_then_poll": "(c) the same drop, then polling the session (10 ms sleeps)",
    "test_d_retry_after_on_the_mock_clock": "(d) a 503 with Retry-After: 30, pokee.client retries",
}
START = "test_0_start"

SOURCE = """\
import time

import httpx
import pytest

DECK = {"message": "Build a deck on tides"}
REPEATS = range(REPEAT_COUNT)


@pytest.fixture
def mock_time(pokee, record_property):
    # How far the tenant's clock moved during the test.
    before = pokee.clock.now
    yield
    record_property("clock_s", f"{pokee.clock.now - before:.3f}")


def events(response):
    # (id, event type) of each SSE event, read line by line as a user's loop reads them.
    seen, last_id = [], None
    for line in response.iter_lines():
        if line.startswith("id:"):
            last_id = int(line[3:])
        elif line.startswith("event:"):
            seen.append((last_id, line[6:].strip()))
    return seen


def new_session(pokee):
    answer = pokee.http.post("/v1/sessions", json={"persistent": True})
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


def deck(pokee, sid):
    with pokee.http.stream("POST", f"/v1/sessions/{sid}/messages", json=DECK) as response:
        assert response.status_code == 200, response.read()
        return response.headers["x-response-id"], events(response)


def dropped_deck(pokee, sid):
    pokee.faults.add({"type": "drop", "after_events": 3}, schedule={"times": 1})
    partial = []
    with pytest.raises(httpx.RemoteProtocolError):
        with pokee.http.stream("POST", f"/v1/sessions/{sid}/messages", json=DECK) as response:
            rid = response.headers["x-response-id"]
            last_id = None
            for line in response.iter_lines():
                if line.startswith("id:"):
                    last_id = int(line[3:])
                    partial.append(last_id)
    return rid, last_id, partial


def test_0_start(pokee, record_property):
    # Not a pattern: the server's start and the one-off imports.
    record_property("clock_mode", pokee.clock.get()["mode"])
    _, seen = deck(pokee, new_session(pokee))
    assert seen[-1][1] == "message.completed"
    assert pokee.client.sessions.create().id.startswith("sess_")


@pytest.mark.parametrize("n", REPEATS)
def test_a_stream_to_the_end(pokee, mock_time, n):
    _, seen = deck(pokee, new_session(pokee))
    assert seen[-1][1] == "message.completed", seen


@pytest.mark.parametrize("n", REPEATS)
def test_b_drop_then_resume(pokee, mock_time, n):
    sid = new_session(pokee)
    rid, last_id, _ = dropped_deck(pokee, sid)
    url = f"/v1/sessions/{sid}/responses/{rid}/events"
    with pokee.http.stream("GET", url, headers={"Last-Event-ID": str(last_id)}) as response:
        assert response.status_code == 200, response.read()
        rest = events(response)
    assert rest[0][0] == last_id + 1, (last_id, rest[:2])
    assert rest[-1][1] == "message.completed", rest


@pytest.mark.parametrize("n", REPEATS)
def test_c_drop_then_poll(pokee, mock_time, record_property, n):
    sid = new_session(pokee)
    dropped_deck(pokee, sid)
    polls = 1
    while pokee.http.get(f"/v1/sessions/{sid}").json()["busy"]:
        time.sleep(0.01)
        polls += 1
    record_property("polls", str(polls))


@pytest.mark.parametrize("n", REPEATS)
def test_d_retry_after_on_the_mock_clock(pokee, mock_time, n):
    pokee.faults.add(
        {"type": "status", "status": 503, "retry_after": 30},
        match={"method": "POST", "path": "/v1/sessions"},
        schedule={"times": 1},
    )
    assert pokee.client.sessions.create().id.startswith("sess_")
"""


def _by_pattern(run: pytest_runs.Run) -> dict[str, list[pytest_runs.Case]]:
    grouped: dict[str, list[pytest_runs.Case]] = {}
    for case in run.cases:
        grouped.setdefault(case.name.split("[", 1)[0], []).append(case)
    return grouped


def _ms(spread: Spread) -> str:
    ms = spread.scaled(1000)
    return ms.show(digits_for(ms.median), " ms")


def patterns(python: Path) -> Iterator[str]:
    source = SOURCE.replace("REPEAT_COUNT", str(REPEATS))
    runs: list[dict[str, list[pytest_runs.Case]]] = []
    with tempfile.TemporaryDirectory(prefix="mock-pokee-patterns-") as folder:
        for number in range(RUNS):
            try:
                run = pytest_runs.run(python, Path(folder) / str(number), "patterns", source)
            except RuntimeError as exc:
                yield f"User patterns skipped: {exc}\n"
                return
            runs.append(_by_pattern(run))
    mode = runs[0][START][0].properties.get("clock_mode", "?")
    yield (
        f"User patterns under the plugin's default clock ({mode}): real time a test (junit), "
        f"median of {RUNS} runs (min–max), each run's figure the median of {REPEATS}"
    )
    start = Spread.of(run[START][0].seconds for run in runs)
    yield f"  {'start: the server, the first deck, the imports':62} {_ms(start):>24}"
    for name, label in PATTERNS.items():
        real = Spread.of(statistics.median(c.seconds for c in run[name]) for run in runs)
        clock = statistics.median(float(c.properties["clock_s"]) for r in runs for c in r[name])
        extra = f"mock clock +{clock:g} s"
        if name == "test_c_drop_then_poll":
            polls = statistics.median(int(c.properties["polls"]) for r in runs for c in r[name])
            extra += f", {polls:g} polls"
        yield f"  {label:62} {_ms(real):>24}   {extra}"
    yield ""
