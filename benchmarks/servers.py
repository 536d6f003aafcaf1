"""The two servers the benchmarks compare, run with identical uvicorn settings.

``python -m benchmarks.servers mock|bare PORT [mock-pokee options]``: the mock app, or a
bare Starlette app with JSON endpoints shaped like a session read and a session create.
Access logs are off for both: the benchmark measures the app, not the terminal. (What
users run, `mock-pokee serve` with its own logging, is measured in benchmarks.compare.)
"""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator

import uvicorn
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

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


def main(argv: list[str]) -> None:
    kind, port, *options = argv
    if kind == "bare":
        app, date_header = bare_app(), True
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
    )


if __name__ == "__main__":
    main(sys.argv[1:])
