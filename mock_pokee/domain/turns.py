"""Turns (contract M): a scenario run owned by its session, and its append-only event log.

The HTTP request never owns a turn. A live stream, a resume from ``Last-Event-ID`` (M7) and
an idempotent replay (M9) are all readers of the same log, each from some position; a
client that disconnects only stops its reader. Busy, metadata, files and
``last_activity`` change from the turn itself.

The order at the end is strict (M5): the session is idle, its metadata final and its files
written before the terminal event is appended, so no reader can see the end early.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

from mock_pokee.clock import Clock
from mock_pokee.domain.errors import BugReport, DomainError, ScenarioFailure, log_bug
from mock_pokee.domain.toolcalls import ToolCalls
from mock_pokee.limits import MAX_JOURNALED_DATA

TERMINAL_TYPES = frozenset({"message.completed", "message.error", "message.cancelled"})
PING_EVERY = 15.0  # M3: a comment while no event is due for 15 s of clock time

TurnStatus = Literal["in_progress", "completed", "error", "cancelled"]


def new_response_id() -> str:
    """M1: ``msg_`` and 24 hex digits."""
    return "msg_" + secrets.token_hex(12)


@dataclass(frozen=True, slots=True)
class Event:
    """One SSE event of a turn: ``seq`` counts from 0 within the turn (M3)."""

    seq: int
    type: str
    data: str  # one-line JSON, ``sequence_number`` included


@dataclass(frozen=True, slots=True)
class Ping:
    """A keep-alive comment (M3)."""


@dataclass(frozen=True, slots=True)
class Drop:
    """The scenario's ``drop`` step: a live stream ends here, abruptly (the turn goes on)."""


class Deliveries:
    """Which of a turn's events reached a client (C4's "was a client listening").

    Each stream that reads the log delivers a contiguous run of events, from the first
    it sends to the last one the server accepted from it; an event was heard if any
    stream's run covers it. Kept apart from the log so that the journal can answer
    after the turn's log has been evicted.
    """

    __slots__ = ("runs",)

    def __init__(self) -> None:
        self.runs: list[list[int]] = []  # [first, last delivered]; last < first: none yet

    def open(self, first: int) -> list[int]:
        run = [first, first - 1]
        self.runs.append(run)
        return run

    def heard(self, seq: int) -> bool:
        return any(first <= seq <= last for first, last in self.runs)


@dataclass(frozen=True, slots=True)
class EventRecord:
    """A journal entry's fields for one event, rendered when the journal is read: its data
    too (the inspector shows it), whole as JSON when short, else its first
    `MAX_JOURNALED_DATA` characters as text, cut."""

    response_id: str
    seq: int
    type: str
    deliveries: Deliveries
    data: str

    @classmethod
    def of(cls, response_id: str, event: Event, deliveries: Deliveries) -> EventRecord:
        data = event.data
        kept = data if len(data) <= MAX_JOURNALED_DATA else data[:MAX_JOURNALED_DATA] + "…"
        return cls(response_id, event.seq, event.type, deliveries, kept)

    def render(self) -> dict[str, Any]:
        whole = len(self.data) <= MAX_JOURNALED_DATA
        return {
            "response_id": self.response_id,
            "event_seq": self.seq,  # the event's own id (M3); ``seq`` is the journal's
            "type": self.type,
            "heard": self.deliveries.heard(self.seq),
            "data": json.loads(self.data) if whole else self.data,
        }


