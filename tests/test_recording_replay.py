"""Record a mock through `mock-pokee record`, replay the recordings in another, and hold
the replay to what was recorded: event by event (types, order, data but ids and times,
offsets on the virtual clock), metadata stages, files (issue 25).

The upstream (`mock-pokee serve`) runs a clock 20 times real time, so its minutes pass in
seconds, and the recorder (`mock-pokee record`, a process too, as a user runs both) is
told so (``--upstream-scale 20``). Its built-in scenarios, a custom one with every step
kind, client tool calls and a conversation of ``/v1/responses`` calls with a function
call go through the recording proxy; one client walks away after two events and the
recording must not notice. The replay runs on the virtual clock, moved a second at a time
by the test, which polls metadata as it goes.

Offsets are compared within `TOLERANCE`: the recorder measures real time at the proxy,
and a busy machine's 300 ms are 6 s of the upstream's clock (six copies of this file at
once on two cores stayed within it; at 60 times real time they did not). A text's pace
is cosmetic (C1): it takes clock time upstream but none on the virtual clock, so an
event's expected offset leaves out the time of the text blocks before it, and both sides
leave out the client's time answering a tool call.
"""

from __future__ import annotations

import io
import json
import signal
import subprocess
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from httpx_sse import EventSource
from pptx import Presentation

from mock_pokee.testing import MockServer, TenantHandle, new_key
from tests.processes import start_record, start_serve

SCALE = 20.0
POLL = 0.02  # real seconds between the recorder's polls: 0.4 s of the upstream's clock
MAX_FIXTURE = 20_000  # a deck (about 30 kB) is generated on replay, a report kept
TOLERANCE = 6.0  # clock seconds
STEP = 1.0  # clock seconds the replay's clock moves at a time
IDS = frozenset({"id", "session_id", "call_id", "item_id", "response_id", "created_at"})
TERMINAL = frozenset(
    {
        "message.completed",
        "message.error",
        "message.cancelled",
        "response.completed",
        "response.failed",
        "response.cancelled",
    }
)
BLOCKS = {"text.start": "text.stop", "thinking.start": "thinking.stop"}

EVERY_STEP = """
name: every-step
match: '^every step, please$'
steps:
  - think: "Planning for {message}"
  - metadata: {stage: started}
  - text: {content: "Hello, {message} (braces: {{x}}).", chunk: 5}
  - tool: {name: web_search, input: {query: "{message}"}, duration: 20s, result: found}
  - tool: {name: flaky, input: {}, duration: 5s, result: "it broke", is_error: true}
  - pause: 15s
  - metadata: {stage: writing, count: 2}
  - pause: 10s
  - write: {path: out/every.md, content: "# Every step\\n{message}\\n"}
  - write: {path: out/every.pptx, document: pptx, title: Every}
  - drop: true
  - pause: 10s
  - metadata: {stage: asking}
  - client_tool: {tool: lookup, arguments: {q: tides}}
  - text: "Your tool said {tool_output}"
  - usage: {input_tokens: 11, output_tokens: 22}
"""
FAILING = """
name: failing
match: '^fail, please$'
steps:
  - text: "About to fail"
  - pause: 5s
  - fail: "upstream_broke: {message}"
"""
LOOKUP = {
    "type": "function",
    "name": "lookup",
    "description": "Look a word up",
    "parameters": {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]},
}
WEATHER_SAYS = "Sunny, 21 C"
WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "The weather in a city",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}


@dataclass(frozen=True)
class Turn:
    """A turn the test plays twice: through the recorder, then on the replay."""

    message: str
    scenario: str | None = None  # forced upstream (X-Mock-Scenario); never on the replay
    tools: tuple[dict[str, Any], ...] = ()
    walk_away: bool = False  # the recording's client leaves after two events
    stages: tuple[str, ...] = ()  # the metadata key whose values are its stages


TURNS = (
    Turn("Build a deck on tides", stages=("temasek_status",)),
    Turn("Research tides and write it to /opt/sandbox/workspace/tides.md", stages=("task_status",)),
    Turn("hello there"),
    Turn("try the flaky tool", "tool-error"),
    Turn("fail this turn", "turn-error"),
    Turn("drop my stream", "dropped-stream", stages=("progress",)),
    Turn("stream slowly", "slow-stream"),
    Turn("look it up for me", "client-tool", tools=(LOOKUP,)),
    Turn("both tools at once", "parallel-tool-calls", tools=(LOOKUP, WEATHER)),
    Turn("every step, please", tools=(LOOKUP,), stages=("stage",)),
    Turn("fail, please"),
    Turn("Research tides while I walk away", walk_away=True, stages=("task_status",)),
)


