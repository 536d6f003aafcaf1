"""Reading turn streams over a real socket: whole, cut after k events, or resumed (M3, M7).

Frames are parsed from the raw lines, so the tests see exactly what a client sees: the
field order, comments (pings) and a connection that ends without a terminal event.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from dataclasses import dataclass, field
from typing import Any

import httpx

TERMINAL = {"message.completed", "message.error", "message.cancelled"}


@dataclass
class Frame:
    seq: int
    type: str
    data: dict[str, Any]
    lines: list[str]


@dataclass
class Stream:
    status: int
    headers: httpx.Headers
    frames: list[Frame] = field(default_factory=list)
    pings: int = 0
    cut: bool = False  # the server cut the connection instead of ending the body
    body: bytes = b""  # a non-stream answer (errors, M9 replay note)

    @property
    def types(self) -> list[str]:
        return [f.type for f in self.frames]

    @property
    def seqs(self) -> list[int]:
        return [f.seq for f in self.frames]

    @property
    def terminal(self) -> Frame:
        assert self.frames, "no events"
        assert self.frames[-1].type in TERMINAL, self.types
        return self.frames[-1]

    def json(self) -> Any:
        return json.loads(self.body)


def read(
    client: httpx.Client,
    method: str,
    path: str,
    *,
    stop_after: int | None = None,
    **kwargs: Any,
) -> Stream:
    """Send the request and read its SSE frames; with ``stop_after``, disconnect after
    that many events (pings do not count)."""
    with client.stream(method, path, **kwargs) as response:
        stream = Stream(response.status_code, response.headers)
        if not response.headers.get("content-type", "").startswith("text/event-stream"):
            stream.body = response.read()
            return stream
        if stop_after == 0:
            return stream
        block: list[str] = []
        try:
            for line in response.iter_lines():
                if line:
                    block.append(line)
                    continue
                if not block:
                    continue
                if all(b.startswith(":") for b in block):
                    stream.pings += len(block)
                else:
                    stream.frames.append(_frame(block))
                block = []
                if stop_after is not None and len(stream.frames) >= stop_after:
                    return stream
        except httpx.RemoteProtocolError:  # the server cut the connection mid-body
            stream.cut = True
        return stream


def _frame(lines: list[str]) -> Frame:
    fields = dict(line.split(": ", 1) for line in lines if not line.startswith(":"))
    return Frame(int(fields["id"]), fields["event"], json.loads(fields["data"]), lines)


def send(
    api: httpx.Client,
    session_id: object,
    message: str = "hello",
    *,
    scenario: str | None = None,
    key: str | None = None,
    stop_after: int | None = None,
) -> Stream:
    """M1: post a message (C6: forcing a scenario) and read its stream."""
    headers = {}
    if scenario is not None:
        headers["X-Mock-Scenario"] = scenario
    if key is not None:
        headers["Idempotency-Key"] = key
    return read(
        api,
        "POST",
        f"/v1/sessions/{session_id}/messages",
        json={"message": message},
        headers=headers,
        stop_after=stop_after,
    )


def resume(api: httpx.Client, session_id: object, response_id: str, after: int | None) -> Stream:
    """M7: replay after ``after`` (None: from the start) and follow to the end."""
    headers = {} if after is None else {"Last-Event-ID": str(after)}
    path = f"/v1/sessions/{session_id}/responses/{response_id}/events"
    stream = read(api, "GET", path, headers=headers)
    assert stream.status == 200, stream.body
    assert not stream.cut, stream.types
    return stream


class Follower:
    """A stream read frame by frame in a thread of its own, so that a test can act while
    the turn runs (answer a tool call, cancel) and wait for what the stream shows.

    Every wait is bounded; `close` disconnects the client (the turn goes on, M5). The
    follower owns ``client`` and closes it when the stream ends.
    """

    def __init__(self, client: httpx.Client, method: str, path: str, **kwargs: Any):
        self.frames: list[Frame] = []
        self.pings = 0
        self.status = 0
        self.headers = httpx.Headers()
        self.cut = False
        self.done = threading.Event()
        self._changed = threading.Condition()
        self._closing = threading.Event()
        self._socket: socket.socket | None = None
        self._thread = threading.Thread(
            target=self._read, args=(client, method, path, kwargs), daemon=True
        )
        self._thread.start()

    def _read(self, client: httpx.Client, method: str, path: str, kwargs: dict[str, Any]) -> None:
        try:
            with client.stream(method, path, **kwargs) as response:
                self.status, self.headers = response.status_code, response.headers
                self._socket = response.extensions["network_stream"].get_extra_info("socket")
                block: list[str] = []
                for line in response.iter_lines():
                    if self._closing.is_set():
                        return
                    if line:
                        block.append(line)
                        continue
                    if block and all(b.startswith(":") for b in block):
                        self.pings += len(block)
                    elif block:
                        self.frames.append(_frame(block))
                    block = []
                    with self._changed:
                        self._changed.notify_all()
        except (httpx.RemoteProtocolError, httpx.ReadError):
            self.cut = True
        finally:
            client.close()
            self.done.set()
            with self._changed:
                self._changed.notify_all()

    def wait_for(self, type_: str, count: int = 1, timeout: float = 10.0) -> list[Frame]:
        """The first ``count`` frames of ``type_``, once the stream has shown them."""
        with self._changed:
            self._changed.wait_for(
                lambda: len(self.of(type_)) >= count or self.done.is_set(), timeout
            )
        found = self.of(type_)
        assert len(found) >= count, (type_, [f.type for f in self.frames])
        return found[:count]

    def wait_for_pings(self, count: int, timeout: float = 10.0) -> None:
        with self._changed:
            self._changed.wait_for(lambda: self.pings >= count or self.done.is_set(), timeout)
        assert self.pings >= count, self.pings

    def of(self, type_: str) -> list[Frame]:
        return [f for f in list(self.frames) if f.type == type_]

    @property
    def types(self) -> list[str]:
        return [f.type for f in list(self.frames)]

    def finish(self, timeout: float = 10.0) -> Follower:
        """Wait for the stream to end (its terminal event, or a cut)."""
        assert self.done.wait(timeout), f"the stream did not end: {self.types}"
        return self

    def close(self) -> None:
        """Disconnect: the client goes away, the turn goes on (M5). The socket is shut
        down, which wakes the reading thread however long the stream has been silent."""
        self._closing.set()
        if self._socket is not None:
            with contextlib.suppress(OSError):
                self._socket.shutdown(socket.SHUT_RDWR)
        self._thread.join(timeout=10)
        assert not self._thread.is_alive(), "the reader did not stop"
