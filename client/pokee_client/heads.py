"""An answer's head (its status line and headers) within the request's read timeout, as
a whole.

httpx bounds each read of the socket, not the head: a server that sends the head a byte
at a time, each inside the read timeout, would hold a call for as long as it liked, before
any of the client's own deadlines (which start with the body) could apply. The blocking
client bounds it where the bytes are read: its default transport's sockets read with
what is left of the head's time as their timeout (`deadline_transport`, while
`head_within` holds). The async client cancels the wait instead (`open_within`).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any

import httpcore
import httpx

_head = threading.local()  # .deadline: time.monotonic() by which this thread's head is due


def head_timeout(request: httpx.Request) -> float:
    """The time the head may take: the request's read timeout (every request the client
    builds carries one, see `pokee_client.requests`)."""
    return float(request.extensions["timeout"]["read"])


def _late(request: httpx.Request) -> httpx.ReadTimeout:
    seconds = head_timeout(request)
    return httpx.ReadTimeout(
        f"the answer's status and headers took longer than {seconds:g} s", request=request
    )


@contextlib.contextmanager
def head_within(request: httpx.Request) -> Iterator[None]:
    """While this holds, this thread's reads end when the head's time is up."""
    _head.deadline = time.monotonic() + head_timeout(request)
    try:
        yield
    except httpx.ReadTimeout:
        if time.monotonic() >= _head.deadline:
            raise _late(request) from None
        raise
    finally:
        _head.deadline = None


async def open_within(client: httpx.AsyncClient, request: httpx.Request) -> httpx.Response:
    """``client.send(request, stream=True)``, given up when the head is not in on time."""
    try:
        return await asyncio.wait_for(client.send(request, stream=True), head_timeout(request))
    except TimeoutError:
        raise _late(request) from None


class _Stream(httpcore.NetworkStream):
    """A socket whose reads end by the head's deadline, when one is set."""

    def __init__(self, inner: httpcore.NetworkStream):
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        deadline = getattr(_head, "deadline", None)
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise httpcore.ReadTimeout("the head's time is up")
            timeout = left if timeout is None else min(timeout, left)
        return self._inner.read(max_bytes, timeout)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, timeout)

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: Any,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        return _Stream(self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _Backend(httpcore.NetworkBackend):
    def __init__(self, inner: httpcore.NetworkBackend):
        self._inner = inner

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        return _Stream(self._inner.connect_tcp(host, port, timeout, local_address, socket_options))

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        return _Stream(self._inner.connect_unix_socket(path, timeout, socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def deadline_transport() -> httpx.HTTPTransport:
    """httpx's default transport, its sockets wrapped (see the module docstring). httpx
    has no public way to hand its pool a network backend, hence the two private names; a
    test fails if they change."""
    transport = httpx.HTTPTransport()
    pool = transport._pool
    pool._network_backend = _Backend(pool._network_backend)
    return transport
