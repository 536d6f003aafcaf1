"""The bench's two baselines answer alike, byte for byte, so that the gap between them is
the framework's cost and nothing else (see docs/benchmarks.md). Each app is called as
uvicorn calls it, and what it hands back is compared: status, headers and body."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.types import ASGIApp, Message

from benchmarks.servers import RECORD, bare_app, raw_app

CREATE = json.dumps({"persistent": True, "ttl": 14400}).encode()


async def _answer(app: ASGIApp, method: str, path: str, body: bytes = b"") -> dict[str, Any]:
    sent: list[Message] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(b"content-type", b"application/json")],
    }
    await app(scope, receive, send)
    start, end = sent
    return {"status": start["status"], "headers": dict(start["headers"]), "body": end["body"]}


async def _answers(app: ASGIApp) -> list[dict[str, Any]]:
    return [
        await _answer(app, "GET", "/health"),
        await _answer(app, "GET", f"/v1/sessions/{RECORD['id']}"),
        await _answer(app, "POST", "/v1/sessions", CREATE),
    ]


def test_uvicorn_alone_answers_as_bare_starlette_does() -> None:
    raw, bare = asyncio.run(_answers(raw_app)), asyncio.run(_answers(bare_app()))
    assert raw[:2] == bare[:2]
    assert [answer["status"] for answer in raw] == [200, 200, 201]
    # Both apps in this process number their creates from one counter: ids differ by one.
    created, made_bare = json.loads(raw[2]["body"]), json.loads(bare[2]["body"])
    assert created["persistent"] is True
    assert {**created, "id": ""} == {**made_bare, "id": ""}
    assert {**raw[2], "body": b""} == {**bare[2], "body": b""}  # status and both headers
