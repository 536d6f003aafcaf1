"""Issue 3's stream target: one turn streaming 10,000 text.delta events to one client,
against a bare sse-starlette generator yielding the same frames on the same server."""

from __future__ import annotations

import asyncio
import http.client
import json
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from benchmarks.harness import rss_bytes, server_process

EVENTS = 10_000
KEY = "Bearer pk_bench_key"


def _timed_read(
    url: str,
    method: str,
    path: str,
    body: dict[str, object] | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[float, bytes]:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=60)
    payload = None if body is None else json.dumps(body)
    started = time.perf_counter()
    connection.request(method, path, body=payload, headers=headers or {})
    data = connection.getresponse().read()
    elapsed = time.perf_counter() - started
    connection.close()
    return elapsed, data


def stream_throughput() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "bench.yaml").write_text(
            "name: bench-10k\nsteps:\n"
            f"  - text: {{content: '{'a' * (EVENTS - 3)}', chunk: 1, pace: 0}}\n"
        )
        with server_process("bare") as (url, _):
            _timed_read(url, "GET", f"/stream?events={EVENTS}")  # warm up
            bare_s, bare_body = _timed_read(url, "GET", f"/stream?events={EVENTS}")
        options = ("--clock", "virtual", "--scenarios", folder, "--max-sessions", "100")
        with server_process("mock", *options) as (url, _):
            auth = {"Authorization": KEY, "Content-Type": "application/json"}
            _, created = _timed_read(url, "POST", "/v1/sessions", {}, auth)
            sid = json.loads(created)["id"]
            forced = {**auth, "X-Mock-Scenario": "bench-10k"}
            path = f"/v1/sessions/{sid}/messages"
            _timed_read(url, "POST", path, {"message": "warm up"}, forced)
            mock_s, mock_body = _timed_read(url, "POST", path, {"message": "go"}, forced)
    bare_events = bare_body.count(b"\nevent: ") + bare_body.startswith(b"id:")
    mock_events = mock_body.count(b"\nevent: ")
    assert mock_events >= EVENTS, mock_events
    bare_rate, mock_rate = bare_events / bare_s, mock_events / mock_s
    yield f"One turn streaming {EVENTS:,} text.delta events to one client"
    yield f"  bare sse-starlette generator  {bare_rate:10,.0f} events/s"
    yield f"  mock-pokee turn stream        {mock_rate:10,.0f} events/s"
    yield f"  ratio                         {mock_rate / bare_rate:10.2f}×   (target ≥ 0.70)\n"


TURNS = 10_000


async def _many_turns(url: str, count: int, run: str, concurrency: int = 32) -> None:
    """``count`` quick turns spread over tenants of this ``run`` (M11: 300 an hour each)."""
    jobs = iter(range(count))
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:

        async def worker() -> None:
            sessions: dict[int, str] = {}
            for n in jobs:
                tenant = n // 250
                headers = {"Authorization": f"Bearer pk_{run}{tenant}_bench"}
                if tenant not in sessions:
                    created = await client.post("/v1/sessions", headers=headers, json={})
                    sessions[tenant] = created.json()["id"]
                path = f"/v1/sessions/{sessions[tenant]}/messages"
                body = {"message": f"turn {n}"}
                while True:
                    response = await client.post(path, headers=headers, json=body)
                    if response.status_code != 409:  # another worker's turn on it
                        break
                response.raise_for_status()

        await asyncio.gather(*(worker() for _ in range(concurrency)))


def _turns_held(url: str) -> int:
    _, body = _timed_read(url, "GET", "/_mock/state")
    return sum(len(tenant["turns"]) for tenant in json.loads(body)["tenants"])


def turn_eviction() -> Iterator[str]:
    """Finished turns' logs are evicted 120 s after they end (M7); memory comes back."""
    with server_process("mock", "--clock", "virtual", "--max-sessions", "100") as (url, process):
        asyncio.run(_many_turns(url, 500, "warm"))  # warm up, then evict
        _timed_read(url, "POST", "/_mock/clock/advance", {"seconds": 121}, {})
        baseline = rss_bytes(process.pid)
        asyncio.run(_many_turns(url, TURNS, "main"))
        held, peak = _turns_held(url), rss_bytes(process.pid)
        _timed_read(url, "POST", "/_mock/clock/advance", {"seconds": 121}, {})
        left = _turns_held(url)
        asyncio.run(_many_turns(url, TURNS, "again"))  # reuses what the first batch freed
        _timed_read(url, "POST", "/_mock/clock/advance", {"seconds": 121}, {})
        second = rss_bytes(process.pid)
    mib = 2**20
    yield f"{TURNS:,} finished turns, then 121 s of clock time (M7 retention is 120 s)"
    yield f"  turns held before / after       {held:8,d} / {left:,d}"
    rss = f"{baseline / mib:.1f} / {peak / mib:.1f} / {second / mib:.1f} MiB"
    yield f"  server RSS idle / after 10,000 / after 20,000 turns: {rss}"
    yield "  (CPython keeps freed arenas; a second batch that reuses them without growing"
    yield "  is the sign that nothing leaks)\n"