@dataclass
class Played:
    """What one turn did, as the mock that ran it keeps it."""

    events: list[dict[str, Any]]  # journal entries of its events: type, data, at
    metadata: dict[str, Any]
    files: dict[str, bytes]
    stages: list[dict[str, Any]] = field(default_factory=list)


def stream(http: httpx.Client, method: str, url: str, **kwargs: Any) -> Iterator[Any]:
    with http.stream(method, url, **kwargs) as answer:
        assert answer.status_code == 200, answer.read()
        yield from EventSource(answer).iter_sse()


def play(http: httpx.Client, session: str, turn: Turn, headers: dict[str, str]) -> str:
    """Send the turn's message and read it to its end as a careful client does: answer
    each client tool call, resume after a drop (M7). Returns its response id."""
    events = stream(
        http,
        "POST",
        f"/v1/sessions/{session}/messages",
        json={"message": turn.message},
        headers=headers,
    )
    response_id, last = "", -1
    while True:
        try:
            for event in events:
                if not event.data:  # what is left of a frame cut by a drop
                    continue
                data = json.loads(event.data)
                response_id, last = response_id or data["id"], int(event.id)
                if event.event == "tool_call.requested":
                    answer_call(http, session, data)
                if (turn.walk_away and last == 1) or event.event in TERMINAL:
                    return response_id
        except httpx.RemoteProtocolError:  # a drop (D's drop step): resume
            pass
        events = stream(
            http,
            "GET",
            f"/v1/sessions/{session}/responses/{response_id}/events",
            headers={"Last-Event-ID": str(last)},
        )


def answer_call(http: httpx.Client, session: str, call: dict[str, Any]) -> None:
    result = {"call_id": call["call_id"], "output": f"{call['name']} says yes"}
    answer = http.post(f"/v1/sessions/{session}/tool_results", json={"results": [result]})
    assert answer.status_code == 202, answer.text


def new_session(http: httpx.Client, turn: Turn) -> str:
    body: dict[str, Any] = {"persistent": True}
    if turn.tools:
        body["tools"] = list(turn.tools)
    answer = http.post("/v1/sessions", json=body)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def files_of(tenant: TenantHandle, session: str, folder: str = "") -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    listing = tenant.http.get(
        f"/v1/sessions/{session}/files", params={"path": folder} if folder else {}
    )
    for entry in listing.json():
        path = f"{folder}/{entry['name']}" if folder else entry["name"]
        if entry["type"] == "directory":
            found |= files_of(tenant, session, path)
        else:
            found[path] = tenant.http.get(f"/v1/sessions/{session}/files/{path}").content
    return found


def journaled(tenant: TenantHandle, response_id: str) -> list[dict[str, Any]]:
    return [e for e in tenant.journal.entries(kind="event") if e["response_id"] == response_id]


def played(tenant: TenantHandle, session: str, response_id: str) -> Played:
    metadata = tenant.http.get(f"/v1/sessions/{session}").json()["metadata"]
    return Played(journaled(tenant, response_id), metadata, files_of(tenant, session))


# -- recording --------------------------------------------------------------------------


@dataclass
class Recording:
    folder: Path
    turns: dict[str, Played]
    responses: list[list[dict[str, Any]]]  # each response call's journaled events
    summary: str


def record_turn(upstream: str, proxy: str, turn: Turn) -> Played:
    with (
        TenantHandle(upstream, new_key()) as tenant,
        httpx.Client(base_url=proxy, headers=tenant.headers, timeout=30) as http,
    ):
        session = new_session(http, turn)
        forced = {"X-Mock-Scenario": turn.scenario} if turn.scenario else {}
        response_id = play(http, session, turn, forced)
        while tenant.http.get(f"/v1/sessions/{session}").json()["busy"]:  # the walk-away's
            threading.Event().wait(0.05)  # real sockets: the upstream's clock runs by itself
        return played(tenant, session, response_id)


def converse(http: httpx.Client) -> tuple[list[list[dict[str, Any]]], dict[str, Any]]:
    """The responses both sides play: a conversation streamed (a function call, then its
    output) and a JSON call with reasoning. Each streamed call's events, and the answer."""
    ask = {"role": "user", "content": "What is the weather in Lisbon?"}
    first = {"input": [ask], "tools": [WEATHER], "stream": True}
    calls = [[json.loads(e.data) for e in stream(http, "POST", "/v1/responses", json=first)]]
    (call,) = [i for i in calls[0][-1]["response"]["output"] if i["type"] == "function_call"]
    second = {**first, "input": [ask, call, answered(call)]}
    calls.append([json.loads(e.data) for e in stream(http, "POST", "/v1/responses", json=second)])
    plain = {"input": "Summarise tides in a line", "reasoning": {"effort": "high"}}
    answer = http.post("/v1/responses", json=plain)
    assert answer.status_code == 200, answer.text
    return calls, answer.json()


