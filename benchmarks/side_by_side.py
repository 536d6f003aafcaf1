"""The side-by-side part of `make bench`: which systems, how each was started, the table
and the chart, in the order a reader wants them."""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx

from benchmarks import chart
from benchmarks.compare import (
    CONNECTIONS,
    REPEATS,
    SETTLE_RUNS,
    SETTLED,
    WARM_UP_CAP_S,
    WARM_UP_CONNECTIONS,
    WARM_UP_RUN_S,
    Measured,
    describe_warm_up,
    machine,
    measure,
    table,
)
from benchmarks.systems import MAX_SESSIONS, LaunchFailed, own_systems, peer_systems


def _load_average() -> str:
    """The 1-minute load average: on a shared 2-core machine, anything well above the
    bench's own share means other work took cores from the systems being measured."""
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min)"


def run(peers: bool, seconds: float) -> Iterator[str]:
    skipped: list[str] = []
    systems = own_systems() + (peer_systems(skipped.append) if peers else [])
    conns = ", ".join(map(str, CONNECTIONS))
    yield "Side by side: each system launched fresh; before its reads and before its creates,"
    yield (
        f"  warmed up by {WARM_UP_RUN_S:g}-s wrk runs at {WARM_UP_CONNECTIONS} connections until "
        f"the mean of the last {SETTLE_RUNS}"
    )
    yield (
        f"  is within {SETTLED:.0%} of the mean of the {SETTLE_RUNS} before (at most "
        f"{WARM_UP_CAP_S:g} s); then wrk (1 thread,"
    )
    yield (
        f"  --latency) {seconds:g} s a run at {conns} connections, {REPEATS} rounds: "
        "median (min–max)"
    )
    yield f"  machine: {machine()}"
    yield f"  {_load_average()} before the run"
    yield from (f"  {line}" for line in skipped)
    results: list[Measured] = []
    with tempfile.TemporaryDirectory(prefix="mock-pokee-bench-") as folder:
        for system in systems:
            yield f"  measuring {system.name} …"
            try:
                measured = measure(system, seconds, Path(folder))
            except (
                LaunchFailed,
                RuntimeError,
                httpx.HTTPError,
                OSError,
                subprocess.TimeoutExpired,
            ) as exc:
                yield f"  {system.name} skipped: {(str(exc) or type(exc).__name__).splitlines()[0]}"
                continue
            results.append(measured)
            for kind, warm in measured.warm_ups.items():
                yield f"    {kind} warm-up: {describe_warm_up(warm)}"
    yield f"  {_load_average()} after the run"
    yield ""
    yield "How each was started:"
    yield from (f"- {m.system.name}: {m.system.settings}" for m in results)
    yield (
        f"- session create: POST /v1/sessions {{persistent, ttl}}; mock-pokee's servers allow "
        f"{MAX_SESSIONS:,} sessions per tenant, so S9's limit of 10 is not what is measured"
    )
    yield ""
    yield from table(results)
    yield ""
    if results:
        yield chart.draw(results, machine())
    yield ""
