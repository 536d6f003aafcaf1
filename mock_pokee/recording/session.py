"""What the recording proxy reads beside a session's turn: the session's metadata as the
turn moves it (M6), and the files the turn writes (F4, F5).

Before the message goes upstream: the metadata (one S4 read) and the workspace listing.
While the turn runs: the metadata every ``poll_interval`` real seconds, a sample each time
it changed. After the terminal event (M5 [C]: by then a read shows the turn's final
metadata and every file it wrote): the metadata once more, the listing again, and each
file that is new or changed, downloaded when it is small enough to be a fixture.

A session's next message waits until that last look is taken, so that a client that
sends it at once cannot mix the next turn's files into this one's.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any
from urllib.parse import quote

import httpx

from mock_pokee.limits import MAX_RECORDED_FILES, MAX_RECORDED_SAMPLES
from mock_pokee.recording.capture import CapturedFile, Sample, TurnCapture
from mock_pokee.recording.jobs import warn
from mock_pokee.recording.settings import RecordSettings
from mock_pokee.recording.tap import Feed, Tap
from mock_pokee.recording.upstream import MAX_DEPTH, MAX_ENTRIES, Listing, Upstream

SETTLE_WAIT = 30.0  # seconds a message waits at most for the last turn's last look


class TurnRecorder:
    def __init__(self, upstream: Upstream, settings: RecordSettings):
        self.upstream = upstream
        self.settings = settings
        self._last: dict[str, tuple[TurnCapture, asyncio.Event]] = {}  # by session id

    async def before(
        self, session: str, message: str, auth: str | None
    ) -> tuple[TurnCapture, Listing]:
        """A capture for a turn about to start, and the workspace as it was before it."""
        if (last := self._last.get(session)) is not None and last[0].complete:
            try:
                async with asyncio.timeout(SETTLE_WAIT):
                    await last[1].wait()
            except TimeoutError:
                pass
        capture = TurnCapture(
            session_id=session,
            message=message,
            started_at=0.0,
            poll_interval=self.settings.poll_interval,
        )
        capture.metadata_before = await self.upstream.metadata(session, auth) or {}
        listing = await self.upstream.listing(session, auth)
        return capture, listing

    async def follow(
        self,
        capture: TurnCapture,
        before: Listing,
        tap: Tap,
        response: httpx.Response,
        feed: Feed,
        auth: str | None,
    ) -> None:
        """The turn from its answer's head to the last look at its session."""
        looked = asyncio.Event()
        self._last[capture.session_id] = (capture, looked)
        sampler = _Sampler(capture)
        poller = asyncio.get_running_loop().create_task(self._poll(sampler, auth))
        events = f"/v1/sessions/{quote(capture.session_id, safe='')}/responses/{{}}/events"
        try:
            try:
                await tap.follow(
                    response, feed, self.upstream, auth, lambda r: events.format(quote(r, safe=""))
                )
            finally:
                poller.cancel()
                capture.response_id = tap.response_id
            sampler.note(await self.upstream.metadata(capture.session_id, auth))
            after = await self.upstream.listing(capture.session_id, auth)
            if before.truncated or after.truncated:
                warn(
                    f"{capture.session_id}: the workspace is too big to list whole; files "
                    f"past {MAX_ENTRIES} entries or {MAX_DEPTH} folders deep are not recorded"
                )
            capture.files = await self._files(capture.session_id, before, after, auth)
        finally:
            looked.set()
            last = self._last.get(capture.session_id)
            if last is not None and last[0] is capture:
                del self._last[capture.session_id]

    async def _poll(self, sampler: _Sampler, auth: str | None) -> None:
        while True:
            await asyncio.sleep(self.settings.poll_interval)
            sampler.note(await self.upstream.metadata(sampler.capture.session_id, auth))

    async def _files(
        self, session: str, before: Listing, after: Listing, auth: str | None
    ) -> list[CapturedFile]:
        files = []
        room = MAX_RECORDED_FILES  # bytes kept in memory until the turn is written
        for path, stamp in sorted(after.files.items()):
            if before.files.get(path) == stamp:
                continue
            size = stamp[0]
            data = None
            if size <= min(self.settings.max_fixture, room):
                data = await self.upstream.download(session, path, auth, self.settings.max_fixture)
                room -= len(data or b"")
            files.append(CapturedFile(path, size, data))
        return files


class _Sampler:
    """The metadata samples of a turn: one each time a read finds it changed."""

    def __init__(self, capture: TurnCapture):
        self.capture = capture
        self._last: dict[str, Any] = capture.metadata_before

    def note(self, metadata: dict[str, Any] | None) -> None:
        if metadata is not None and metadata != self._last:
            samples = self.capture.samples
            if len(samples) == MAX_RECORDED_SAMPLES:  # bounded; the last one always kept
                samples.pop()
            samples.append(Sample(time.monotonic(), metadata))
            self._last = metadata