def record_responses(upstream: str, proxy: str) -> list[list[dict[str, Any]]]:
    """`converse` through the recorder; each call's events as the upstream journaled them."""
    with (
        TenantHandle(upstream, new_key()) as tenant,
        httpx.Client(base_url=proxy, headers=tenant.headers, timeout=30) as http,
    ):
        calls, plain = converse(http)
        ids = [events[-1]["response"]["id"] for events in calls] + [plain["id"]]
        return [journaled(tenant, rid) for rid in ids]


def answered(call: dict[str, Any]) -> dict[str, Any]:
    return {"type": "function_call_output", "call_id": call["call_id"], "output": WEATHER_SAYS}


def start_recorder(upstream: str, out: Path) -> tuple[subprocess.Popen[str], str]:
    """`mock-pokee record` as a user runs it; returns the process and its address."""
    process, first = start_record(
        upstream,
        out,
        *("--poll-interval", str(POLL), "--max-fixture", str(MAX_FIXTURE)),
        *("--min-pause", "0.5", "--upstream-scale", str(SCALE)),
    )
    return process, first.split()[2]


def stopped(process: subprocess.Popen[str]) -> tuple[str, str]:
    """Ctrl-C, as a user stops it; what it wrote to stdout and stderr."""
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    return out, err


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Recording:
    """Upstream and recorder are processes of their own, as a user runs them, so that
    what the recorder measures is not the test's threads waiting on each other."""
    custom = tmp_path_factory.mktemp("custom")
    (custom / "every-step.yaml").write_text(EVERY_STEP)
    (custom / "failing.yaml").write_text(FAILING)
    out = tmp_path_factory.mktemp("recordings")
    server, upstream = start_serve(
        "--clock", "scaled", "--scale", str(SCALE), "--scenarios", str(custom), "--quiet"
    )
    try:
        recorder, proxy = start_recorder(upstream, out)
        try:
            with ThreadPoolExecutor(len(TURNS) + 1) as pool:
                turns = {t.message: pool.submit(record_turn, upstream, proxy, t) for t in TURNS}
                responses = record_responses(upstream, proxy)
                results = {message: future.result(60) for message, future in turns.items()}
        finally:
            summary, errors = stopped(recorder)
        assert recorder.returncode == 130, errors
        assert "Traceback" not in errors, errors
    finally:
        server.send_signal(signal.SIGINT)
        _, errors = server.communicate(timeout=30)
    assert "Traceback" not in errors, errors
    return Recording(out, results, responses, summary)


# -- replaying --------------------------------------------------------------------------


def replay_turn(replay: MockServer, turn: Turn) -> Played:
    """The turn on the replay, its clock moved a second at a time until it ends, its
    metadata read at each second."""
    with replay.tenant() as tenant:
        return _replay_turn(tenant, turn)


def _replay_turn(tenant: TenantHandle, turn: Turn) -> Played:
    session = new_session(tenant.http, Turn(turn.message, tools=turn.tools))
    done: list[str] = []
    reader = threading.Thread(
        target=lambda: done.append(play(tenant.http, session, Turn(turn.message), {}))
    )
    reader.start()
    stages: list[dict[str, Any]] = []
    for _ in range(3600):
        ended = not reader.is_alive()
        metadata = tenant.http.get(f"/v1/sessions/{session}").json()["metadata"]
        if not stages or stages[-1] != metadata:
            stages.append(metadata)
        if ended:
            break
        tenant.clock.advance(STEP)
    reader.join(5)
    result = played(tenant, session, done[0])
    result.stages = stages
    return result


@pytest.fixture(scope="module")
def replayed(recording: Recording) -> Iterator[dict[str, Played]]:
    with MockServer(clock_mode="virtual", scenario_folders=(recording.folder,)) as replay:
        yield {turn.message: replay_turn(replay, turn) for turn in TURNS}
        assert replay.errors == []


def without_ids(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: without_ids(v) for k, v in value.items() if k not in IDS}
    if isinstance(value, list):
        return [without_ids(v) for v in value]
    return value


def offsets(events: list[dict[str, Any]], cosmetic: bool) -> list[float]:
    """Each event's clock time from the first, less the client's time (from a requested
    client call to its result: the test's client, not the agent) and, when ``cosmetic``,
    less the time text blocks' pacing took (C1: none on the virtual clock)."""
    start, left_out, opened, asked = events[0]["at"], 0.0, None, 0.0
    waiting: set[str] = set()
    result = []
    for event in events:
        kind, data = event["type"], event["data"]
        if kind == "tool_call.requested":
            waiting.add(data["call_id"])
            asked = event["at"]
        if cosmetic and kind in BLOCKS:
            opened = event
        inside = event["at"] - asked if waiting else 0.0
        inside += event["at"] - opened["at"] if opened is not None else 0.0
        result.append(event["at"] - start - left_out - inside)
        if kind == "tool_result" and data["id"] in waiting:
            waiting.discard(data["id"])
            left_out += 0.0 if waiting else event["at"] - asked
        if opened is not None and kind == BLOCKS[opened["type"]]:
            left_out, opened = left_out + event["at"] - opened["at"], None
    return result


