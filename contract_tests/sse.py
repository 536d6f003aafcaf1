"""Reading turn streams over a real socket: whole, cut after k events, or resumed (M3, M7).

Frames are parsed from the raw lines, so the tests see exactly what a client sees: the
field order, comments (pings) and a connection that ends without a terminal event.
"""

from __future__ import annotations

import json
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
