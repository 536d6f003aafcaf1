"""What happens on the wire before the app sees a request, where uvicorn decides alone.

- A request uvicorn cannot parse (a bad method, raw non-ASCII or a space in the path, a
  malformed header, ``Content-Length`` or chunk size) gets an A5 answer,
  ``400 {"error": "invalid_request", "message": …}`` naming what the parser found, instead
  of uvicorn's plain-text one. The connection is then closed: after a framing error
  nothing else on it can be trusted.
- Headers must arrive within a time bound: a connection that sends nothing, or a request
  whose headers trickle in, is closed (with ``408`` in the A5 shape if a request had
  begun), so slow or stuck clients cannot hold connections forever. uvicorn bounds only
  the idle time between requests (keep-alive).

Both use uvicorn's httptools protocol (the one ``uvicorn[standard]`` runs) from outside:
`MockHttpProtocol` replaces the method that writes the 400, and `HeaderDeadline` looks at
the open connections once a fraction of a second, so no request pays for either. What a
connection is doing is read from the protocol's ``cycle`` (the request being answered),
``scope`` (the request being read) and ``timeout_keep_alive_task`` (idle between
requests); `tests/test_hostile.py` checks both over real sockets.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Iterable

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


def _a5(status: bytes, error: str, message: str) -> bytes:
    """A whole HTTP/1.1 response with an A5 body, closing the connection."""
    body = json.dumps({"error": error, "message": message}).encode()
    head = (
        b"HTTP/1.1 " + status + b"\r\ncontent-type: application/json\r\n"
        b"content-length: " + str(len(body)).encode() + b"\r\nconnection: close\r\n\r\n"
    )
    return head + body


# The longest request target the URL parser reads (its offsets are 16-bit).
MAX_TARGET = 65_535


def _unparsable(problem: BaseException | None, target: bytes) -> str:
    """The A5 message for a request the parser refused, naming what it found."""
    if isinstance(problem, httptools.HttpParserCallbackError):  # uvicorn's reading failed
        if len(target) > MAX_TARGET:
            found = f"its request target is longer than {MAX_TARGET} bytes"
        elif isinstance(problem.__context__, httptools.HttpParserInvalidURLError):
            found = "its request target is not a URL"
        else:
            found = "its method or path is not ASCII"
    elif isinstance(problem, httptools.HttpParserError) and str(problem):
        text = str(problem)
        found = text[0].lower() + text[1:]
    else:
        found = "it could not be parsed"
    if isinstance(problem, httptools.HttpParserInvalidURLError):
        found += "; percent-encode (UTF-8) anything outside ASCII in a path or query"
    return f"request: not valid HTTP/1.1 ({found}); the connection is closed"


class MockHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, answering an unparsable request in the A5 shape."""

    def send_400_response(self, msg: str) -> None:
        # uvicorn calls this while handling the parser's error, which names the problem.
        message = _unparsable(sys.exception(), getattr(self, "url", b""))
        self.transport.write(_a5(b"400 Bad Request", "invalid_request", message))
        self.transport.close()


class HeaderDeadline:
    """Closes connections that have not sent a whole request head within ``timeout``
    seconds of being opened or of starting a request (C1 has nothing to do with it: this
    is wall time, as a client's is)."""

    def __init__(self, connections: Iterable[object], timeout: float):
        self._connections = connections
        self.timeout = timeout
        self._waiting: dict[MockHttpProtocol, tuple[object, float]] = {}

    async def run(self) -> None:
        interval = min(1.0, self.timeout / 4)
        while True:
            await asyncio.sleep(interval)
            self.sweep(time.monotonic())

    def sweep(self, now: float) -> None:
        """Note which connections are waiting for a request head; close those that have
        waited, on the same request, longer than the bound."""
        waiting: dict[MockHttpProtocol, tuple[object, float]] = {}
        for connection in list(self._connections):
            if not isinstance(connection, MockHttpProtocol) or not _reading_head(connection):
                continue
            marker = connection.cycle  # a new request head completed makes a new cycle
            seen = self._waiting.get(connection)
            since = seen[1] if seen is not None and seen[0] is marker else now
            if now - since < self.timeout:
                waiting[connection] = (marker, since)
            else:
                _time_out(connection, self.timeout)
        self._waiting = waiting


def _reading_head(connection: MockHttpProtocol) -> bool:
    """Open, not idle between requests (keep-alive bounds that), and not answering one."""
    if connection.transport is None or connection.transport.is_closing():
        return False
    if connection.timeout_keep_alive_task is not None:
        return False
    cycle = connection.cycle
    return cycle is None or cycle.response_complete


def _time_out(connection: MockHttpProtocol, timeout: float) -> None:
    scope = connection.scope
    begun = scope is not None and (connection.cycle is None or connection.cycle.scope is not scope)
    if begun:  # part of a request came: say why it ends
        message = f"request: the headers did not all arrive within {timeout:g} seconds"
        connection.transport.write(_a5(b"408 Request Timeout", "request_timeout", message))
    connection.transport.close()
