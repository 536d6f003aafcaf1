"""A small server that misbehaves on purpose, for the client's resume and download logic
while the mock's own fault rules (C5) are not available to these tests.

It serves one turn's log the way M1/M7 do (``id``/``event``/``data`` frames, replay after
``Last-Event-ID``), one session record (always idle) and one file with ``Range`` and
``If-Range``. Each streamed answer takes the next `Fault` from a queue: cut the connection
after k events, cut a frame in half, send a frame whose data is not JSON, skip an event, or
fall silent; each download takes the next byte count after which to cut. It runs under
uvicorn on an ephemeral port, so the client meets real sockets and real cuts. Every request
is recorded for the tests to check what the client asked for.
"""

from __future__ import annotations

import hashlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import uvicorn

FaultKind = Literal["drop", "cut_frame", "malformed", "gap", "stall"]
Receive = Any
Send = Any

SESSION_ID = "sess_0123456789ab"
RESPONSE_ID = "msg_" + "ab" * 12


@dataclass(frozen=True)
class Fault:
    kind: FaultKind
    after: int  # events sent whole before the fault


def turn_log(deltas: int = 6) -> list[tuple[str, dict[str, Any]]]:
    """A completed turn: created, a text of ``deltas`` pieces, completed."""
    created = {"id": RESPONSE_ID, "session_id": SESSION_ID, "status": "in_progress"}
    events: list[tuple[str, dict[str, Any]]] = [("message.created", created)]
    events.append(("text.start", {}))
    events += [("text.delta", {"content": f"part {n}. "}) for n in range(deltas)]
    events.append(("text.stop", {}))
    usage = {"input_tokens": 3, "output_tokens": 7}
    events.append(("message.completed", {"id": RESPONSE_ID, "status": "completed", "usage": usage}))
    return events


def session_record(**changes: Any) -> dict[str, Any]:
    """The record (S2) of an idle session, with ``changes``."""
    return {
        "id": SESSION_ID,
        "created_at": 1.0,
        "last_activity": 2.0,
        "busy": False,
        "persistent": True,
        "ttl": 14400,
        "status": "ready",
        "metadata": {},
        "file_access": {"read": [""], "write": [""]},
        **changes,
    }


def frame(seq: int, type_: str, data: dict[str, Any]) -> bytes:
    payload = json.dumps({**data, "sequence_number": seq}, separators=(",", ":"))
    return f"id: {seq}\nevent: {type_}\ndata: {payload}\n\n".encode()


@dataclass
class Flaky:
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=turn_log)
    faults: list[Fault] = field(default_factory=list)  # per streamed answer, then none
    evicted: bool = False  # M7 answers 404
    replay_from_start: bool = False  # ignore Last-Event-ID, as an M9 replay does
    file: bytes = b""
    file_after_first_download: bytes | None = None  # the file changes (If-Range must notice)
    cuts: list[int] = field(default_factory=list)  # per download: bytes, then cut; then none
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)

    def streamed(self) -> list[tuple[str, str | None]]:
        """(method, Last-Event-ID) of each request for events, in order."""
        return [
            (method, headers.get("last-event-id"))
            for method, path, headers in self.requests
            if path.endswith(("/messages", "/events"))
        ]

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        method, path = scope["method"], scope["path"]
        self.requests.append((method, path, headers))
        while (await receive()).get("more_body"):
            pass
        if method == "POST" and path.endswith("/messages"):
            await self._stream(send, receive, -1)
        elif path.endswith("/events"):
            if self.evicted:
                await _json(send, 404, {"error": "not_found", "message": "response evicted"})
            else:
                after = int(headers.get("last-event-id", "-1"))
                await self._stream(send, receive, -1 if self.replay_from_start else after)
        elif "/files/" in path:
            await self._download(send, headers)
        else:
            await _json(send, 200, session_record(metadata={"progress": "finished"}))

    async def _stream(self, send: Send, receive: Receive, after: int) -> None:
        fault = self.faults.pop(0) if self.faults else None
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"text/event-stream"),
                    (b"x-response-id", RESPONSE_ID.encode()),
                ],
            }
        )
        for sent, (seq, (type_, data)) in enumerate(
            (seq, event) for seq, event in enumerate(self.events) if seq > after
        ):
            body = frame(seq, type_, data)
            if fault is not None and sent == fault.after:
                if fault.kind == "drop":
                    return  # unfinished response: the server cuts the connection
                if fault.kind == "cut_frame":
                    await _chunk(send, body[: len(body) // 2])
                    return
                if fault.kind == "malformed":
                    body = f"id: {seq}\nevent: {type_}\ndata: {{not json\n\n".encode()
                elif fault.kind == "gap":
                    continue
                else:  # stall: silence, no pings, until the client gives up
                    while (await receive())["type"] != "http.disconnect":
                        pass
                    return
            await _chunk(send, body)
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _download(self, send: Send, headers: dict[str, str]) -> None:
        content = self.file
        if self.file_after_first_download is not None:
            self.file = self.file_after_first_download
            self.file_after_first_download = None
        etag = '"' + hashlib.sha256(content).hexdigest()[:16] + '"'
        start = 0
        wanted = headers.get("range")
        if wanted is not None and headers.get("if-range", etag) == etag:
            start = int(wanted.removeprefix("bytes=").removesuffix("-"))
        status = 206 if start else 200
        response_headers = [
            (b"content-length", str(len(content) - start).encode()),
            (b"etag", etag.encode()),
        ]
        if start:
            span = f"bytes {start}-{len(content) - 1}/{len(content)}"
            response_headers.append((b"content-range", span.encode()))
        await send({"type": "http.response.start", "status": status, "headers": response_headers})
        cut = self.cuts.pop(0) if self.cuts else None
        body = content[start:]
        if cut is not None:
            await _chunk(send, body[:cut])
            return
        await send({"type": "http.response.body", "body": body, "more_body": False})


async def _chunk(send: Send, body: bytes) -> None:
    await send({"type": "http.response.body", "body": body, "more_body": True})


async def _json(send: Send, status: int, body: dict[str, Any]) -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": payload, "more_body": False})


@contextmanager
def serving(app: Flaky) -> Iterator[str]:
    """``app`` under uvicorn on an ephemeral port; yields its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    # log_level None: leave the process's uvicorn loggers as the mock configured them.
    config = uvicorn.Config(app, log_config=None, log_level=None, access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the flaky server did not start"
        time.sleep(0.002)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        assert not thread.is_alive(), "the flaky server did not stop"
