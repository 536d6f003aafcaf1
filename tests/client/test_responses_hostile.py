"""A stateless response's stream (R5) broken on purpose over real sockets (see
`tests.client.hostile`): every event reaches the caller once and in order through one
resume (R6), a request whose answer was lost is repeated with its key, and what cannot be
had, or should not be read, ends in a clear error rather than a guess or a wait.

Each case runs with both clients; their waits (backoff) go to a recording sleeper."""

from __future__ import annotations

import asyncio
import time
import tracemalloc
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from pokee_client import (
    AsyncPokeeClient,
    Limits,
    PokeeClient,
    ProtocolError,
    RetryPolicy,
    TransportError,
)
from tests.client.flaky import frame
from tests.client.helpers import Sleeper
from tests.client.hostile import Hostile, Reply, Seen
from tests.client.response_log import RESPONSE_ID, response_log

KEY = "pk_hostile_key"
KINDS = ["sync", "async"]
POST = "/v1/responses"
EVENTS = r"/v1/responses/[^/]+/events"
LOG = response_log()
SEQS = [(seq, type_) for seq, (type_, _) in enumerate(LOG)]
POLICY = RetryPolicy(jitter=lambda: 0.5)


@pytest.fixture
def hostile() -> Iterator[Hostile]:
    with Hostile().serving() as server:
        yield server


def frames(after: int = -1, upto: int = len(LOG)) -> bytes:
    """The frames of events ``after`` < seq < ``upto``."""
    return b"".join(frame(seq, t, d) for seq, (t, d) in enumerate(LOG) if after < seq < upto)


def replay(seen: Seen, reply: Reply) -> None:
    """R6: the events after ``Last-Event-ID``, to the end."""
    reply.events_head(RESPONSE_ID)
    reply.send(frames(int(seen.headers.get("last-event-id", "-1"))))


def streamed(kind: str, url: str, sleeper: Sleeper, **options: Any) -> tuple[list[Any], Any]:
    """One ``responses.stream("hi")`` read to its end with either client: (the events
    as (seq, type), the stream)."""
    options = {"retry": POLICY, **options}
    if kind == "sync":
        with PokeeClient(url, KEY, sleep=sleeper, **options) as pokee:
            stream = pokee.responses.stream("hi")
            return [(e.seq, e.type) for e in stream], stream

    async def nap(seconds: float) -> None:
        sleeper(seconds)

    async def go() -> tuple[list[Any], Any]:
        async with AsyncPokeeClient(url, KEY, sleep=nap, **options) as pokee:
            stream = pokee.responses.stream("hi")
            return [(e.seq, e.type) async for e in stream], stream

    return asyncio.run(go())


def failure(work: Callable[[], object]) -> Exception:
    with pytest.raises(Exception) as raised:  # noqa: PT011 (each test checks the kind)
        work()
    return raised.value


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("after", "cut"), [(0, False), (3, False), (3, True), (len(LOG) - 1, True)]
)
def test_r6_a_broken_stream_is_resumed_once_from_the_last_event(
    hostile: Hostile, kind: str, after: int, cut: bool
) -> None:
    """Cut after ``after`` whole events (``cut``: and half of the next frame): the rest
    comes from one resume after the last event delivered, each event once."""

    def broken(seen: Seen, reply: Reply) -> None:
        reply.events_head(RESPONSE_ID)
        reply.send(frames(upto=after))
        if cut:
            reply.send(frame(after, *LOG[after])[:20])

    hostile.route("POST", POST, broken)
    hostile.route("GET", EVENTS, replay)
    sleeper = Sleeper()
    received, stream = streamed(kind, hostile.url, sleeper)
    assert received == SEQS
    assert (stream.resumes, stream.response.text) == (1, "Hello there.")
    assert len(hostile.seen("POST", POST)) == 1
    (resumed,) = hostile.seen("GET", EVENTS)
    assert resumed.path == f"/v1/responses/{RESPONSE_ID}/events"
    assert resumed.headers.get("last-event-id") == (str(after - 1) if after else None)
    assert sleeper.calls == []  # a first resume does not wait