@pytest.mark.parametrize("turn", TURNS, ids=lambda turn: turn.message)
def test_a_replayed_turn_sends_the_recorded_events(
    turn: Turn, recording: Recording, replayed: dict[str, Played]
) -> None:
    upstream, replay = recording.turns[turn.message], replayed[turn.message]
    assert [e["type"] for e in replay.events] == [e["type"] for e in upstream.events]
    assert [without_ids(e["data"]) for e in replay.events] == [
        without_ids(e["data"]) for e in upstream.events
    ]
    expected = offsets(upstream.events, cosmetic=True)
    for event, want, got in zip(
        upstream.events, expected, offsets(replay.events, False), strict=True
    ):
        assert abs(got - want) <= TOLERANCE, (event["type"], event["event_seq"], want, got)


@pytest.mark.parametrize("turn", TURNS, ids=lambda turn: turn.message)
def test_a_replayed_turn_leaves_the_recorded_metadata_and_files(
    turn: Turn, recording: Recording, replayed: dict[str, Played]
) -> None:
    upstream, replay = recording.turns[turn.message], replayed[turn.message]
    assert replay.metadata == upstream.metadata
    assert replay.files.keys() == upstream.files.keys()
    for path, data in upstream.files.items():
        if len(data) <= MAX_FIXTURE:
            assert replay.files[path] == data, path
        else:  # generated: the same size and type
            assert len(replay.files[path]) == len(data), path
            assert path.endswith(".pptx")
            assert len(Presentation(io.BytesIO(replay.files[path])).slides) >= 1


STAGES = {
    "Build a deck on tides": [
        "researching",
        "outlining",
        "building_slides",
        "exporting",
        "completed",
    ],
    "Research tides and write it to /opt/sandbox/workspace/tides.md": [
        "started",
        "writing",
        "done",
    ],
    "Research tides while I walk away": ["started", "writing", "done"],
    "drop my stream": ["started", "finished"],
    "every step, please": ["started", "writing", "asking"],
}


@pytest.mark.parametrize("message", STAGES)
def test_metadata_stages_come_back_in_order(message: str, replayed: dict[str, Played]) -> None:
    """Stages that lasted a poll's time upstream are each seen on the replay, in order (a
    stage that lasted no clock time, as the deck's ``queued``, no poll can see)."""
    (turn,) = [turn for turn in TURNS if turn.message == message]
    (key,) = turn.stages
    seen = [stage[key] for stage in replayed[message].stages if key in stage]
    assert [value for n, value in enumerate(seen) if n == 0 or seen[n - 1] != value] == STAGES[
        message
    ]


def test_a_conversation_of_responses_replays_call_by_call(recording: Recording) -> None:
    with (
        MockServer(clock_mode="autojump", scenario_folders=(recording.folder,)) as replay,
        replay.tenant() as tenant,
    ):
        got, plain = converse(tenant.http)
        assert replay.errors == []
    recorded = recording.responses
    for events, want in zip(got, recorded[:2], strict=True):
        assert [e["type"] for e in events] == [e["type"] for e in want]
        assert [without_ids(e) for e in events] == [without_ids(e["data"]) for e in want]
    assert without_ids(plain) == without_ids(recorded[2][-1]["data"]["response"])


def test_the_recordings_are_scenario_files_a_user_can_read(recording: Recording) -> None:
    names = sorted(path.name for path in recording.folder.glob("*.yaml"))
    assert len(names) == len(TURNS) + 2  # a conversation is one file; the JSON call another
    deck = yaml.safe_load(
        next(recording.folder.glob("turn-*-build-a-deck-on-tides.yaml")).read_text()
    )
    assert deck["match"] == "^Build a deck on tides$"
    assert "sampled every 0.02 s (0.4 s of the upstream's clock)" in deck["description"]
    kinds = [next(iter(step)) for step in deck["steps"]]
    assert {"think", "metadata", "tool", "pause", "write", "text", "usage"} <= set(kinds)
    (write,) = [step["write"] for step in deck["steps"] if "write" in step]
    assert write.keys() >= {"path", "size"}  # over the fixture limit: generated
    report = (recording.folder / "drift.md").read_text()
    assert "No drift" in report, report
    assert f"{len(TURNS) + 2} recording(s) in" in recording.summary, recording.summary
    assert not (recording.folder / "rejected").exists()
