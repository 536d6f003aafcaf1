"""Issue 22's targets: the stateless surface (`POST /v1/responses`, contract R) against the
bare Starlette baselines, measured in the same run.

- **A JSON response**: a call with one tool and a question the tool answers, so the model
  answers with a function call (R8), the surface's main use; wrk, one thread, 16
  connections. The baseline parses the body and answers a constant response object of the
  same shape (`benchmarks.servers.bare_response`).
- **A 1,000-delta stream**: one `stream: true` call whose scenario streams 1,000
  one-character `response.output_text.delta` events, read whole by one client. The
  baseline is a bare sse-starlette generator yielding 1,000 frames of the same shape.

The mock is `mock-pokee serve` as users start it, request log and journal on, with two
kinds of options only: a scenario folder (the stream's scenario, `pace: 0`: the default
model paces its text for show, 20 ms a delta on the real clock) and usage limits it cannot
reach (the `response` bucket allows 300 calls an hour per tenant, U1, and the load makes
tens of thousands). The bare server and the mock take turns, twice each, so that a drift
of the machine spreads over both; the ratio is of the medians.
"""

from __future__ import annotations

import http.client
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

from benchmarks.load import Call, run
from benchmarks.systems import JSON, KEY, System, launched

DELTAS = 1_000
ROUNDS = 2  # measured runs of each, bare and mock taking turns
SECONDS = 2.0  # each wrk run
CONNECTIONS = 16
STREAM_READS = 5  # streams read per round (the figure is their median rate)
# U1: the response bucket's limits, set past what a run can use (the load's only option).
UNREACHABLE = str(10**15)
WEATHER_TOOL = {
    "type": "function",
    "name": "get_weather",
    "description": "The weather in a city",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}
CALL_BODY = json.dumps(
    {"model": "pokee-isaac", "input": "What is the weather in Lisbon?", "tools": [WEATHER_TOOL]}
)
SCENARIO = "bench-1k-deltas"


def _scenario(folder: Path) -> None:
    (folder / f"{SCENARIO}.yaml").write_text(
        f"name: {SCENARIO}\nsurface: response\nsteps:\n"
        f"  - text: {{content: '{'a' * DELTAS}', chunk: 1, pace: 0}}\n"
    )


def _systems(scenarios: Path) -> tuple[System, System]:
    call = Call("POST", "/v1/responses", {**KEY, **JSON}, CALL_BODY)
    bare = System(
        "bare Starlette",
        "the bench's launcher `python -m benchmarks.servers bare`",
        lambda port: [sys.executable, "-m", "benchmarks.servers", "bare", str(port)],
        lambda url: (call, call),
    )
    limits = [
        f"--{name}-per-{window}" for name in ("turns", "tokens") for window in ("hour", "day")
    ]
    options = [word for option in limits for word in (option, UNREACHABLE)]
    mock = System(
        "mock-pokee serve",
        "`python -m mock_pokee serve --port P --scenarios DIR` and unreachable usage limits",
        lambda port: [
            sys.executable,
            "-m",
            "mock_pokee",
            "serve",
            "--port",
            str(port),
            "--scenarios",
            str(scenarios),
            *options,
        ],
        lambda url: (call, call),
    )
    return bare, mock


def _read_stream(
    url: str, path: str, method: str, body: str | None, headers: dict[str, str]
) -> tuple[float, int]:
    """Seconds from sending the request to the stream's end, and the events it held."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=60)
    started = time.perf_counter()
    connection.request(method, path, body=body, headers=headers)
    answer = connection.getresponse()
    data = answer.read()
    elapsed = time.perf_counter() - started
    connection.close()
    if answer.status != 200:
        raise RuntimeError(f"{method} {path} answered {answer.status}: {data[:300]!r}")
    return elapsed, data.count(b"\nevent: ") + data.startswith(b"event: ")


def _stream_rate(url: str, bare: bool) -> float:
    """Events a second of one stream, the median of `STREAM_READS` reads after one warm-up."""
    request: tuple[str, str, str | None, dict[str, str]]
    if bare:
        request = (f"/stream?events={DELTAS}&shape=response", "GET", None, {})
    else:
        body = json.dumps({"input": "stream a thousand deltas", "stream": True})
        headers = {**KEY, **JSON, "X-Mock-Scenario": SCENARIO}
        request = ("/v1/responses", "POST", body, headers)
    _read_stream(url, *request)
    rates = []
    for _ in range(STREAM_READS):
        elapsed, events = _read_stream(url, *request)
        if events < DELTAS:
            raise RuntimeError(f"a stream held {events} events, fewer than {DELTAS}")
        rates.append(events / elapsed)
    return statistics.median(rates)


def measure(folder: Path) -> dict[str, dict[str, list[float]]]:
    """Per system, the JSON calls' req/s and the stream's events/s of each round."""
    scenarios = folder / "scenarios"
    scenarios.mkdir()
    _scenario(scenarios)
    figures: dict[str, dict[str, list[float]]] = {}
    for _ in range(ROUNDS):
        for system in _systems(scenarios):
            with launched(system, folder) as target:
                run(target.url, target.read, CONNECTIONS, 1, folder)  # warm up
                loaded = run(target.url, target.read, CONNECTIONS, SECONDS, folder)
                if loaded.errors:
                    raise RuntimeError(f"{system.name}: {loaded.errors} errors under wrk")
                stream = _stream_rate(target.url, bare=system.name == "bare Starlette")
            mine = figures.setdefault(system.name, {"json": [], "p50": [], "stream": []})
            mine["json"].append(loaded.requests_per_s)
            mine["p50"].append(loaded.p50_s)
            mine["stream"].append(stream)
    return figures


def stateless_responses() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as name:
        figures = measure(Path(name))
    bare, mock = figures["bare Starlette"], figures["mock-pokee serve"]
    bare_json, mock_json = statistics.median(bare["json"]), statistics.median(mock["json"])
    bare_p50, mock_p50 = statistics.median(bare["p50"]), statistics.median(mock["p50"])
    bare_stream, mock_stream = statistics.median(bare["stream"]), statistics.median(mock["stream"])
    yield (
        "Stateless responses (R) against bare Starlette, in one run: `mock-pokee serve` "
        f"with its request log, {ROUNDS} rounds each, taking turns"
    )
    yield f"  JSON response (a tool call), wrk 1 thread {CONNECTIONS} conn {SECONDS:.0f} s"
    yield f"    bare Starlette              {bare_json:10,.0f} req/s  p50 {bare_p50 * 1000:.2f} ms"
    yield f"    mock-pokee serve            {mock_json:10,.0f} req/s  p50 {mock_p50 * 1000:.2f} ms"
    yield f"    ratio                       {mock_json / bare_json:10.2f}×"
    yield f"  One stream of {DELTAS:,} response.output_text.delta events to one client"
    yield f"    bare sse-starlette          {bare_stream:10,.0f} events/s"
    yield f"    mock-pokee serve            {mock_stream:10,.0f} events/s"
    yield f"    ratio                       {mock_stream / bare_stream:10.2f}×\n"
