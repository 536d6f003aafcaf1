"""The recording proxy's side of the sink: its calls, and the captures still running.

Sink calls may write files, so they run off the event loop, on one thread of their own,
one at a time and in the order they were made: a key reaches ``secret`` before any
capture that could hold it reaches ``turn``, and the sink need not be thread-safe. A call
that fails is reported once per kind (``answer``, ``turn`` …) on stderr; the requests
passing through never notice.

A capture runs as a task that outlives the request that started it (the client may
leave; the run goes on upstream). At shutdown the running ones get until a deadline,
then are handed over as they are, with ``complete`` False.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from mock_pokee.recording.capture import ResponseCapture, Sink, TurnCapture


def warn(text: str) -> None:
    print(f"mock-pokee record: {text}", file=sys.stderr, flush=True)


class SinkCalls:
    def __init__(self, sink: Sink):
        self.sink = sink
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="mock-pokee-record-sink")
        self._failed: set[str] = set()  # touched by the sink's thread only
        self._closed = False

    def post(self, kind: str, *args: Any) -> None:
        """Call ``sink.<kind>(*args)`` in turn, without waiting for it (once the sink is
        closed, a request still finishing has nothing left to tell it)."""
        if not self._closed:
            self._thread.submit(self._call, kind, args)

    async def call(self, kind: str, *args: Any) -> None:
        """The same, and wait until it has run."""
        if not self._closed:
            await asyncio.wrap_future(self._thread.submit(self._call, kind, args))

    async def flush(self) -> None:
        """Wait until every call made so far has run."""
        if not self._closed:
            await asyncio.wrap_future(self._thread.submit(lambda: None))

    def _call(self, kind: str, args: tuple[Any, ...]) -> None:
        try:
            getattr(self.sink, kind)(*args)
        except Exception as exc:
            if kind not in self._failed:
                self._failed.add(kind)
                warn(f"the recording's {kind}() failed, and is skipped from now on: {exc!r}")

    def close(self) -> str:
        """Run what is queued, then the sink's own ``close`` if it has one (its summary)."""
        self._closed = True
        self._thread.shutdown(wait=True)
        close = getattr(self.sink, "close", None)
        if not callable(close):
            return ""
        try:
            return str(close() or "")
        except Exception as exc:
            warn(f"closing the recording failed: {exc!r}")
            return ""


@dataclass
class _Job:
    kind: str  # the sink method it ends in: "turn" or "response"
    capture: TurnCapture | ResponseCapture
    handed: bool = False


class Jobs:
    """The sink calls and the running captures."""

    def __init__(self, sink: Sink):
        self.sink = SinkCalls(sink)
        self.post = self.sink.post
        self._secrets: set[str] = set()
        self._running: dict[asyncio.Task[None], _Job] = {}
        self.counts = {"turn": 0, "response": 0, "incomplete": 0}
        self.summary = ""  # what the sink's close said, once closed

    async def secret(self, key: str) -> None:
        """Hand a key to the sink once, and wait until it has it."""
        if key and key not in self._secrets:
            self._secrets.add(key)
            await self.sink.call("secret", key)

    def start(
        self, kind: str, capture: TurnCapture | ResponseCapture, work: Coroutine[Any, Any, None]
    ) -> None:
        """Run ``work`` (which fills ``capture``), then hand the capture to the sink."""
        job = _Job(kind, capture)
        task = asyncio.get_running_loop().create_task(self._run(job, work))
        self._running[task] = job
        task.add_done_callback(self._running.pop)

    async def _run(self, job: _Job, work: Coroutine[Any, Any, None]) -> None:
        try:
            await work
        except Exception as exc:  # a proxy bug: the capture goes to the sink as it is
            warn(f"recording a {job.kind} failed: {exc!r}")
            job.capture.complete = False
        await self._hand(job)

    def finished(self, kind: str, capture: TurnCapture | ResponseCapture) -> None:
        """A capture that ended with its own request (R3's answer): to the sink now."""
        self._count(kind, capture)
        self.sink.post(kind, capture)

    async def _hand(self, job: _Job) -> None:
        job.handed = True
        self._count(job.kind, job.capture)
        await self.sink.call(job.kind, job.capture)

    def _count(self, kind: str, capture: TurnCapture | ResponseCapture) -> None:
        self.counts[kind] += 1
        self.counts["incomplete"] += not capture.complete

    async def settle(self) -> None:
        """Wait until every running capture is with the sink and the sink is idle."""
        while self._running:
            await asyncio.wait(list(self._running))
        await self.sink.flush()

    async def close(self, deadline: float) -> None:
        """Give running captures until ``deadline`` (monotonic), hand the rest over
        unfinished, then close the sink."""
        running = dict(self._running)
        if running:
            _, late = await asyncio.wait(
                list(running), timeout=max(0.0, deadline - time.monotonic())
            )
            for task in late:
                task.cancel()
            if late:
                await asyncio.wait(late)
            for task in late:
                job = running[task]
                if not job.handed:
                    job.capture.complete = False
                    await self._hand(job)
        self.summary = await asyncio.to_thread(self.sink.close)
