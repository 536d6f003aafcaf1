"""D with M4, M5 and M7: the scenario-driven matrix.

Every loaded turn scenario (the built-ins, the contract tests' own in contract_tests/scenarios/,
and any given with ``--scenarios DIR``) is run once per way a client can read a turn:

- read everything, live, resuming (M7) if the stream is cut;
- disconnect after k events, for every k from 0 to the turn's length, then let the turn
  finish (M5);
- fire and forget: read nothing, poll the session until it is idle;
- resume from every event id of a finished turn.

Each way must end the same: the same event types, the same terminal event, the same final
metadata and the same files; and where the scenario file declares an ``expect:`` section,
what it declares (terminal event and error, metadata, files, clock time). Every run has a
tenant of its own on the virtual clock, pinned to a whole second so that clock sums are
exact. Every stream read goes through the strict event-stream checker (sse.py).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from mock_pokee.scenarios.loader import ScenarioBook

from .checks import advance, create, freeze, run_to_end, workspace_files
from .sse import Frame, open_stream, resume, send
from .target import OWN_SCENARIOS, Target, client_for, new_key

pytestmark = pytest.mark.mock_only

TICK = 1 / 128  # exact in binary: t0 + d - TICK + TICK == t0 + d


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """One test per turn scenario the in-process mock loads (see conftest's mock_server);
    a `surface: response` scenario scripts stateless calls, not turns (R8)."""
    if "scenario" in metafunc.fixturenames:
        folders = [*metafunc.config.getoption("--scenarios"), OWN_SCENARIOS]
        loaded = ScenarioBook.load(folders)
        metafunc.parametrize("scenario", [s.name for s in loaded if s.surface == "turn"])


@dataclass
class Outcome:
    """What one run left: its whole event log (read back with M7) and the session's end."""

    frames: list[Frame]
    metadata: dict[str, Any]
    files: set[str]
    session_id: str
    response_id: str

    @property
    def types(self) -> list[str]:
        return [f.type for f in self.frames]


class Run:
    """One tenant, one session, one turn of ``scenario``."""

    def __init__(self, target: Target, scenario: str, expect: dict[str, Any] | None):
        self.target = target
        self.scenario = scenario
        self.expect = expect
        self.message = expect["message"] if expect else "hello"
        self.key = new_key()
        self.api = client_for(target, self.key)
        self.t0 = freeze(self.api, float(int(time.time())))
        self.sid = str(create(self.api, persistent=True, ttl=604800)["id"])

    def close(self) -> None:
        self.api.close()

    @property
    def duration(self) -> float | None:
        """The clock time the scenario declares its turn takes, if it does."""
        return None if self.expect is None else self.expect["duration"]

    @property
    def messages(self) -> str:
        return f"/v1/sessions/{self.sid}/messages"

    def post(self) -> dict[str, Any]:
        return {"json": {"message": self.message}, "headers": {"X-Mock-Scenario": self.scenario}}

    def finish(self) -> None:
        """Let the turn end: exactly at its declared clock time, else polling (S4)."""
        duration = self.duration
        if duration is not None:
            now = float(self.api.get("/_mock/clock").json()["now"])
            if self.t0 + duration > now:
                advance(self.api, self.t0 + duration - now)
        run_to_end(self.api, self.api, self.sid)

    def outcome(self, response_id: str) -> Outcome:
        record = self.api.get(f"/v1/sessions/{self.sid}").json()
        assert record["busy"] is False, record
        full = resume(self.api, self.sid, response_id, None)
        files = set(workspace_files(self.api, self.sid))
        return Outcome(full.frames, record["metadata"], files, self.sid, response_id)


@pytest.fixture
def run_of(target: Target) -> Iterator[RunMaker]:
    runs: list[Run] = []
    with client_for(target, None) as anon:
        loaded = anon.get("/_mock/scenarios").json()["scenarios"]
    expectations = {s["name"]: s["expect"] for s in loaded}

    def make(scenario: str) -> Run:
        run = Run(target, scenario, expectations[scenario])
        runs.append(run)
        return run

    yield make
    for run in runs:
        run.close()


RunMaker = Callable[[str], Run]


def render(value: Any, outcome: Outcome, message: str) -> Any:
    fields = {"message": message, "session_id": outcome.session_id}
    fields["response_id"] = outcome.response_id
    if isinstance(value, str):
        return value.format_map(fields)
    if isinstance(value, dict):
        return {k: render(v, outcome, message) for k, v in value.items()}
    if isinstance(value, list):
        return [render(v, outcome, message) for v in value]
    return value


def check(outcome: Outcome, run: Run, reference: Outcome | None = None) -> None:
    """The scenario's own expectations, and the same end as the reference run."""
    terminal = outcome.frames[-1]
    assert terminal.data["id"] == outcome.response_id
    expect = run.expect
    if expect is not None:
        assert terminal.type == expect["terminal"], outcome.types
        if expect["error"] is not None:
            assert terminal.data["error"] == expect["error"]
        if expect["metadata"] is not None:
            assert outcome.metadata == render(expect["metadata"], outcome, run.message)
        if expect["files"] is not None:
            assert outcome.files == set(render(expect["files"], outcome, run.message))
    if reference is not None:
        assert outcome.types == reference.types
        assert outcome.metadata == reference.metadata
        assert outcome.files == reference.files


def read_everything(run: Run) -> Outcome:
    """A client that reads the whole stream live (resuming after a cut) while the clock
    moves: the reader runs in a thread, the test advances the clock once the turn runs."""
    frames: list[Frame] = []
    ids: list[str] = []

    def reader() -> None:
        with client_for(run.target, run.key) as client:
            stream = send(client, run.sid, run.message, scenario=run.scenario)
            rid = stream.headers["x-response-id"]
            ids.append(rid)
            frames.extend(stream.frames)
            if not stream.ended:
                last = stream.frames[-1].seq if stream.frames else None
                frames.extend(resume(client, run.sid, rid, last).frames)

    thread = threading.Thread(target=reader)
    thread.start()
    for _ in range(400):  # until the turn has started (socket waits, each bounded)
        thread.join(timeout=0.005)
        if not thread.is_alive() or run.api.get(f"/v1/sessions/{run.sid}").json()["busy"]:
            break
    for _ in range(200):
        if not thread.is_alive():
            break
        run.finish()
        thread.join(timeout=0.05)
    thread.join(timeout=10)
    assert not thread.is_alive(), "the reader never saw the end of the turn"
    assert ids, "the reader failed"
    outcome = run.outcome(ids[0])
    assert [f.data for f in frames] == [f.data for f in outcome.frames]
    return outcome


_REFERENCES: dict[str, tuple[Outcome, list[float]]] = {}  # a process has one target


def reference(run_of: RunMaker, scenario: str) -> tuple[Outcome, list[float]]:
    """The read-everything outcome of ``scenario`` and each event's clock offset from the
    turn's start (C4's journal), computed once per scenario and process."""
    if scenario not in _REFERENCES:
        run = run_of(scenario)
        outcome = read_everything(run)
        check(outcome, run)
        entries = run.api.get("/_mock/journal", params={"kind": "event,turn"}).json()["entries"]
        start = next(e["at"] for e in entries if e["kind"] == "turn.start")
        offsets: dict[int, float] = {}
        for entry in entries:
            if entry["kind"] == "event" and entry["response_id"] == outcome.response_id:
                offsets.setdefault(entry["event_seq"], entry["at"] - start)
        _REFERENCES[scenario] = (outcome, [offsets[f.seq] for f in outcome.frames])
    return _REFERENCES[scenario]


def test_d_m5_reading_everything_meets_the_scenarios_expectations(
    run_of: RunMaker, scenario: str
) -> None:
    """D: a client that reads the whole stream live (M7 after a cut) sees the terminal
    event, metadata and files the scenario file declares."""
    outcome, _ = reference(run_of, scenario)
    assert outcome.types[0] == "message.created"


def test_d_m5_m7_disconnecting_after_any_k_events_changes_nothing(
    run_of: RunMaker, scenario: str
) -> None:
    """M5 and M7 for every k from 0 to the turn's length: disconnect after k events; the
    turn still ends as declared, with the same events, metadata and files, and a resume
    from the k-th event returns exactly the rest."""
    ref, offsets = reference(run_of, scenario)
    for k in range(len(ref.frames) + 1):
        run = run_of(scenario)
        with open_stream(run.api, "POST", run.messages, **run.post()) as live:
            rid = live.stream.headers["x-response-id"]
            if k:
                if offsets[k - 1] > 0:
                    advance(run.api, offsets[k - 1])
                for count, _ in enumerate(live.events(), start=1):
                    if count == k:
                        break
        got = live.stream.frames
        assert len(got) == k or live.stream.cut, (k, [f.type for f in got])
        run.finish()
        outcome = run.outcome(rid)
        check(outcome, run, ref)
        assert [f.data for f in got] == [f.data for f in outcome.frames[: len(got)]]
        rest = resume(run.api, run.sid, rid, got[-1].seq if got else None)
        assert [f.data for f in rest.frames] == [f.data for f in outcome.frames[len(got) :]]


def test_d_m5_fire_and_forget_then_poll(run_of: RunMaker, scenario: str) -> None:
    """M5 and S8: read nothing, poll GET until busy is false; the turn is busy until
    exactly its declared clock time and idle from then on, and ends as declared."""
    run = run_of(scenario)
    started = send(run.api, run.sid, run.message, scenario=run.scenario, stop_after=0)
    response_id = started.headers["x-response-id"]
    duration = run.duration
    if duration:
        advance(run.api, duration - TICK)
        assert run.api.get(f"/v1/sessions/{run.sid}").json()["busy"] is True
        advance(run.api, TICK)
        assert run.api.get(f"/v1/sessions/{run.sid}").json()["busy"] is False
    run_to_end(run.api, run.api, run.sid)
    check(run.outcome(response_id), run, reference(run_of, scenario)[0])


def test_d_m7_resuming_a_finished_turn_from_each_id(run_of: RunMaker, scenario: str) -> None:
    """M7: after the turn, a resume after each event id (and one without any) replays
    exactly the events after it, unchanged."""
    run = run_of(scenario)
    started = send(run.api, run.sid, run.message, scenario=run.scenario, stop_after=0)
    rid = started.headers["x-response-id"]
    run.finish()
    outcome = run.outcome(rid)
    check(outcome, run, reference(run_of, scenario)[0])
    for after in [None, *(f.seq for f in outcome.frames)]:
        replay = resume(run.api, run.sid, rid, after)
        start = 0 if after is None else after + 1
        assert [f.data for f in replay.frames] == [f.data for f in outcome.frames[start:]]