def unnamed(seen: Seen, reply: Reply) -> None:
    """A stream's head without ``X-Response-Id``, then a cut before any event."""
    reply.head(200, [("Content-Type", "text/event-stream")])


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("lost", [lambda seen, reply: None, unnamed], ids=["no answer", "unnamed"])
def test_r6_a_request_whose_answer_was_lost_is_repeated_with_its_key(
    hostile: Hostile, kind: str, lost: Callable[[Seen, Reply], None]
) -> None:
    """Cut before the server named the response (no answer at all, or a stream without
    ``X-Response-Id`` or event): only the request itself can bring it back, with the
    same ``Idempotency-Key``, which replays the response rather than paying for another."""
    answers = iter([lost, replay])
    hostile.route("POST", POST, lambda seen, reply: next(answers)(seen, reply))
    received, _ = streamed(kind, hostile.url, Sleeper())
    assert received == SEQS
    first, second = hostile.seen("POST", POST)
    assert first.headers["idempotency-key"] == second.headers["idempotency-key"]
    assert first.body == second.body
    assert hostile.seen("GET", EVENTS) == []


@pytest.mark.parametrize("kind", KINDS)
def test_r6_events_no_longer_kept_end_the_stream_with_a_transport_error(
    hostile: Hostile, kind: str
) -> None:
    """A resume answered 404 (the events were evicted 120 s after the end): a response
    has no session to poll, so the caller is told, once, and nothing else is asked."""

    def cut(seen: Seen, reply: Reply) -> None:
        reply.events_head(RESPONSE_ID)
        reply.send(frames(upto=4))

    hostile.route("POST", POST, cut)
    hostile.route(
        "GET",
        EVENTS,
        lambda seen, reply: reply.json(404, {"error": "not_found", "message": "gone"}),
    )
    error = failure(lambda: streamed(kind, hostile.url, Sleeper()))
    assert isinstance(error, TransportError), error
    assert f"the stream of {RESPONSE_ID} broke after 4 events" in str(error)
    assert "R6" in str(error)
    assert [r.method for r in hostile.requests] == ["POST", "GET"]


def test_r6_resumes_that_bring_nothing_give_up_after_backing_off(hostile: Hostile) -> None:
    def nothing(seen: Seen, reply: Reply) -> None:
        reply.events_head(RESPONSE_ID)

    hostile.route("POST", POST, nothing)
    hostile.route("GET", EVENTS, nothing)
    sleeper = Sleeper()
    error = failure(lambda: streamed("sync", hostile.url, sleeper))
    assert isinstance(error, TransportError), error
    assert len(hostile.seen("GET", EVENTS)) == POLICY.resumes
    assert sleeper.calls == [POLICY.backoff_delay(n) for n in range(POLICY.resumes - 1)]


@pytest.mark.parametrize("kind", KINDS)
def test_r5_a_silent_stream_is_a_stall_and_is_resumed(hostile: Hostile, kind: str) -> None:
    def silent(seen: Seen, reply: Reply) -> None:
        reply.events_head(RESPONSE_ID)
        reply.send(frames(upto=2))
        reply.pause(3.0)

    hostile.route("POST", POST, silent)
    hostile.route("GET", EVENTS, replay)
    received, _ = streamed(kind, hostile.url, Sleeper(), stream_read_timeout=0.2)
    assert received == SEQS
    assert hostile.seen("GET", EVENTS)[0].headers["last-event-id"] == "1"


@pytest.mark.parametrize("kind", KINDS)
def test_r5_an_event_past_the_limit_is_refused_not_resumed(hostile: Hostile, kind: str) -> None:
    def huge(seen: Seen, reply: Reply) -> None:
        reply.events_head(RESPONSE_ID)
        reply.send(frames(upto=4))
        reply.send(frame(4, "response.output_text.delta", {"delta": "a" * 100_000}))

    hostile.route("POST", POST, huge)
    limits = Limits(max_event_size=64 * 1024)
    error = failure(lambda: streamed(kind, hostile.url, Sleeper(), limits=limits))
    assert isinstance(error, ProtocolError), error
    assert "64 KiB (max_event_size)" in str(error)
    assert hostile.seen("GET", EVENTS) == []


# -- the rules every call keeps: bounded answers, total deadlines, no redirect followed -------

KiB, MiB = 1024, 1024 * 1024
PIECE = b"a" * (64 * KiB)  # made once: tracemalloc then sees only what the client keeps


