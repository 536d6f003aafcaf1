"""Faults applied to the bytes of a response (C5), between the app and the client.

The faults that count SSE events (drop, cut_frame, stall, malformed with
``after_events``) are applied by the turn stream itself, event by event. Everything
else shapes the response here, whatever produced it:

- ``drip``: the body, a few bytes at a time, at ``bytes_per_second`` (real time);
- ``abort_download``: the headers (full length) and ``after_bytes`` bytes, then a cut;
- ``drop`` (a lost response): the request was processed, the connection closes with no
  answer at all;
- ``stall``: no answer; the connection stays open and silent until the client leaves;
- ``cut_frame``: half of the body, then a cut;
- ``malformed``: half of the body as if it were all of it (``Content-Length`` says so),
  so a JSON body does not parse.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from starlette.types import Message, Receive, Send

from mock_pokee.api.connection import Connection, Cut
from mock_pokee.domain.faults import (
    AbortDownloadFault,
    CutFrameFault,
    DripFault,
    DropFault,
    Hit,
    MalformedFault,
    StallFault,
)

DRIP_TICK = 0.05  # seconds between dripped pieces


class Delivery(Protocol):
    async def send(self, message: Message, send: Send) -> None: ...


def is_event_stream(start: Message) -> bool:
    for name, value in start.get("headers", ()):
        if name.lower() == b"content-type":
            return bool(value.startswith(b"text/event-stream"))
    return False


def _content_length(start: Message) -> int | None:
    for name, value in start.get("headers", ()):
        if name.lower() == b"content-length":
            return int(value)
    return None


def delivery_for(
    hit: Hit, start: Message, connection: Connection, receive: Receive
) -> Delivery | None:
    """How this fault shapes this response; None where the turn stream applies it."""
    fault = hit.fault
    if isinstance(fault, DripFault):
        return Drip(fault.bytes_per_second, connection)
    if isinstance(fault, AbortDownloadFault):
        return Abort(fault.after_bytes)
    if is_event_stream(start) and getattr(fault, "after_events", None) is not None:
        return None
    if isinstance(fault, DropFault):
        return LostResponse()
    if isinstance(fault, StallFault):
        return Stall(receive)
    if isinstance(fault, CutFrameFault | MalformedFault):
        return HalfBody(_content_length(start), cut=isinstance(fault, CutFrameFault))
    return None


class LostResponse:
    async def send(self, message: Message, send: Send) -> None:
        raise Cut


class Stall:
    """Nothing is sent; once the client gives up, the connection is closed."""

    def __init__(self, receive: Receive):
        self._receive = receive

    async def send(self, message: Message, send: Send) -> None:
        while (await self._receive())["type"] != "http.disconnect":
            pass
        raise Cut


class Drip:
    def __init__(self, bytes_per_second: int, connection: Connection):
        self._piece = max(1, int(bytes_per_second * DRIP_TICK))
        self._pause = self._piece / bytes_per_second
        self._connection = connection

    async def send(self, message: Message, send: Send) -> None:
        body: bytes = message.get("body", b"")
        if message["type"] != "http.response.body" or not body:
            await send(message)
            return
        more = message.get("more_body", False)
        for start in range(0, len(body), self._piece):
            if self._connection.closed:
                raise Cut
            last = start + self._piece >= len(body)
            piece = body[start : start + self._piece]
            await send({"type": "http.response.body", "body": piece, "more_body": more or not last})
            if not last or more:
                await asyncio.sleep(self._pause)


class Abort:
    def __init__(self, after_bytes: int):
        self._left = after_bytes

    async def send(self, message: Message, send: Send) -> None:
        body: bytes = message.get("body", b"")
        if message["type"] != "http.response.body" or len(body) <= self._left:
            self._left -= len(body)  # a body shorter than the limit arrives whole
            await send(message)
            return
        await send({"type": "http.response.body", "body": body[: self._left], "more_body": True})
        raise Cut


class HalfBody:
    def __init__(self, length: int | None, *, cut: bool):
        self._left = None if length is None else length // 2
        self._cut = cut
        self._done = False

    async def send(self, message: Message, send: Send) -> None:
        if self._done:  # the short body is complete; the rest of the app's body is dropped
            return
        if message["type"] == "http.response.start":
            if not self._cut and self._left is not None:
                length = str(self._left).encode()
                message["headers"] = [
                    (name, length if name.lower() == b"content-length" else value)
                    for name, value in message.get("headers", ())
                ]
            await send(message)
            return
        body: bytes = message.get("body", b"")
        if self._left is None:  # no declared length: half of the first chunk
            self._left = len(body) // 2
        piece = body[: self._left]
        self._left -= len(piece)
        if self._left > 0 and message.get("more_body", False):
            await send({"type": "http.response.body", "body": piece, "more_body": True})
            return
        if self._cut:
            await send({"type": "http.response.body", "body": piece, "more_body": True})
            raise Cut
        self._done = True
        await send({"type": "http.response.body", "body": piece, "more_body": False})