class TurnLog:
    """The ordered events of one turn, and the readers waiting for more."""

    def __init__(self, clock: Clock):
        self._clock = clock
        self.events: list[Event] = []
        self.drop_after: set[int] = set()  # event counts after which live streams drop
        self.closed = False
        self.deliveries = Deliveries()
        self._waiters: set[asyncio.Event] = set()
        self.producer: asyncio.Task[None] | None = None  # the turn's task, which readers await

    def append(self, type_: str, data: dict[str, Any]) -> Event:
        if self.closed:
            raise RuntimeError("the turn has already ended")
        seq = len(self.events)
        payload = json.dumps({**data, "sequence_number": seq}, separators=(",", ":"))
        event = Event(seq, type_, payload)
        self.events.append(event)
        if type_ in TERMINAL_TYPES:
            self.closed = True
        self._wake()
        return event

    def mark_drop(self) -> None:
        self.drop_after.add(len(self.events))
        self._wake()

    def _wake(self) -> None:
        for waiter in self._waiters:
            waiter.set()

    async def read(self, after: int, *, live: bool) -> AsyncGenerator[Event | Ping | Drop]:
        """Events with ``seq > after``, then live ones until the terminal event.

        A ``live`` reader (the stream that started the turn) honours drop marks; readers
        that resume or replay do not. While nothing is due for `PING_EVERY` seconds of
        clock time, yields a `Ping`. The reader's caller asks for the next item only once
        it has sent the last one, so every event it asks past counts as delivered.
        """
        position = after + 1
        run = self.deliveries.open(position)
        while True:
            while position < len(self.events):
                if live and position in self.drop_after:
                    yield Drop()
                    return
                event = self.events[position]
                position += 1
                yield event
                run[1] = event.seq
            if self.closed:
                return
            if live and position in self.drop_after:
                yield Drop()
                return
            if not await self._wait(self._clock.now() + PING_EVERY):
                yield Ping()

    async def _wait(self, until: float) -> bool:
        """Wait for more events or until clock time ``until``; True if more came."""
        woken = asyncio.Event()
        self._waiters.add(woken)
        try:
            with self._clock.watching(self.producer):  # a client waits on the turn (autojump)
                return await self._clock.wait_until(woken, until)
        finally:
            self._waiters.discard(woken)


StepRunner = Callable[["Turn"], Awaitable[None]]


class Turn:
    """One message's run. ``end`` is idempotent: the first terminal event wins."""

    def __init__(
        self,
        *,
        session_id: str,
        message: str,
        scenario: str,
        clock: Clock,
        on_end: Callable[[Turn], None],
        on_event: Callable[[Turn, Event], None] | None = None,
        report: BugReport = log_bug,
    ):
        self.id = new_response_id()
        self.session_id = session_id
        self.message = message
        self.scenario = scenario
        self.clock = clock
        self.log = TurnLog(clock)
        self.status: TurnStatus = "in_progress"
        self.started_at = clock.now()
        self.ended_at: float | None = None
        self.error: str | None = None
        self.usage = {"input_tokens": 0, "output_tokens": 0}
        self._on_end = on_end
        self._on_event = on_event
        self._report = report
        self._task: asyncio.Task[None] | None = None
        self.polled: tuple[float, int] | None = None  # (clock time, events) at the last poll
        self.tool_calls = ToolCalls(self.emit)  # M12: client tool calls awaiting results
        self._append(
            "message.created",
            {"id": self.id, "session_id": session_id, "status": "in_progress"},
        )

    @property
    def running(self) -> bool:
        return self.status == "in_progress"

    def start(self, run: StepRunner) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(run))
        self.log.producer = self._task
        self.clock.track(self._task)

    @property
    def task(self) -> asyncio.Task[None] | None:
        """The task running the scenario (None before `start`)."""
        return self._task

    async def _run(self, run: StepRunner) -> None:
        try:
            await run(self)
        except asyncio.CancelledError:
            self.end("cancelled")
            raise
        except ScenarioFailure as failure:
            self.end("error", failure.error)
        except DomainError as refused:  # e.g. a write outside the session's file_access
            self.end("error", f"{refused.error}: {refused.message}")
        except Exception as exc:  # a bug in the mock: reported; the turn ends, not the server
            self._report(exc)
            self.end("error", f"internal_error: {type(exc).__name__}: {exc}")
        else:
            self.end("completed")

    def emit(self, type_: str, **data: Any) -> None:
        if self.running:
            self._append(type_, data)

    def _append(self, type_: str, data: dict[str, Any]) -> None:
        event = self.log.append(type_, data)
        if self._on_event is not None:
            self._on_event(self, event)

    def end(self, status: Literal["completed", "error", "cancelled"], error: str = "") -> None:
        """Finish the turn: session effects first (via ``on_end``), then the terminal event."""
        if not self.running:
            return
        self.status = status
        self.error = error or None
        self.ended_at = self.clock.now()
        self._on_end(self)
        if status == "completed":
            self._append(
                "message.completed", {"id": self.id, "status": "completed", "usage": self.usage}
            )
        elif status == "error":
            self._append("message.error", {"id": self.id, "error": error})
        else:
            self._append("message.cancelled", {"id": self.id, "status": "cancelled"})
        task, current = self._task, asyncio.current_task()
        if task is not None and task is not current and not task.done():
            task.cancel()

    def describe(self) -> dict[str, Any]:
        """For ``GET /_mock/state`` (C3)."""
        return {
            "id": self.id,
            "session_id": self.session_id,
            "scenario": self.scenario,
            "status": self.status,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "events": len(self.log.events),
            **self.tool_calls.describe(),
        }
