"""500 concurrent turns, each streamed to its own client, against `mock-pokee serve` as
users run it: first-event latency measured so that the load generator is not what is
measured.

One Python client holding 500 streams spends more time queueing than the server does
(an earlier figure, p99 5.9 s, was mostly the client). Here four client processes hold
125 streams each, on raw asyncio sockets (no HTTP library per event), with every
connection opened and every session created before a barrier releases all the requests
at once.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import multiprocessing
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing.synchronize import Barrier
from pathlib import Path
from queue import Empty
from urllib.parse import urlsplit

from benchmarks.harness import peak_rss, tree_rss_bytes
from benchmarks.systems import launched, own_systems

STREAMS = 500
PROCESSES = 4
TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Stream:
    """One stream's outcome, in seconds from its request's last byte being written."""

    first_event_s: float | None
    total_s: float
    error: str = ""


def _create_session(host: str, port: int, key: str) -> str:
    connection = http.client.HTTPConnection(host, port, timeout=30)
    connection.request("POST", "/v1/sessions", body="{}", headers={"Authorization": key})
    response = connection.getresponse()
    body = response.read()
    connection.close()
    if response.status != 201:
        raise RuntimeError(f"session create answered {response.status}: {body[:200]!r}")
    sid: str = json.loads(body)["id"]
    return sid


async def _one(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> Stream:
    writer.write(request)
    await writer.drain()
    started = time.perf_counter()
    received = b""
    first: float | None = None
    error = ""
    try:
        while b"event: message.completed" not in received:
            chunk = await asyncio.wait_for(reader.read(65536), TIMEOUT_S)
            if not chunk:
                error = "closed before the end"
                break
            received += chunk
            if first is None and b"event: " in received:
                first = time.perf_counter() - started
    except (TimeoutError, OSError) as exc:
        error = type(exc).__name__
    finally:
        writer.close()
    if received and not received.startswith(b"HTTP/1.1 200"):
        error = received.split(b"\r\n", 1)[0].decode(errors="replace")
    return Stream(first, time.perf_counter() - started, error)


async def _streams(host: str, port: int, requests: list[bytes], barrier: Barrier) -> list[Stream]:
    connections = [await asyncio.open_connection(host, port) for _ in requests]
    await asyncio.get_running_loop().run_in_executor(None, barrier.wait)
    return await asyncio.gather(
        *(
            _one(reader, writer, request)
            for (reader, writer), request in zip(connections, requests, strict=True)
        )
    )


def _client(
    index: int, url: str, count: int, barrier: Barrier, results: multiprocessing.Queue[list[Stream]]
) -> None:
    """One client process: ``count`` tenants, a session each, then all turns at once."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    body = b'{"message": "hi"}'
    requests = []
    for n in range(count):
        key = f"Bearer pk_s{index}x{n}_bench"  # a tenant each: M11 and S9 count per tenant
        sid = _create_session(host, port, key)
        requests.append(
            f"POST /v1/sessions/{sid}/messages HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Authorization: {key}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
            + body
        )
    results.put(asyncio.run(_streams(host, port, requests, barrier)))


def concurrent_streams() -> Iterator[str]:
    serve = next(s for s in own_systems() if s.name == "mock-pokee serve")
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(PROCESSES + 1)
    queue: multiprocessing.Queue[list[Stream]] = context.Queue()
    with tempfile.TemporaryDirectory() as folder, launched(serve, Path(folder)) as target:
        per_process = STREAMS // PROCESSES
        clients = [
            context.Process(target=_client, args=(i, target.url, per_process, barrier, queue))
            for i in range(PROCESSES)
        ]
        for client in clients:
            client.start()
        idle = tree_rss_bytes(target.pid)
        with peak_rss(target.pid) as peak:
            try:
                barrier.wait(timeout=120)
                started = time.perf_counter()
                streams = [s for _ in clients for s in queue.get(timeout=TIMEOUT_S * 2)]
            except (threading.BrokenBarrierError, Empty):
                for client in clients:
                    client.kill()
                yield f"{STREAMS} concurrent turns skipped: a client process failed (see above)\n"
                return
            wall = time.perf_counter() - started
        for client in clients:
            client.join()
    failed = [s for s in streams if s.error]
    firsts = sorted(s.first_event_s for s in streams if s.first_event_s is not None)
    p50 = firsts[len(firsts) // 2] if firsts else float("nan")
    p99 = firsts[min(len(firsts) - 1, int(len(firsts) * 0.99))] if firsts else float("nan")
    yield (
        f"{STREAMS} concurrent turns (quick-answer, real clock) against `mock-pokee serve`, "
        f"{PROCESSES} client processes × {per_process} streams"
    )
    done = len(streams) - len(failed)
    yield f"  completed                       {done:8d} of {STREAMS}, in {wall:.1f} s"
    yield f"  errors                          {len(failed):8d}" + (
        f"  (first: {failed[0].error})" if failed else ""
    )
    yield f"  time to first event, p50 / p99  {p50 * 1000:8.0f} / {p99 * 1000:.0f} ms"
    mib = 2**20
    yield f"  server peak RSS                 {peak[0] / mib:8.1f} MiB ({idle / mib:.1f} idle)\n"
