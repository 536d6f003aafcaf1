"""A stream of numbered events read exactly once and in order, whatever the network does:
the one loop behind a turn's stream (M1, M7) and a stateless response's (R5, R6).

Both streams are only views of a log the server keeps (M5; R5 says the same of responses):
the work goes on when the connection does not. So whenever a stream ends before its
terminal event — the connection cut (also mid-frame), a frame whose data is not JSON, a
gap in ``sequence_number``, or ``stream_read_timeout`` without a sign of life (a stall:
neither a new event nor M3's keep-alive comment, which the server sends every 15 s while
nothing is due, so a turn waiting minutes on a tool is not taken for a stall; bytes that
never complete a line, or events already delivered, are no sign of life) — `follow` asks
for the rest from the last event it delivered, and drops any event it has already
delivered. If the first request's answer itself was lost (no response id yet), it is sent
again with the same ``Idempotency-Key``, which replays the same log (M9, R6) instead of
starting the work a second time.

What to do when the rest cannot be had is the caller's: the resume answers 404 (the log was
evicted 120 s after the end), the idempotent replay answers with its JSON note instead of
events, or resuming keeps failing. A turn then polls its session; a response has nothing
to poll. `follow` reports it and leaves the decision to them.

What a server sends is bounded (`pokee_client.limits`): an event past ``max_event_size`` is
an error, not a stall (resuming would bring it again), and the stream as a whole, resumes
included, ends at ``stream_deadline``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
from httpx_sse import ServerSentEvent

from pokee_client.base import ClientCore
from pokee_client.bodies import read_body
from pokee_client.effects import Close, Emit, Flow, NextChunk, Sleep
from pokee_client.errors import NotFoundError, PokeeError, ProtocolError, TransportError
from pokee_client.events import Event
from pokee_client.exchange import call_streamed
from pokee_client.sse import EventReader

_JSON = json.JSONDecoder()

# The typed event of a type and its data, for one surface's vocabulary.
Parse = Callable[[int, str, dict[str, Any]], Event]
# The request for a log's events after the given seq (-1: all of them).
Resume = Callable[[str, int], httpx.Request]


class BrokenStream(Exception):
    """The stream can no longer be trusted from this point on; resume it."""


class StreamReader:
    """What has been received of one log: where to resume from, and how often it was.
    A surface's reader adds what it reports at the end (`taken` sees each new event)."""

    def __init__(self, parse: Parse, response_id: str | None = None, after: int = -1):
        self.response_id = response_id
        self.last_seq = after
        self.received = 0
        self.resumes = 0
        self._parse = parse

    def opened(self, response: httpx.Response) -> None:
        header = response.headers.get("x-response-id")
        if header and self.response_id is None:
            self.response_id = header
        elif header and header != self.response_id:
            raise ProtocolError(f"resumed {self.response_id} but got the stream of {header}")

    def accept(self, sse: ServerSentEvent) -> Event | None:
        """The event to deliver, or None for one already delivered (a replay)."""
        try:
            seq = int(sse.id)
        except ValueError:
            raise BrokenStream(f"an event without a numeric id ({sse.id!r})") from None
        if seq <= self.last_seq:
            return None
        if seq != self.last_seq + 1:
            raise BrokenStream(f"event {seq} arrived after event {self.last_seq}")
        text = sse.data
        try:
            data, end = _JSON.raw_decode(text)  # json.loads, less its wrapping (hot path)
        except (ValueError, RecursionError):
            end = -1
        if end != len(text):
            raise BrokenStream(f"event {seq}: its data is not JSON")
        if not isinstance(data, dict) or data.get("sequence_number") != seq:
            raise BrokenStream(f"event {seq}: its data does not carry sequence_number {seq}")
        event = self._parse(seq, sse.event, data)
        self.last_seq = seq
        self.received += 1
        self.taken(event)
        return event

    def taken(self, event: Event) -> None:
        """A new event, about to be delivered."""


