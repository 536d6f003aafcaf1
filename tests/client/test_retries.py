"""When the client repeats a call, and when it must not (see `pokee_client.retrying`):
scripted answers through httpx's MockTransport, so every case is exact and instant. The
waits go to a recording sleeper; nothing really sleeps."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from pokee_client import (
    AsyncPokeeClient,
    InternalServerError,
    PokeeClient,
    RateLimitedError,
    RetryPolicy,
    SessionBusyError,
    TransportError,
)
from tests.client.flaky import SESSION_ID, frame, turn_log
from tests.client.helpers import Sleeper

POLICY = RetryPolicy(jitter=lambda: 0.5)
RECORD = {
    "id": SESSION_ID,
    "created_at": 1.0,
    "last_activity": 1.0,
    "busy": False,
    "persistent": False,
    "ttl": 14400,
    "status": "ready",
    "metadata": {},
    "file_access": {"read": [""], "write": [""]},
}
Answer = httpx.Response | Exception


def error(status: int, short: str, retry_after: int | None = None) -> httpx.Response:
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
    return httpx.Response(status, json={"error": short, "message": "scripted"}, headers=headers)


class Script:
    """Answers in order, one per request; records the requests."""

    def __init__(self, *answers: Answer):
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def client(script: Script, sleeper: Sleeper) -> PokeeClient:
    transport = httpx.MockTransport(script)
    return PokeeClient(
        "http://pokee.test", "pk_t_key", sleep=sleeper, retry=POLICY, transport=transport
    )


def lost(kind: Callable[..., Exception] = httpx.RemoteProtocolError) -> Exception:
    return kind("Server disconnected without sending a response.")


def test_503_is_retried_after_its_retry_after() -> None:
    sleeper = Sleeper()
    script = Script(error(503, "service_unavailable", 2), httpx.Response(200, json=RECORD))
    assert client(script, sleeper).sessions.get(SESSION_ID).id == SESSION_ID
    assert sleeper.calls == [2.0]
    assert len(script.requests) == 2


def test_429_on_create_is_retried_because_nothing_was_created() -> None:
    sleeper = Sleeper()
    script = Script(error(429, "rate_limited", 7), httpx.Response(201, json=RECORD))
    client(script, sleeper).sessions.create()
    assert sleeper.calls == [7.0]


def test_a_long_retry_after_is_surfaced_not_slept() -> None:
    sleeper = Sleeper()
    script = Script(error(429, "rate_limited", 3600))
    with pytest.raises(RateLimitedError) as raised:
        client(script, sleeper).sessions.create()
    assert (raised.value.status, raised.value.retry_after) == (429, 3600.0)
    assert sleeper.calls == []


def test_5xx_on_a_read_backs_off_exponentially_then_gives_up() -> None:
    sleeper = Sleeper()
    script = Script(*[error(500, "internal_error")] * 4)
    with pytest.raises(InternalServerError):
        client(script, sleeper).sessions.list()
    assert len(script.requests) == POLICY.attempts
    assert sleeper.calls == [0.1875, 0.375, 0.75]


def test_backoff_is_capped_and_jittered() -> None:
    low = RetryPolicy(jitter=lambda: 0.0)
    high = RetryPolicy(jitter=lambda: 1.0)
    assert [low.backoff_delay(n) for n in range(8)] == [0.125, 0.25, 0.5, 1, 2, 4, 4, 4]
    assert [high.backoff_delay(n) for n in range(8)] == [0.25, 0.5, 1, 2, 4, 8, 8, 8]


def test_5xx_on_create_is_not_retried() -> None:
    """It may have created the session: a repeat could make a second one."""
    sleeper = Sleeper()
    script = Script(error(500, "internal_error"))
    with pytest.raises(InternalServerError):
        client(script, sleeper).sessions.create()
    assert len(script.requests) == 1


def test_a_lost_answer_to_create_is_not_retried() -> None:
    script = Script(lost(httpx.ReadError))
    with pytest.raises(TransportError, match=r"POST http://pokee\.test/v1/sessions"):
        client(script, Sleeper()).sessions.create()
    assert len(script.requests) == 1


def test_a_refused_connection_is_retried_even_for_create() -> None:
    """Nothing was sent, so nothing can have been created."""
    sleeper = Sleeper()
    script = Script(lost(httpx.ConnectError), httpx.Response(201, json=RECORD))
    client(script, sleeper).sessions.create()
    assert len(script.requests) == 2
    assert sleeper.calls == [0.1875]


def test_409_busy_is_reported_at_once() -> None:
    sleeper = Sleeper()
    script = Script(error(409, "session_busy"))
    with pytest.raises(SessionBusyError) as raised:
        list(client(script, sleeper).messages.stream(SESSION_ID, "hello"))
    assert raised.value.error == "session_busy"
    assert len(script.requests) == 1
    assert sleeper.calls == []


def sse(after: int = -1) -> httpx.Response:
    body = b"".join(frame(s, t, d) for s, (t, d) in enumerate(turn_log()) if s > after)
    headers = {"content-type": "text/event-stream", "x-response-id": "msg_" + "ab" * 12}
    return httpx.Response(200, content=body, headers=headers)


def test_a_message_whose_answer_was_lost_is_sent_again_with_the_same_key() -> None:
    """M9: the repeat replays the same turn; the events arrive once."""
    script = Script(lost(), sse())
    stream = client(script, Sleeper()).messages.stream(SESSION_ID, "hello")
    assert [e.seq for e in stream] == list(range(len(turn_log())))
    first, second = (r.headers["idempotency-key"] for r in script.requests)
    assert first == second
    assert first.startswith("pokee-")
    assert json.loads(script.requests[1].content) == {"message": "hello"}


def test_each_message_gets_its_own_key_unless_given() -> None:
    script = Script(sse(), sse(), sse())
    pokee = client(script, Sleeper())
    pokee.messages.send(SESSION_ID, "one")
    pokee.messages.send(SESSION_ID, "two")
    pokee.messages.send(SESSION_ID, "three", idempotency_key="mine")
    keys = [r.headers["idempotency-key"] for r in script.requests]
    assert len(set(keys)) == 3
    assert keys[2] == "mine"


def test_a_delete_whose_answer_was_lost_is_done_when_the_repeat_finds_nothing() -> None:
    script = Script(lost(httpx.ReadError), error(404, "not_found"))
    client(script, Sleeper()).sessions.delete(SESSION_ID)
    assert [r.method for r in script.requests] == ["DELETE", "DELETE"]


def test_the_async_client_follows_the_same_rules() -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    script = Script(error(503, "service_unavailable", 3), httpx.Response(200, json=RECORD))

    async def handler(request: httpx.Request) -> httpx.Response:
        return script(request)

    async def go() -> Any:
        transport = httpx.MockTransport(handler)
        async with AsyncPokeeClient(
            "http://pokee.test", "pk_t_key", sleep=sleep, transport=transport
        ) as pokee:
            return await pokee.sessions.get(SESSION_ID)

    assert asyncio.run(go()).id == SESSION_ID
    assert waits == [3.0]
