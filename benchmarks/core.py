"""Issue 2's targets: session reads against bare Starlette, start-up time, and 10,000
sessions (bulk delete, clock advance, memory per idle session)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from benchmarks.harness import (
    free_port,
    requests_per_second,
    rss_bytes,
    server_process,
    wait_for_health,
)
from mock_pokee.server import ThreadedServer

KEY = {"Authorization": "Bearer pk_bench_key"}
SESSIONS = 10_000


def run() -> Iterator[str]:
    from benchmarks.client import cli_startup, client_stream
    from benchmarks.faults import session_read_under_rules
    from benchmarks.files import file_transfer
    from benchmarks.turns import stream_throughput, turn_eviction

    yield from session_read_throughput()
    yield from session_read_under_rules()
    yield from stream_throughput()
    yield from turn_eviction()
    yield from file_transfer()
    yield from startup_times()
    yield from ten_thousand_sessions()
    yield from four_hour_ttl()
    yield from client_stream()
    yield from cli_startup()


def session_read_throughput() -> Iterator[str]:
    """GET /v1/sessions/{id}: target ≥ 0.7× a bare Starlette JSON endpoint.

    Both run under the bench's own launcher with uvicorn's access log off, so this is the
    app against the limit; what users run (`mock-pokee serve`, with its request log) is
    in the side-by-side table."""
    with server_process("bare") as (url, _):
        requests_per_second(f"{url}/v1/sessions/sess_0123456789ab", KEY, seconds=1)  # warm up
        bare = requests_per_second(f"{url}/v1/sessions/sess_0123456789ab", KEY)
    with server_process("mock", "--max-sessions", "100") as (url, _):
        sid = httpx.post(f"{url}/v1/sessions", headers=KEY, json={"persistent": True}).json()["id"]
        requests_per_second(f"{url}/v1/sessions/{sid}", KEY, seconds=1)
        mock = requests_per_second(f"{url}/v1/sessions/{sid}", KEY)
    yield "GET /v1/sessions/{id} throughput, the app alone (bench launcher, access log off;"
    yield "  wrk, 1 thread, 32 connections, 5 s)"
    yield f"  bare Starlette JSON endpoint  {bare:10,.0f} req/s"
    yield f"  mock-pokee session read       {mock:10,.0f} req/s"
    yield f"  ratio                         {mock / bare:10.2f}×   (target ≥ 0.70)\n"


def startup_times() -> Iterator[str]:
    """`mock-pokee serve` answers /health within 1 s; the in-process server within 0.3 s."""
    port = free_port()
    mock_pokee = Path(sys.executable).with_name("mock-pokee")
    started = time.perf_counter()
    process = subprocess.Popen(
        [str(mock_pokee), "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_health(f"http://127.0.0.1:{port}")
        cli = time.perf_counter() - started
    finally:
        process.terminate()
        process.wait()
    started = time.perf_counter()
    with ThreadedServer() as server:
        httpx.get(f"{server.url}/health")
        threaded = time.perf_counter() - started
    yield "Start-up, launch to first /health 200"
    yield f"  mock-pokee serve (new process) {cli:8.3f} s   (target < 1 s)"
    yield f"  ThreadedServer (in-process)    {threaded:8.3f} s   (target < 0.3 s)\n"


async def _create_sessions(url: str, count: int, concurrency: int = 32) -> None:
    """``count`` persistent sessions whose ttls (1 s … ``count`` s) are all different, so
    that a clock advance meets ``count`` distinct deadlines: the worst case for expiry."""
    ttls = iter(range(1, count + 1))
    async with httpx.AsyncClient(base_url=url, headers=KEY) as client:

        async def worker() -> None:
            for ttl in ttls:
                body = {"persistent": True, "ttl": ttl}
                (await client.post("/v1/sessions", json=body)).raise_for_status()

        await asyncio.gather(*(worker() for _ in range(concurrency)))


def _timed(
    client: httpx.Client, method: str, path: str, **kwargs: object
) -> tuple[float, httpx.Response]:
    """One request on an already open connection, so that only the server's work and one
    loopback round trip are timed (a new httpx client alone costs milliseconds)."""
    client.get("/health")
    started = time.perf_counter()
    response = client.request(method, path, **kwargs)  # type: ignore[arg-type]
    return time.perf_counter() - started, response


def ten_thousand_sessions() -> Iterator[str]:
    """Bulk delete and clock advance over 10,000 sessions: each under 100 ms; memory per
    idle session under 4 KB. Times are request round trips on loopback (an upper bound on
    server time)."""
    options = ("--clock", "virtual", "--max-sessions", str(SESSIONS * 2))
    with (
        server_process("mock", *options) as (url, process),
        httpx.Client(base_url=url, headers=KEY, timeout=30) as client,
    ):
        asyncio.run(_create_sessions(url, 100))  # warm every code path before measuring
        client.post("/_mock/reset")
        before = rss_bytes(process.pid)
        asyncio.run(_create_sessions(url, SESSIONS))
        per_session = (rss_bytes(process.pid) - before) / SESSIONS
        delete_s, deleted = _timed(client, "DELETE", "/v1/sessions", params={"status": "any"})
        assert deleted.json() == {"deleted": SESSIONS}, deleted.text

        asyncio.run(_create_sessions(url, SESSIONS))
        advance_s, _ = _timed(client, "POST", "/_mock/clock/advance", json={"seconds": 36_000})
        left = client.get("/v1/sessions").json()
        assert left == [], f"{len(left)} sessions survived a 10-hour advance"
    yield f"{SESSIONS:,} sessions (virtual clock; {SESSIONS:,} distinct deadlines)"
    yield f"  bulk delete of all of them      {delete_s * 1000:8.1f} ms   (target < 100 ms)"
    yield f"  10-hour advance expiring them   {advance_s * 1000:8.1f} ms   (target < 100 ms)"
    yield f"  RSS per idle session            {per_session:8.0f} B    (target < 4096 B)\n"


def four_hour_ttl(rounds: int = 50) -> Iterator[str]:
    """What a user's "does my session survive 4 hours" test costs on the virtual clock:
    a persistent session with a 4-hour ttl, a deck turn started and left running, the
    clock advanced 4 hours, the session gone (404). Whole round trips on loopback."""
    options = ("--clock", "virtual", "--max-sessions", str(rounds * 2))
    timings = []
    with (
        server_process("mock", *options) as (url, _),
        httpx.Client(base_url=url, headers=KEY, timeout=30) as client,
    ):
        for _ in range(rounds):
            started = time.perf_counter()
            body = {"persistent": True, "ttl": 14_400}
            sid = client.post("/v1/sessions", json=body).json()["id"]
            message = {"message": "Build a deck on tides"}
            with client.stream("POST", f"/v1/sessions/{sid}/messages", json=message) as turn:
                assert turn.status_code == 200
            client.post("/_mock/clock/advance", json={"seconds": 14_400})
            assert client.get(f"/v1/sessions/{sid}").status_code == 404
            timings.append(time.perf_counter() - started)
    timings.sort()
    median, worst = timings[len(timings) // 2], timings[-1]
    yield f"A 4-hour ttl test, {rounds}× (virtual clock: create, start a deck, advance, 404)"
    yield f"  per test, median / worst        {median * 1000:8.1f} / {worst * 1000:.1f} ms\n"
