"""The stateless responses surface (R) end to end: both clients and ``pokee respond``
against the mock over real sockets, its faults (C5) and its journal (C4) as the witness.
The tenant's clock is virtual, and every wait of the client moves it (C1)."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mock_pokee.server import ThreadedServer
from mock_pokee.settings import Settings
from mock_pokee.testing import TenantHandle
from pokee_client import (
    AsyncPokeeClient,
    FunctionCall,
    PokeeClient,
    ResponseCancelled,
    ResponseCompleted,
    ResponseCreated,
    ResponseTextDelta,
    RetryPolicy,
)
from pokee_client.cli import main
from tests.client.helpers import Sleeper
from tests.client.response_log import WEATHER

POST = "/v1/responses"
EVENTS = "/v1/responses/*/events"
ASK = "What is the weather in Paris?"
POLICY = RetryPolicy(jitter=lambda: 0.5)


@pytest.fixture
def tenant(mock: ThreadedServer, key: str) -> Iterator[TenantHandle]:
    """This test's tenant through `mock_pokee.testing`: its faults and its journal."""
    with TenantHandle(mock.url, key) as handle:
        yield handle


def full_log(control: httpx.Client, response_id: str) -> list[tuple[int, str]]:
    """The response's whole log, read with the faults gone: R6 without Last-Event-ID."""
    control.delete("/_mock/faults")
    log: list[tuple[int, str]] = []
    with control.stream("GET", f"/v1/responses/{response_id}/events") as answer:
        assert answer.status_code == 200
        seq = -1
        for line in answer.iter_lines():
            if line.startswith("id: "):
                seq = int(line[4:])
            elif line.startswith("event: "):
                log.append((seq, line[7:]))
    return log


def test_r1_r3_an_answer_in_one_piece(client: PokeeClient) -> None:
    answer = client.responses.create("hello")
    assert re.fullmatch("resp_[0-9a-f]{24}", answer.id)
    assert (answer.status, answer.error, answer.function_calls) == ("completed", None, ())
    assert answer.text.strip()
    assert answer.usage is not None
    assert answer.usage.total_tokens == answer.usage.input_tokens + answer.usage.output_tokens
    assert answer.data["object"] == "response"
    windows = {window.name: window.turns for window in client.usage().response}  # R7
    assert windows == {"hour": 1, "day": 1}


def test_r3_r4_r8_a_function_call_then_the_answer_that_uses_its_output(
    client: PokeeClient,
) -> None:
    """R8: asked with a tool, the model calls it with arguments that fit its schema; R4:
    sent the history and the call's output, it answers in text quoting that output."""
    first = client.responses.create(ASK, tools=[WEATHER])
    (call,) = first.function_calls
    assert isinstance(call, FunctionCall)
    assert call.name == "get_weather"
    assert isinstance(json.loads(call.arguments), dict)
    history = [{"role": "user", "content": ASK}, *first.as_input(), call.answer("Sunny, 21 C")]
    second = client.responses.create(history, tools=[WEATHER], tool_choice="none")
    assert second.function_calls == ()
    assert "Sunny, 21 C" in second.text


def test_r5_the_stream_assembled_is_the_answer_in_one_piece(client: PokeeClient) -> None:
    """R5: the stream's events in order, created first and completed last, and what they
    assemble is what the same request answers whole (R3)."""
    whole = client.responses.create("hello", reasoning={"effort": "low"})
    stream = client.responses.stream("hello", reasoning={"effort": "low"})
    events = list(stream)
    assert [event.seq for event in events] == list(range(len(events)))
    assert isinstance(events[0], ResponseCreated)
    assert isinstance(events[-1], ResponseCompleted)
    assert events[0].response_id == stream.response_id
    final = stream.response
    assert final is not None
    assert final.id == stream.response_id != whole.id
    assert "".join(e.delta for e in events if isinstance(e, ResponseTextDelta)) == final.text
    assert (final.text, final.reasoning_summary, final.usage) == (
        whole.text,
        whole.reasoning_summary,
        whole.usage,
    )


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_r6_a_dropped_stream_is_resumed_exactly_once(
    mock: ThreadedServer,
    key: str,
    control: httpx.Client,
    tenant: TenantHandle,
    sleeper: Sleeper,
    kind: str,
) -> None:
    """C5 drops the stream after 3 events; the response goes on (R5). The client asks once
    for the rest, after event 2, and the caller receives the whole log, each event once.
    The journal is the witness: one POST, one resume."""
    rule = tenant.faults.add(
        {"type": "drop", "after_events": 3},
        match={"method": "POST", "path": POST},
        schedule={"times": 1},
    )
    if kind == "sync":
        with PokeeClient(mock.url, key, sleep=sleeper, retry=POLICY) as pokee:
            stream = pokee.responses.stream(ASK, tools=[WEATHER])
            received = [(event.seq, event.type) for event in stream]
    else:

        async def nap(seconds: float) -> None:
            sleeper(seconds)

        async def go() -> Any:
            async with AsyncPokeeClient(mock.url, key, sleep=nap, retry=POLICY) as pokee:
                stream = pokee.responses.stream(ASK, tools=[WEATHER])
                return [(event.seq, event.type) async for event in stream], stream

        received, stream = asyncio.run(go())
    seqs = [seq for seq, _ in received]
    assert seqs == list(range(len(received)))  # 0..N: none twice, none lost
    assert len(seqs) > 3  # more came after the drop
    assert received[-1][1] == "response.completed"
    assert tenant.faults.hits(rule["id"]) == 1
    assert stream.resumes == 1
    assert stream.response is not None
    assert stream.response.function_calls[0].name == "get_weather"
    tenant.requests(method="POST", path=POST).assert_called_once()
    resumes = tenant.requests(method="GET", path=EVENTS)
    resumes.assert_called_once()
    assert resumes[0]["headers"]["last-event-id"] == "2"
    assert stream.response_id is not None
    assert received == full_log(control, stream.response_id)
    assert sleeper.calls == []


