"""The append-only event log of one run (a session's turn, M; a stateless response, R)
and the readers that follow it.

A live stream, a resume from ``Last-Event-ID`` (M7, R6) and an idempotent replay (M9, R6)
are all readers of the same log, each from some position; a client that disconnects only
stops its reader, never the run. The log knows nothing of either surface's vocabulary:
its events are numbered from 0 (M3) and the run that owns it says which one is the last.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any

from mock_pokee.clock import Clock
from mock_pokee.limits import MAX_JOURNALED_DATA

PING_EVERY = 15.0  # M3: a comment while no event is due for 15 s of clock time


@dataclass(frozen=True, slots=True)
class Event:
    """One SSE event of a run: ``seq`` counts from 0 within the run (M3)."""

    seq: int
    type: str
    data: str  # one-line JSON, ``sequence_number`` included


@dataclass(frozen=True, slots=True)
class Ping:
    """A keep-alive comment (M3)."""


@dataclass(frozen=True, slots=True)
class Drop:
    """A scenario's ``drop`` step: a live stream ends here, abruptly (the run goes on)."""


class Deliveries:
    """Which of a run's events reached a client (C4's "was a client listening").

    Each stream that reads the log delivers a contiguous run of events, from the first
    it sends to the last one the server accepted from it; an event was heard if any
    stream's run covers it. Kept apart from the log so that the journal can answer
    after the log has been evicted.
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


class EventLog:
    """The ordered events of one run, and the readers waiting for more."""

    def __init__(self, clock: Clock):
        self._clock = clock
        self.events: list[Event] = []
        self.size = 0  # characters of event data held (what retention counts, M7)
        self.drop_after: set[int] = set()  # event counts after which live streams drop
        self.closed = False
        self.deliveries = Deliveries()
        self._waiters: set[asyncio.Event] = set()
        self.producer: asyncio.Task[None] | None = None  # the run's task, which readers await

    def append(self, type_: str, data: dict[str, Any], *, last: bool) -> Event:
        """Add an event (``last``: the run's terminal event, after which nothing comes)."""
        if self.closed:
            raise RuntimeError("this run has already ended")
        seq = len(self.events)
        payload = json.dumps({**data, "sequence_number": seq}, separators=(",", ":"))
        event = Event(seq, type_, payload)
        self.events.append(event)
        self.size += len(payload)
        if last:
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

        A ``live`` reader (the stream that started the run) honours drop marks; readers
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

    async def until_closed(self) -> None:
        """Wait for the terminal event without reading (a client waiting for a whole
        answer, R3): no events count as heard, and under the autojump clock the wait
        moves time as a stream's reader does (C1)."""
        while not self.closed:
            await self._wait(self._clock.now() + PING_EVERY)

    async def _wait(self, until: float) -> bool:
        """Wait for more events or until clock time ``until``; True if more came."""
        woken = asyncio.Event()
        self._waiters.add(woken)
        try:
            with self._clock.watching(self.producer):  # a client waits on the run (autojump)
                return await self._clock.wait_until(woken, until)
        finally:
            self._waiters.discard(woken)