def follow(
    core: ClientCore, reader: StreamReader, request: httpx.Request, resume: Resume
) -> Flow[bool]:
    """Emit the log's events from ``request`` (the first request, or a resume) to the end:
    True once the terminal event is out, False when the rest cannot be had (see the module
    docstring). ``resume(response_id, after)`` builds the request for the rest."""
    first = request
    resuming = False  # whether `request` is a resume rather than the first request
    fruitless = 0  # tries in a row that brought no new event
    deadline = core.clock() + core.limits.stream_deadline
    while True:
        _check_deadline(core, deadline, request)
        received = reader.received
        try:
            response = yield from call_streamed(core, request, idempotent=True)
        except NotFoundError:
            if request is first and reader.response_id is None:
                raise  # what the first request addressed is unknown (M1: the session)
            return False  # evicted (M7, R6)
        if not response.headers.get("content-type", "").startswith("text/event-stream"):
            yield from _replayed_note(core, response, reader)
            return False
        try:
            reader.opened(response)
            if (yield from _read_events(core, reader, response, deadline)):
                return True
        except (httpx.TransportError, BrokenStream):
            # No yield in a finally: a flow closed early must not ask for more I/O (the
            # driver closes what is left open).
            yield Close(response)
        except PokeeError:
            yield Close(response)
            raise
        if reader.received > received:
            fruitless = 0
        elif resuming or reader.response_id is None:
            fruitless += 1
        if fruitless >= core.policy.resumes:
            return False
        if fruitless:  # the last try brought nothing new: back off before the next
            yield Sleep(core.policy.backoff_delay(fruitless - 1))
        reader.resumes += 1
        if reader.response_id is not None:  # else the first request again, same key (M9)
            resuming = True
            request = resume(reader.response_id, reader.last_seq)


def _read_events(
    core: ClientCore, reader: StreamReader, response: httpx.Response, deadline: float
) -> Flow[bool]:
    """Emit the new events of one opened stream; True once the terminal one is out (the
    answer closed). Raises `BrokenStream` where the stream stops being worth reading."""
    events = EventReader(core.limits.max_event_size)
    next_chunk = NextChunk(response)
    quiet_since = core.clock()
    while True:
        chunk: bytes | None = yield next_chunk
        if chunk is None:
            raise BrokenStream("the stream ended before its terminal event")
        pinged = events.comments
        fresh = False
        for sse in events.feed(chunk):
            event = reader.accept(sse)
            if event is not None:
                fresh = True
                yield Emit(event)
                if event.terminal:
                    yield Close(response)
                    return True
        # Measured after the events were handed over: a slow consumer is not a stall.
        now = core.clock()
        if fresh or events.comments > pinged:
            quiet_since = now
        elif now - quiet_since > core.stream_read_timeout:
            raise BrokenStream(f"no new event for {now - quiet_since:.1f} s")
        _check_deadline(core, deadline, response.request, now)


def _check_deadline(
    core: ClientCore, deadline: float, request: httpx.Request, now: float | None = None
) -> None:
    if (core.clock() if now is None else now) > deadline:
        raise TransportError(
            f"{request.method} {request.url.path}: the stream went on for more than "
            f"{core.limits.stream_deadline:g} s (stream_deadline)"
        )


def _replayed_note(core: ClientCore, response: httpx.Response, reader: StreamReader) -> Flow[None]:
    """M9 (and R6) after eviction: ``{"response_id", "status": "replayed", "note"}``."""
    body = yield from read_body(core, response, core.clock())
    try:
        note = json.loads(body)
    except (ValueError, RecursionError):
        note = None
    if not isinstance(note, dict) or note.get("status") != "replayed":
        raise ProtocolError(f"{response.request.url.path}: neither an event stream nor M9's note")
    if reader.response_id is None and isinstance(note.get("response_id"), str):
        reader.response_id = note["response_id"]
