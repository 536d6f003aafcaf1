"""The bench's two baselines answer alike, byte for byte, so that the gap between them is
the framework's cost and nothing else (see docs/benchmarks.md)."""

from __future__ import annotations

import asyncio
import json

import httpx

from benchmarks.servers import RECORD, bare_app, raw_app

CREATE = json.dumps({"persistent": True, "ttl": 14400})


async def _answers(app: object) -> list[tuple[int, str, bytes]]:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        calls = [
            await client.get("/health"),
            await client.get(f"/v1/sessions/{RECORD['id']}"),
            await client.post("/v1/sessions", content=CREATE),
        ]
    return [(r.status_code, r.headers["content-type"], r.content) for r in calls]


def test_uvicorn_alone_answers_as_bare_starlette_does() -> None:
    raw, bare = asyncio.run(_answers(raw_app)), asyncio.run(_answers(bare_app()))
    assert raw[:2] == bare[:2]
    assert [status for status, _, _ in raw] == [200, 200, 201]
    # Both apps in this process number their creates from one counter: ids differ by one.
    (raw_status, raw_type, raw_body), (bare_status, bare_type, bare_body) = raw[2], bare[2]
    assert (raw_status, raw_type, len(raw_body)) == (bare_status, bare_type, len(bare_body))
    created = json.loads(raw_body)
    assert created["persistent"] is True
    assert {**created, "id": ""} == {**json.loads(bare_body), "id": ""}
