"""The two servers the benchmarks compare, run with identical uvicorn settings.

``python -m benchmarks.servers mock|bare|raw PORT [mock-pokee options]``: the mock app, a
bare Starlette app with JSON endpoints shaped like a session read and a session create, or
the same two answers from a plain ASGI function with no framework at all.
Access logs are off for both: the benchmark measures the app, not the terminal. (What
users run, `mock-pokee serve` with its own logging, is measured in benchmarks.compare.)
"""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator
from typing import Literal

import uvicorn
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from mock_pokee.app import create_app
from mock_pokee.cli import parser, settings_from

RECORD = {
    "id": "sess_0123456789ab",
    "created_at": 1795875682.4547043,
    "last_activity": 1795875682.4547043,
    "busy": False,
    "persistent": True,
    "ttl": 14400,
    "status": "ready",
    "metadata": {},
    "file_access": {"read": [""], "write": [""]},
}


async def bare_session(request: Request) -> Response:
    return JSONResponse(RECORD)


_created: dict[str, dict[str, object]] = {}


async def bare_create(request: Request) -> Response:
    """The least a stateful create does: parse the body, store a record, answer 201."""
    body = await request.json()
    sid = f"sess_{len(_created):012x}"
    record = {**RECORD, "id": sid, "persistent": body.get("persistent", False)}
    _created[sid] = record
    return JSONResponse(record, status_code=201)


async def bare_health(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def bare_stream(request: Request) -> Response:
    """A bare sse-starlette generator yielding the frames a 10,000-delta turn yields."""
    count = int(request.query_params.get("events", "10000"))

    async def frames() -> AsyncIterator[ServerSentEvent]:
        for seq in range(count):
            data = json.dumps({"content": "a", "sequence_number": seq}, separators=(",", ":"))
            yield ServerSentEvent(data=data, event="text.delta", id=str(seq), sep="\n")

    return EventSourceResponse(frames(), ping=0, sep="\n")


async def bare_file(request: Request) -> Response:
    """Starlette's own FileResponse of a file named by ``?path=``."""
    return FileResponse(request.query_params["path"])


def bare_app() -> Starlette:
    return Starlette(
        routes=[
            Route("/health", bare_health),
            Route("/v1/sessions", bare_create, methods=["POST"]),
            Route("/v1/sessions/{session_id}", bare_session),
            Route("/stream", bare_stream),
            Route("/file", bare_file),
        ]
    )


async def raw_app(scope: Scope, receive: Receive, send: Send) -> None:
    """The bare answers without Starlette: the most one uvicorn process serves here, so a
    ceiling for any Python app on this machine, whatever its framework."""
    body = b""
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    status = 200
    if scope["path"] == "/health":
        answer: dict[str, object] = {"status": "ok"}
    elif scope["method"] == "POST":
        sid = f"sess_{len(_created):012x}"
        answer = {**RECORD, "id": sid, "persistent": json.loads(body).get("persistent", False)}
        _created[sid] = answer
        status = 201
    else:
        answer = RECORD
    content = json.dumps(answer, separators=(",", ":")).encode()  # as Starlette writes it
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(content))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": content})


def main(argv: list[str]) -> None:
    kind, port, *options = argv
    lifespan: Literal["auto", "off"] = "auto"
    app: ASGIApp
    if kind == "bare":
        app, date_header = bare_app(), True
    elif kind == "raw":
        app, date_header, lifespan = raw_app, True, "off"
    else:
        # --quiet: this launcher measures the app alone; `mock-pokee serve` as users run
        # it, request log and all, is measured in the side-by-side table.
        app = create_app(settings_from(parser().parse_args(["serve", "--quiet", *options])))
        date_header = False  # the mock writes its own, from its clock
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=int(port),
        log_level="warning",
        access_log=False,
        date_header=date_header,
        lifespan=lifespan,
    )


if __name__ == "__main__":
    main(sys.argv[1:])
