"""Cutting a client's connection on purpose: dropped streams, lost responses (C5, D).

ASGI has no message for "close this connection now". Returning from an application
without finishing its response makes uvicorn close the connection, but it logs an error
for it, and without a response started it answers 500 instead. So the mock closes the
transport itself: uvicorn's ``send`` is a method of its per-request cycle object, which
holds the transport. Once the transport is closed, uvicorn marks the cycle
disconnected, so it neither answers 500 nor logs anything. Under any other server the
cut falls back to leaving the response unfinished.
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.types import Receive, Send

_DISCONNECT_WAIT = 1.0  # seconds to wait for the server to notice the closed transport


class Cut(BaseException):
    """Raised to end a response by cutting the connection.

    A BaseException, so that Starlette's error handlers (which catch Exception) let it
    through to the middleware that performs the cut, instead of reporting a mock bug.
    """


class Connection:
    def __init__(self, send: Send):
        self._cycle: Any = getattr(send, "__self__", None)

    @property
    def closed(self) -> bool:
        """True once the client is gone (or the mock cut it)."""
        if self._cycle is None:
            return False
        transport = getattr(self._cycle, "transport", None)
        gone = bool(getattr(self._cycle, "disconnected", False))
        return gone or (transport is not None and transport.is_closing())

    async def cut(self, receive: Receive) -> None:
        """Close the connection, whatever was or was not sent on it."""
        transport = getattr(self._cycle, "transport", None)
        if transport is None:
            return
        transport.close()
        try:
            async with asyncio.timeout(_DISCONNECT_WAIT):
                while (await receive())["type"] != "http.disconnect":
                    pass
        except TimeoutError:
            pass