def test_r6_cancel_once_ended_is_already_complete(client: PokeeClient) -> None:
    stream = client.responses.stream("hello")
    final = stream.final_response()
    assert client.responses.cancel(final.id) == "already_complete"
    assert stream.cancel() == "already_complete"


def test_pokee_respond_prints_the_answer_and_the_calls(
    mock: ThreadedServer,
    key: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("POKEE_API", mock.url)
    monkeypatch.setenv("POKEE_KEY", key)
    tools = tmp_path / "tools.json"
    tools.write_text(json.dumps([WEATHER]))
    assert main(["respond", ASK, "--tools", str(tools), "--stream"]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    assert line.startswith("function call get_weather {")
    assert main(["respond", "hello", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "completed"


# A response that pauses 30 s of clock time between two pieces of text (D, R8): under the
# virtual clock it waits until a test moves the clock, so it can be cancelled half-way.
SLOW = """\
name: slow-answer
surface: response
steps:
  - text: "First half."
  - pause: 30s
  - text: "Second half."
"""


@pytest.fixture(scope="module")
def scripted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedServer]:
    """A mock of its own that knows ``slow-answer``, on a virtual clock."""
    folder = tmp_path_factory.mktemp("scenarios")
    (folder / "slow-answer.yaml").write_text(SLOW)
    settings = Settings(port=0, clock_mode="virtual", scenario_folders=(folder,))
    with ThreadedServer(settings) as server:
        yield server


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_r6_a_stream_cancelled_half_way_ends_cancelled(
    scripted: ThreadedServer, key: str, kind: str
) -> None:
    """The response waits on the clock after its first text; the stream's own `cancel`
    (R6) answers ``cancelling``, the stream then ends with ``response.cancelled``, each
    event once, and a second cancel finds it ended."""

    def check(events: list[Any], first: str, second: str, stream: Any) -> None:
        assert (first, second) == ("cancelling", "already_complete")
        assert [event.seq for event in events] == list(range(len(events)))
        assert isinstance(events[-1], ResponseCancelled)
        assert stream.response is not None
        assert stream.response.status == "cancelled"
        assert "Second half." not in stream.response.text

    if kind == "sync":
        with PokeeClient(scripted.url, key, retry=POLICY, timeout=10) as pokee:
            stream = pokee.responses.stream("hi", scenario="slow-answer")
            events, first = [], ""
            for event in stream:
                events.append(event)
                if isinstance(event, ResponseTextDelta) and not first:
                    first = stream.cancel()
            second = pokee.responses.cancel(stream.response_id or "")
        check(events, first, second, stream)
        return

    async def go() -> tuple[list[Any], str, str, Any]:
        async with AsyncPokeeClient(scripted.url, key, retry=POLICY, timeout=10) as pokee:
            stream = pokee.responses.stream("hi", scenario="slow-answer")
            events, first = [], ""
            async for event in stream:
                events.append(event)
                if isinstance(event, ResponseTextDelta) and not first:
                    first = await stream.cancel()
            second = await pokee.responses.cancel(stream.response_id or "")
            return events, first, second, stream

    check(*asyncio.run(go()))
