"""A turn's events, delivered exactly once and in order, whatever the network does (the
loop is `pokee_client.resumable`'s, shared with stateless responses).

When the rest of a turn cannot be had — M7 answers 404 because the log was evicted 120 s
after the turn ended, M9 answers with its "replayed" note, or resuming keeps failing — the
flow polls the session (S4) until it is idle, as the contract documents for recovery, and
reports the outcome as ``"unknown"`` with the session's metadata: the terminal event is
gone, and the metadata and files are what the turn left.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal

import httpx

from pokee_client.base import MAX_POLL, ClientCore
from pokee_client.effects import Flow, sleep
from pokee_client.errors import ProtocolError
from pokee_client.events import (
    Event,
    MessageCompleted,
    MessageCreated,
    MessageError,
    TextDelta,
    parse_event,
)
from pokee_client.operations import get_session
from pokee_client.records import Session
from pokee_client.resumable import StreamReader, follow

OutcomeStatus = Literal["completed", "error", "cancelled", "unknown"]


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


class TurnReader(StreamReader):
    """What has been received of one turn: where to resume, and what to report."""

    def __init__(self, session_id: str, response_id: str | None = None, after: int = -1):
        super().__init__(parse_event, response_id, after)
        self.session_id = session_id
        self.sent = False  # whether the message starting the turn may have reached the server
        self._text: list[str] = []
        self._terminal: Event | None = None

    def taken(self, event: Event) -> None:
        if type(event) is TextDelta:
            self._text.append(event.content)
        elif event.terminal:
            self._terminal = event
        elif type(event) is MessageCreated and self.response_id is None:
            self.response_id = event.response_id

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
    resume = partial(core.requests.resume_events, reader.session_id)
    if (yield from follow(core, reader, request, resume)):
        return reader.outcome()
    return (yield from poll_until_idle(core, reader, on_session))


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
