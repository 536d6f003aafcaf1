"""Reading a turn's or a response's event stream for the capture while it passes on to the
client.

The upstream is read by a task of its own (`Tap.read`), which hands each chunk, as it
came, to the client's answer through a bounded `Feed`, and parses a copy into the
capture. Once the client is gone the reading goes on alone: the run carries on upstream
(M5, R5), and the capture wants its end. When the upstream ends a stream without a
terminal event, the client's answer ends the same way, and the tap resumes upstream
(M7, R6) from the last event it saw, for the capture only.
"""

from __future__ import annotations

import asyncio
import enum
import time
from collections import deque
from collections.abc import Callable
from typing import Protocol

import httpx

from mock_pokee.limits import MAX_RECORDED_EVENTS
from mock_pokee.recording.capture import Seen
from mock_pokee.recording.sse import EventParser, Json, ParsedEvent
from mock_pokee.recording.upstream import Upstream

TURN_ENDS = frozenset({"message.completed", "message.error", "message.cancelled"})
RESPONSE_ENDS = frozenset({"response.completed", "response.failed", "response.cancelled"})

FEED_ROOM = 64  # chunks waiting for a slow client before the upstream read waits too
# Once no client reads, a stream that sends nothing (M3 pings every 15 s) for this long is
# taken for a stall and resumed; while a client reads, the proxy waits as long as it does.
IDLE = 60.0
RESUMES = 8  # attempts in a row that bring no new event before the capture is given up
RESUME_BACKOFF = 0.1  # seconds before the second attempt, doubling up to MAX_BACKOFF
MAX_BACKOFF = 5.0


class Ending(enum.Enum):
    CLEAN = "clean"  # the upstream ended the body
    CUT = "cut"  # the upstream connection broke mid-body: the client's is cut too
    GONE = "gone"  # the client left


class Feed:
    """Chunks from the upstream reader to the client's answer, then how the stream ended.

    Bounded, so that a slow client slows the reading as it would have slowed the
    upstream. `detach` (the client left) empties it and makes `put` a no-op, so the
    reader never waits on nobody."""

    def __init__(self) -> None:
        self.attached = True
        self._chunks: deque[bytes] = deque()
        self._ending: Ending | None = None
        self._ready = asyncio.Event()
        self._room = asyncio.Event()
        self._room.set()

    async def put(self, chunk: bytes) -> None:
        while self.attached and len(self._chunks) >= FEED_ROOM:
            self._room.clear()
            await self._room.wait()
        if self.attached:
            self._chunks.append(chunk)
            self._ready.set()

    def end(self, ending: Ending) -> None:
        if self._ending is None:
            self._ending = ending
            self._ready.set()

    async def take(self) -> bytes | Ending:
        while not self._chunks and self._ending is None:
            self._ready.clear()
            await self._ready.wait()
        if self._chunks:
            self._room.set()
            return self._chunks.popleft()
        assert self._ending is not None
        return self._ending

    def detach(self) -> None:
        self.attached = False
        self._chunks.clear()
        self._room.set()
        self.end(Ending.GONE)


class Tapped(Protocol):
    """What a `TurnCapture` and a `ResponseCapture` share."""

    events: list[Seen]
    drops: list[int]
    complete: bool
    left_out: int


def _response_id(data: Json) -> str:
    """A run's id from its first event: ``data.response.id`` (R5) or ``data.id`` (M1)."""
    inner = data.get("response")
    found = inner.get("id") if isinstance(inner, dict) else None
    found = found if isinstance(found, str) else data.get("id")
    return found if isinstance(found, str) else ""


class Tap:
    """One run's events, read into ``capture`` from its first stream and its resumes."""

    def __init__(self, capture: Tapped, ends: frozenset[str], response_id: str):
        self.capture = capture
        self.ends = ends
        self.response_id = response_id
        self.last_id: str | None = None  # the ``id`` of the last event: where to resume

    async def follow(
        self,
        response: httpx.Response,
        feed: Feed,
        upstream: Upstream,
        auth: str | None,
        events_path: Callable[[str], str],
    ) -> None:
        """Pass ``response`` on to ``feed`` and read it, then, if it ended without a
        terminal event, resume from ``events_path(response id)`` for the capture."""
        try:
            feed.end(await self.read(response, feed))
            if not self.capture.complete:
                self.dropped()
                if self.response_id:
                    await self.resume(upstream, events_path(self.response_id), auth)
        finally:
            feed.end(Ending.CUT)  # whatever went wrong, the client's answer must end

    async def read(self, response: httpx.Response, feed: Feed | None) -> Ending:
        """Read ``response`` to its end into the capture, and on to ``feed`` if given."""
        parser = EventParser()
        chunks = response.aiter_raw()
        try:
            while not (self.capture.complete and (feed is None or not feed.attached)):
                async with asyncio.timeout(None if feed is not None and feed.attached else IDLE):
                    chunk = await anext(chunks, None)
                if chunk is None:
                    return Ending.CLEAN
                self._take(parser.feed(chunk))
                if feed is not None:
                    await feed.put(chunk)
            return Ending.CLEAN
        except (httpx.HTTPError, TimeoutError):
            return Ending.CUT
        finally:
            await response.aclose()

    def _take(self, events: list[ParsedEvent]) -> None:
        capture = self.capture
        for event in events:
            if len(capture.events) < MAX_RECORDED_EVENTS:
                capture.events.append(Seen(time.monotonic(), event.type, event.data))
            else:  # bounded whatever the upstream sends; the end is still watched for
                capture.left_out += 1
            if event.id is not None:
                self.last_id = event.id
            if not self.response_id:
                self.response_id = _response_id(event.data)
            if event.type in self.ends:
                self.capture.complete = True

    def dropped(self) -> None:
        """The upstream ended a stream here without a terminal event (counted once)."""
        count = len(self.capture.events)
        if not self.capture.drops or self.capture.drops[-1] != count:
            self.capture.drops.append(count)

    async def resume(self, upstream: Upstream, path: str, auth: str | None) -> None:
        """Read the rest of the run from ``path`` (its events resource, M7/R6) after the
        last event seen, until its terminal event; give up after `RESUMES` attempts in a
        row that bring nothing, or when the upstream no longer keeps the events."""
        failures = 0
        while not self.capture.complete and failures < RESUMES:
            if failures:
                await asyncio.sleep(min(RESUME_BACKOFF * 2 ** (failures - 1), MAX_BACKOFF))
            before = len(self.capture.events)
            try:
                async with upstream.events(path, auth, self.last_id) as response:
                    if response.status_code in (401, 403, 404, 410):
                        return  # gone for good (M7: kept 120 s after the run ends)
                    if response.status_code == 200:
                        await self.read(response, None)
                        if not self.capture.complete:
                            self.dropped()
            except httpx.HTTPError:
                pass
            failures = 0 if len(self.capture.events) > before else failures + 1
