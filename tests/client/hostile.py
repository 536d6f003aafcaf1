"""A small HTTP/1.1 server that answers, byte for byte, whatever a test tells it to: the
hostile server of `tests.client.test_hostile_server`.

Each request is matched against the test's routes (a method and a path pattern) and handed
to the route's function, which writes the raw answer through a `Reply`: a status line and
headers of its choosing, then bytes at any pace. A `Reply` counts the bytes served and gives
up (`Gone`) once the client has hung up or the server's time budget is spent, so that even
a client that would read forever ends within seconds, and a test can say how much the client
read before it stopped.

It is plain sockets and threads (one per connection, ``Connection: close`` on every answer),
on an ephemeral port of 127.0.0.1; nothing here depends on the code under test.
"""

from __future__ import annotations

import json
import re
import select
import socket
import socketserver
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

BUDGET = 5.0  # real seconds a server misbehaves for, from its start; then it hangs up


class Gone(Exception):
    """The client hung up, or the budget is spent: the answer ends here."""


@dataclass(frozen=True)
class Seen:
    """A request as the server received it."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes


class Reply:
    """The raw answer to one request."""

    def __init__(self, sock: socket.socket, server: Hostile):
        self._sock = sock
        self._server = server

    def send(self, data: bytes) -> None:
        if self._server.spent():
            raise Gone
        try:
            self._sock.sendall(data)
        except OSError:
            raise Gone from None
        self._server.count(len(data))

    def head(self, status: int, headers: Iterable[tuple[str, str]] = ()) -> None:
        lines = [f"HTTP/1.1 {status} Whatever", *(f"{k}: {v}" for k, v in headers)]
        self.send(("\r\n".join([*lines, "Connection: close", "", ""])).encode("latin-1"))

    def json(self, status: int, value: Any, headers: Iterable[tuple[str, str]] = ()) -> None:
        self.raw_json(status, json.dumps(value), headers)

    def raw_json(self, status: int, text: str, headers: Iterable[tuple[str, str]] = ()) -> None:
        """JSON written by hand (``NaN``, ``1e20``, nesting Python would not write)."""
        body = text.encode()
        self.head(
            status,
            [
                ("Content-Type", "application/json"),
                ("Content-Length", str(len(body))),
                *headers,
            ],
        )
        self.send(body)

    def events_head(self, response_id: str) -> None:
        self.head(200, [("Content-Type", "text/event-stream"), ("X-Response-Id", response_id)])

    def pause(self, seconds: float) -> None:
        """Wait without sending; `Gone` as soon as the client hangs up."""
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            if self._server.spent():
                raise Gone
            readable, _, _ = select.select([self._sock], [], [], min(left, 0.01))
            if readable:
                try:
                    if not self._sock.recv(1, socket.MSG_PEEK):
                        raise Gone
                except OSError:
                    raise Gone from None

    def repeat(self, piece: bytes, up_to: int) -> None:
        """``piece`` again and again, ``up_to`` bytes in all (or until `Gone`)."""
        sent = 0
        while sent < up_to:
            self.send(piece)
            sent += len(piece)


Handler = Callable[[Seen, Reply], None]


@dataclass
class Hostile:
    """The server: ``url`` once started; ``requests`` every request seen, in order;
    ``served`` the bytes written to clients."""

    budget: float = BUDGET
    routes: list[tuple[str, re.Pattern[str], Handler]] = field(default_factory=list)
    requests: list[Seen] = field(default_factory=list)
    served: int = 0
    url: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _ends: float = 0.0
    _closing: bool = False

    def route(self, method: str, path: str, handler: Handler) -> None:
        """Answer ``method`` on paths matching the regular expression ``path``."""
        self.routes.append((method, re.compile(path), handler))

    def seen(self, method: str, path: str) -> list[Seen]:
        return [r for r in self.requests if r.method == method and re.fullmatch(path, r.path)]

    def spent(self) -> bool:
        return self._closing or time.monotonic() > self._ends

    def count(self, size: int) -> None:
        with self._lock:
            self.served += size

    def handle(self, sock: socket.socket, request: Seen) -> None:
        with self._lock:
            self.requests.append(request)
        reply = Reply(sock, self)
        for method, pattern, handler in self.routes:
            if method == request.method and pattern.fullmatch(request.path):
                handler(request, reply)
                return
        reply.json(404, {"error": "not_found", "message": f"nothing at {request.path}"})

    @contextmanager
    def serving(self) -> Iterator[Hostile]:
        owner = self

        class Connection(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                request = _read_request(self.rfile)
                if request is None:
                    return
                with suppress(Gone):
                    owner.handle(self.connection, request)

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        server = Server(("127.0.0.1", 0), Connection)
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        self._ends = time.monotonic() + self.budget
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01})
        thread.start()
        try:
            yield self
        finally:
            self._closing = True
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)


def _read_request(rfile: Any) -> Seen | None:
    line = rfile.readline(65537).decode("latin-1").rstrip("\r\n")
    if not line:
        return None
    method, target, _ = line.split(" ", 2)
    headers: dict[str, str] = {}
    while header := rfile.readline(65537).decode("latin-1").rstrip("\r\n"):
        name, _, value = header.partition(":")
        headers[name.strip().lower()] = value.strip()
    body = rfile.read(int(headers.get("content-length", "0")))
    path, _, query = target.partition("?")
    return Seen(method, path, query, headers, body)