def with_client(kind: str, url: str, action: Callable[[Any], Any], **options: Any) -> Any:
    """``action(client)`` with either client, awaiting what it returns; a stream it
    returns is read to its end."""
    options = {"retry": POLICY, "sleep": Sleeper(), **options}
    if kind == "sync":
        with PokeeClient(url, KEY, **options) as pokee:
            result = action(pokee)
            return list(result) if hasattr(result, "final_response") else result
    sleeper = options.pop("sleep")

    async def nap(seconds: float) -> None:
        sleeper(seconds)

    async def go() -> Any:
        async with AsyncPokeeClient(url, KEY, sleep=nap, **options) as pokee:
            result = action(pokee)
            if hasattr(result, "final_response"):
                return [event async for event in result]
            return await result

    return asyncio.run(go())


@pytest.mark.parametrize("kind", KINDS)
def test_r3_an_answer_past_max_answer_size_is_refused_and_not_read_whole(
    hostile: Hostile, kind: str
) -> None:
    """A response object is a JSON answer like any other: read as it comes up to
    ``max_answer_size``, never whole (nor repeated: a second call would be billed)."""

    def huge(seen: Seen, reply: Reply) -> None:
        reply.head(200, [("Content-Type", "application/json")])  # read until closed
        reply.send(b'{"id": "')
        reply.repeat(PIECE, 8 * MiB)

    hostile.route("POST", POST, huge)
    limits = Limits(max_answer_size=MiB)
    tracemalloc.start()
    try:
        error = failure(
            lambda: with_client(
                kind, hostile.url, lambda c: c.responses.create("hi"), limits=limits
            )
        )
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert isinstance(error, ProtocolError), error
    assert "1 MiB (max_answer_size)" in str(error)
    assert peak < 4 * MiB, f"peak {peak / MiB:.1f} MiB"
    assert len(hostile.seen("POST", POST)) == 1


@pytest.mark.parametrize("kind", KINDS)
def test_r5_a_stream_that_never_ends_meets_its_deadline(hostile: Hostile, kind: str) -> None:
    """New events forever and never a terminal one: ``stream_deadline`` ends the stream,
    resumes included."""

    def endless(seen: Seen, reply: Reply) -> None:
        reply.events_head(RESPONSE_ID)
        reply.send(frames(upto=4))
        seq = 4
        while True:
            reply.send(frame(seq, "response.output_text.delta", {"delta": "more "}))
            reply.pause(0.02)
            seq += 1

    hostile.route("POST", POST, endless)
    started = time.monotonic()
    error = failure(
        lambda: with_client(
            kind,
            hostile.url,
            lambda c: c.responses.stream("hi"),
            limits=Limits(stream_deadline=0.5),
        )
    )
    assert isinstance(error, TransportError), error
    assert "stream_deadline" in str(error)
    assert time.monotonic() - started < 2.0


CALLS: dict[str, tuple[str, str, Callable[[Any], Any]]] = {
    "create": ("POST", POST, lambda c: c.responses.create("hi")),
    "stream": ("POST", POST, lambda c: c.responses.stream("hi")),
    "resume": ("GET", EVENTS, lambda c: c.responses.resume(RESPONSE_ID, after=3)),
    "cancel": ("POST", r"/v1/responses/[^/]+/cancel", lambda c: c.responses.cancel(RESPONSE_ID)),
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("call", sorted(CALLS))
def test_a_redirect_is_reported_and_not_followed(hostile: Hostile, kind: str, call: str) -> None:
    """The key never goes to another origin: a redirect of any of the calls is an error
    naming its status and Location, and the other origin sees nothing."""
    method, path, action = CALLS[call]
    with Hostile().serving() as elsewhere:
        location = f"{elsewhere.url}/steal"

        def redirect(seen: Seen, reply: Reply) -> None:
            reply.head(307, [("Location", location), ("Content-Length", "0")])

        hostile.route(method, path, redirect)
        error = failure(lambda: with_client(kind, hostile.url, action))
        assert elsewhere.requests == []
    assert isinstance(error, ProtocolError), error
    assert "307" in str(error)
    assert location in str(error)
    assert "not followed" in str(error)
