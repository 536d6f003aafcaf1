"""The client's side of one proxied exchange: its request body, and the answer given to
it chunk by chunk, ended as the upstream ended it (cleanly, or by cutting the connection)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
from starlette.types import Receive, Scope, Send

from mock_pokee.api.connection import Connection
from mock_pokee.api.errors import error_response
from mock_pokee.recording.tap import Ending, Feed

Headers = list[tuple[bytes, bytes]]


class ClientGone(Exception):
    """The client left while its request body was still coming."""


class Downstream:
    def __init__(self, scope: Scope, receive: Receive, send: Send):
        self.scope = scope
        self._receive = receive
        self._send = send  # uvicorn's own: `Connection` cuts through it
        self.started = False

    async def read(self, limit: int) -> tuple[bytes, bool]:
        """The request body up to a little over ``limit`` bytes, and whether that is all."""
        body = bytearray()
        while len(body) <= limit:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                raise ClientGone
            body += message.get("body", b"")
            if not message.get("more_body", False):
                return bytes(body), True
        return bytes(body), False

    async def rest(self, first: bytes) -> AsyncIterator[bytes]:
        """``first``, then the rest of the request body as it comes."""
        if first:
            yield first
        while True:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                raise ClientGone
            if chunk := message.get("body", b""):
                yield chunk
            if not message.get("more_body", False):
                return

    async def start(self, status: int, headers: Headers) -> None:
        self.started = True
        await self._send({"type": "http.response.start", "status": status, "headers": headers})

    async def chunk(self, data: bytes) -> None:
        await self._send({"type": "http.response.body", "body": data, "more_body": True})

    async def end(self) -> None:
        await self._send({"type": "http.response.body", "body": b"", "more_body": False})

    async def cut(self) -> None:
        await Connection(self._send).cut(self._receive)

    async def fail(self, message: str) -> None:
        """A 502 in A5's shape, or a cut once an answer has started."""
        if self.started:
            await self.cut()
        else:
            await error_response("bad_gateway", message, status=502)(
                self.scope, self._receive, self._send
            )

    async def copy(
        self, response: httpx.Response, headers: Headers, keep: int, follow: bool
    ) -> bytes | None:
        """Pass ``response`` on; return its body if it came whole and held at most
        ``keep`` bytes. If the client leaves, stop reading unless ``follow``."""
        await self.start(response.status_code, headers)
        kept: bytearray | None = bytearray()
        gone = Connection(self._send)
        try:
            async for chunk in response.aiter_raw():
                if kept is not None:
                    kept += chunk
                    kept = kept if len(kept) <= keep else None
                if gone.closed and not follow:
                    return None
                await self.chunk(chunk)
        except httpx.HTTPError:
            await self.cut()
            return None
        finally:
            await response.aclose()
        await self.end()
        return None if kept is None else bytes(kept)

    async def relay(self, feed: Feed, status: int, headers: Headers) -> None:
        """Pass on what the upstream reader feeds, and end as it says; tell the feed if
        the client leaves, so that the reader goes on without it."""
        await self.start(status, headers)
        listener = asyncio.get_running_loop().create_task(self._until_gone(feed))
        try:
            while isinstance(item := await feed.take(), bytes):
                await self.chunk(item)
        except BaseException:
            feed.detach()
            raise
        finally:
            listener.cancel()
        if item is Ending.CLEAN:
            await self.end()
        elif item is Ending.CUT:
            await self.cut()

    async def _until_gone(self, feed: Feed) -> None:
        while (await self._receive())["type"] != "http.disconnect":
            pass
        feed.detach()
