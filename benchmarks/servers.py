"""The two servers the benchmarks compare, run with identical uvicorn settings.

``python -m benchmarks.servers mock|bare|raw PORT [mock-pokee options]``: the mock app, a
bare Starlette app with JSON endpoints shaped like a session read, a session create and a
stateless response (and a bare event stream), or
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
    """A bare sse-starlette generator yielding the frames a 10,000-delta turn yields, or
    with ``?shape=response`` the ``response.output_text.delta`` frames of a stateless
    response (R5)."""
    count = int(request.query_params.get("events", "10000"))
    response_shape = request.query_params.get("shape") == "response"

    async def frames() -> AsyncIterator[ServerSentEvent]:
        for seq in range(count):
            if response_shape:
                fields: dict[str, object] = {**RESPONSE_DELTA, "sequence_number": seq}
                event = "response.output_text.delta"
            else:
                fields, event = {"content": "a", "sequence_number": seq}, "text.delta"
            data = json.dumps(fields, separators=(",", ":"))
            yield ServerSentEvent(data=data, event=event, id=str(seq), sep="\n")

    return EventSourceResponse(frames(), ping=0, sep="\n")


# What a stateless call answers (R3) when the model calls a tool: the bare baseline
# answers this object, whatever the body asks, once it has parsed the body.
RESPONSE_OBJECT: dict[str, object] = {
    "id": "resp_0123456789abcdef01234567",
    "object": "response",
    "created_at": 1795875682,
    "status": "completed",
    "error": None,
    "incomplete_details": None,
    "instructions": None,
    "max_output_tokens": None,
    "model": "pokee-isaac",
    "output": [
        {
            "type": "function_call",
            "id": "fc_0123456789abcdef01234567",
            "call_id": "call_0123456789abcdef01234567",
            "name": "get_weather",
            "arguments": '{"city":"sample city"}',
            "status": "completed",
        }
    ],
    "parallel_tool_calls": True,
    "reasoning": {"effort": None},
    "store": True,
    "temperature": 1.0,
    "tool_choice": "auto",
    "tools": [],
    "top_p": 1.0,
    "usage": {
        "input_tokens": 40,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": 6,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": 46,
    },
    "user": None,
    "metadata": {},
}
RESPONSE_DELTA: dict[str, object] = {
    "type": "response.output_text.delta",
    "item_id": "msg_0123456789abcdef01234567",
    "output_index": 0,
    "content_index": 0,
    "delta": "a",
    "logprobs": [],
}


async def bare_response(request: Request) -> Response:
    """The least a stateless call does: parse the body, answer a response object."""
    body = await request.json()
    answer = {**RESPONSE_OBJECT, "tools": body.get("tools", [])}
    return JSONResponse(answer, headers={"X-Response-Id": str(answer["id"])})


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
            Route("/v1/responses", bare_response, methods=["POST"]),
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
