"""A turn's events, delivered exactly once and in order, whatever the network does.

The stream of a turn is only a view of the turn's log (M5): the turn goes on when the
connection does not. So whenever a stream ends before its terminal event — the connection
cut (also mid-frame), a frame whose data is not JSON, a gap in ``sequence_number``, or
``stream_read_timeout`` without a sign of life (a stall: neither a new event nor M3's
keep-alive comment, which the server sends every 15 s while a turn is quiet, so a turn
waiting minutes on a tool is not taken for a stall; bytes that never complete a line, or
events already delivered, are no sign of life) — the flow asks for the rest with M7 from
the last event it delivered, and drops any event it has already delivered. If the
message's answer itself was lost (no response id yet), the message is sent again with the
same ``Idempotency-Key``, which replays the same turn (M9) instead of starting a second.

When the rest cannot be had — M7 answers 404 because the log was evicted 120 s after the
turn ended, M9 answers with its "replayed" note, or resuming keeps failing — the flow polls
the session (S4) until it is idle, as the contract documents for recovery, and reports the
outcome as ``"unknown"`` with the session's metadata: the terminal event is gone, and the
metadata and files are what the turn left.

What a server sends is bounded (`pokee_client.limits`): an event past ``max_event_size`` is
an error, not a stall (resuming would bring it again), and the stream as a whole, resumes
included, ends at ``stream_deadline``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
from httpx_sse import ServerSentEvent

from pokee_client.base import MAX_POLL, ClientCore
from pokee_client.bodies import read_body
from pokee_client.effects import Close, Emit, Flow, NextChunk, Sleep, sleep
from pokee_client.errors import NotFoundError, PokeeError, ProtocolError, TransportError
from pokee_client.events import (
    Event,
    MessageCompleted,
    MessageCreated,
    MessageError,
    TextDelta,
    parse_event,
)
from pokee_client.exchange import call_streamed
from pokee_client.operations import get_session
from pokee_client.records import Session
from pokee_client.sse import EventReader

OutcomeStatus = Literal["completed", "error", "cancelled", "unknown"]
_JSON = json.JSONDecoder()


@dataclass(frozen=True)
class TurnOutcome:
    """How a turn ended, as far as the client could see.

    ``status`` is ``"unknown"`` when the terminal event could not be had (``polled`` is
    then True and ``metadata`` holds the idle session's metadata). ``text`` is the answer's
    text (its ``text.delta`` contents); ``events`` counts the events delivered, and
    ``resumes`` how often the stream had to be picked up again.
    """

    session_id: str
    response_id: str | None
    status: OutcomeStatus
    error: str | None = None
    usage: dict[str, int] = field(default_factory=dict)
    text: str = ""
    events: int = 0
    resumes: int = 0
    polled: bool = False
    metadata: dict[str, Any] | None = None


class BrokenStream(Exception):
    """The stream can no longer be trusted from this point on; resume it."""


class TurnReader:
    """What has been received of one turn: where to resume, and what to report."""

    def __init__(self, session_id: str, response_id: str | None = None, after: int = -1):
        self.session_id = session_id
        self.response_id = response_id
        self.last_seq = after
        self.received = 0
        self.resumes = 0
        self._text: list[str] = []
        self._terminal: Event | None = None

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
        event = parse_event(seq, sse.event, data)
        self.last_seq = seq
        self.received += 1
        if type(event) is TextDelta:
            self._text.append(event.content)
        elif event.terminal:
            self._terminal = event
        elif type(event) is MessageCreated and self.response_id is None:
            self.response_id = event.response_id
        return event

    def outcome(self, session: Session | None = None) -> TurnOutcome:
        """From the terminal event, or (``session`` given) from polling."""
        terminal = self._terminal
        status: OutcomeStatus = "unknown"
        if isinstance(terminal, MessageCompleted):
            status = "completed"
        elif isinstance(terminal, MessageError):
            status = "error"
        elif terminal is not None:
            status = "cancelled"
        return TurnOutcome(
            session_id=self.session_id,
            response_id=self.response_id,
            status=status,
            error=terminal.error if isinstance(terminal, MessageError) else None,
            usage=terminal.usage if isinstance(terminal, MessageCompleted) else {},
            text="".join(self._text),
            events=self.received,
            resumes=self.resumes,
            polled=session is not None,
            metadata=dict(session.metadata) if session is not None else None,
        )


def stream_turn(
    core: ClientCore,
    reader: TurnReader,
    request: httpx.Request,
    on_session: Callable[[Session], None] | None = None,
) -> Flow[TurnOutcome]:
    """Emit the turn's events from ``request`` (the message, or an M7 resume) to the end;
    ``on_session`` sees each session record polled if the flow has to fall back."""
    first = request
    resuming = False  # whether `request` is a resume (M7) rather than the message itself
    fruitless = 0  # tries in a row that brought no new event
    deadline = core.clock() + core.limits.stream_deadline
    while True:
        _check_deadline(core, deadline, request)
        received = reader.received
        try:
            response = yield from call_streamed(core, request, idempotent=True)
        except NotFoundError:
            if request is first and reader.response_id is None:
                raise  # the session itself is unknown (M1)
            return (yield from poll_until_idle(core, reader, on_session))  # evicted (M7)
        if not response.headers.get("content-type", "").startswith("text/event-stream"):
            yield from _replayed_note(core, response, reader)
            return (yield from poll_until_idle(core, reader, on_session))
        try:
            reader.opened(response)
            if (yield from _read_events(core, reader, response, deadline)):
                return reader.outcome()
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
            return (yield from poll_until_idle(core, reader, on_session))
        if fruitless:  # the last try brought nothing new: back off before the next
            yield Sleep(core.policy.backoff_delay(fruitless - 1))
        reader.resumes += 1
        if reader.response_id is not None:  # else the message again, with the same key (M9)
            resuming = True
            request = core.requests.resume_events(
                reader.session_id, reader.response_id, reader.last_seq
            )


def _read_events(
    core: ClientCore, reader: TurnReader, response: httpx.Response, deadline: float
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
            f"{request.method} {request.url.path}: the turn's stream went on for more than "
            f"{core.limits.stream_deadline:g} s (stream_deadline)"
        )


def _replayed_note(core: ClientCore, response: httpx.Response, reader: TurnReader) -> Flow[None]:
    """M9 after eviction: ``{"response_id", "status": "replayed", "note"}``."""
    body = yield from read_body(core, response, core.clock())
    try:
        note = json.loads(body)
    except (ValueError, RecursionError):
        note = None
    if not isinstance(note, dict) or note.get("status") != "replayed":
        raise ProtocolError(f"{response.request.url.path}: neither an event stream nor M9's note")
    if reader.response_id is None and isinstance(note.get("response_id"), str):
        reader.response_id = note["response_id"]


def poll_until_idle(
    core: ClientCore,
    reader: TurnReader,
    on_session: Callable[[Session], None] | None = None,
) -> Flow[TurnOutcome]:
    """S4 until ``busy`` is false (M5's documented recovery), then the outcome from it."""
    waited = 0.0
    while True:
        session = yield from get_session(core, reader.session_id)
        if on_session is not None:
            on_session(session)
        if not session.busy:
            return reader.outcome(session)
        if waited >= MAX_POLL:
            raise ProtocolError(
                f"session {reader.session_id} still busy after {waited:.0f} s of polling "
                "(M10 ends every turn within 90 minutes)"
            )
        yield from sleep(core.poll_interval)
        waited += core.poll_interval
