"""Issue 8's client targets: consuming a 10,000-event turn stream through pokee_client
(typed events, sequence checks, resume bookkeeping) against reading the same stream's raw
bytes with httpx, in the same run; and how fast ``pokee --help`` answers."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
from httpx_sse import EventSource

from benchmarks.harness import server_process
from pokee_client import PokeeClient

EVENTS = 10_000
KEY = "pk_clientbench_key"
ROUNDS = 7


def _scenario(folder: str) -> None:
    """One turn of EVENTS events: created, start, deltas, stop, completed."""
    Path(folder, "bench.yaml").write_text(
        "name: bench-10k\nsteps:\n"
        f"  - text: {{content: '{'a' * (EVENTS - 4)}', chunk: 1, pace: 0}}\n"
    )


Timing = tuple[float, float, int]  # wall seconds, this process's CPU seconds, size


def _timed(read: Callable[[], int]) -> Timing:
    wall, cpu = time.perf_counter(), time.process_time()
    size = read()
    return time.perf_counter() - wall, time.process_time() - cpu, size


def _raw(http: httpx.Client, url: str, sid: str) -> Timing:
    def read() -> int:
        with http.stream(
            "POST",
            f"{url}/v1/sessions/{sid}/messages",
            json={"message": "go"},
            headers={"Authorization": f"Bearer {KEY}", "X-Mock-Scenario": "bench-10k"},
        ) as response:
            return sum(len(chunk) for chunk in response.iter_raw())

    return _timed(read)


def _sse_only(http: httpx.Client, url: str, sid: str) -> Timing:
    """httpx-sse's parse alone: what any SSE client over httpx pays before its own work."""

    def read() -> int:
        with http.stream(
            "POST",
            f"{url}/v1/sessions/{sid}/messages",
            json={"message": "go"},
            headers={"Authorization": f"Bearer {KEY}", "X-Mock-Scenario": "bench-10k"},
        ) as response:
            return sum(1 for _ in EventSource(response).iter_sse())

    return _timed(read)


def _through_client(pokee: PokeeClient, sid: str) -> Timing:
    return _timed(lambda: sum(1 for _ in pokee.messages.stream(sid, "go", scenario="bench-10k")))


def client_stream() -> Iterator[str]:
    """The server runs in its own process, so this process's CPU time is the client's
    own cost; the wall time also includes waiting for the server."""
    with tempfile.TemporaryDirectory() as folder:
        _scenario(folder)
        options = ("--clock", "virtual", "--scenarios", folder)
        with (
            server_process("mock", *options) as (url, _),
            httpx.Client(timeout=60) as http,
            PokeeClient(url, KEY, timeout=60) as pokee,
        ):
            sid = pokee.sessions.create().id
            _raw(http, url, sid)  # warm up both paths
            _through_client(pokee, sid)
            raw, parsed, typed = [], [], []
            for _ in range(ROUNDS):  # interleaved, so all see the same machine
                raw.append(_raw(http, url, sid))
                parsed.append(_sse_only(http, url, sid))
                typed.append(_through_client(pokee, sid))
    size, count = raw[0][2], typed[0][2]
    assert count == EVENTS, count
    raw_wall, raw_cpu = min(t[0] for t in raw), min(t[1] for t in raw)
    typed_wall, typed_cpu = min(t[0] for t in typed), min(t[1] for t in typed)
    sse_wall, sse_cpu = min(t[0] for t in parsed), min(t[1] for t in parsed)
    yield f"One turn of {EVENTS:,} events read by one client (best of {ROUNDS}; wall / CPU)"
    yield f"  raw bytes with httpx          {raw_wall * 1000:6.0f} / {raw_cpu * 1000:.0f} ms"
    yield f"  httpx-sse events, untyped     {sse_wall * 1000:6.0f} / {sse_cpu * 1000:.0f} ms"
    yield f"  typed events via pokee_client {typed_wall * 1000:6.0f} / {typed_cpu * 1000:.0f} ms"
    yield (
        f"  ratio                         {typed_wall / raw_wall:6.2f}× / "
        f"{typed_cpu / raw_cpu:.2f}×   (target ≤ 1.30; {size / 2**20:.1f} MiB)\n"
    )


def cli_startup() -> Iterator[str]:
    """``pokee --help``: hyperfine when installed, else a timed loop of 20 runs."""
    pokee = str(Path(sys.executable).with_name("pokee"))
    hyperfine = shutil.which("hyperfine")
    if hyperfine is not None:
        with tempfile.NamedTemporaryFile(suffix=".json") as report:
            subprocess.run(
                [hyperfine, "-N", "--warmup", "3", "--runs", "30", "--export-json", report.name,
                 f"{pokee} --help"],
                check=True,
                capture_output=True,
            )  # fmt: skip
            result = json.loads(Path(report.name).read_text())["results"][0]
        mean, low, how = result["mean"], result["min"], "hyperfine, 30 runs"
    else:
        times = []
        for _ in range(20):
            started = time.perf_counter()
            subprocess.run([pokee, "--help"], check=True, capture_output=True)
            times.append(time.perf_counter() - started)
        mean, low, how = sum(times) / len(times), min(times), "timed loop, 20 runs"
    yield f"`pokee --help` start-up ({how})"
    figures = f"{mean * 1000:6.0f} / {low * 1000:.0f} ms"
    yield f"  mean / best                   {figures}   (target < 300)\n"
