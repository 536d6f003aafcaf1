"""The side-by-side table: every system × every figure, with the ratio to `mock-pokee
serve`, measured in one run on one machine.

Each system is launched fresh, timed to its first healthy answer, measured idle, then loaded
with its closest equivalent of a session read and then of a session create, at 1, 16 and
64 connections, while its memory (its whole process tree) is sampled.

Before each of the two loads the system is warmed up until its throughput settles: short
wrk runs at 16 connections until the mean of the last `SETTLE_RUNS` is within `SETTLED`
of the mean of the `SETTLE_RUNS` before them, for at most `WARM_UP_CAP_S`; how long that
took, and whether it settled, is in the table. A fixed warm-up did not do: a Python
server needs none, but a JVM (WireMock) compiles its hot paths while it serves, and two
runs with 2 s of warm-up measured its reads at 10.9k and at 2.4k req/s. Then every figure
is measured `REPEATS` times, the connection counts interleaved so that a drift of the
machine spreads over all of them, and shown as the median with the spread (min–max) of
the runs.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from benchmarks import load
from benchmarks.harness import peak_rss, tree_rss_bytes
from benchmarks.spread import Spread, digits_for
from benchmarks.systems import System, Target, launched

CONNECTIONS = (1, 16, 64)
REPEATS = 3
WARM_UP_CONNECTIONS = 16
WARM_UP_RUN_S = 1.0
SETTLE_RUNS = 2  # the window: settled when the last two runs' mean is within
SETTLED = 0.05  # 5 % of the mean of the two runs before them
WARM_UP_CAP_S = 60.0
KINDS = (("read", "session read"), ("create", "session create"))
REFERENCE = "mock-pokee serve"
MIB = 2**20


@dataclass(frozen=True)
class WarmUp:
    """How long one load's warm-up took, each run's throughput, and whether it settled
    (or stopped at the cap with the throughput still moving)."""

    seconds: float
    rates: tuple[float, ...]
    settled: bool


@dataclass
class Measured:
    """One system's figures: single ones (launch, memory, errors) in ``values``, repeated
    ones (throughput, latency) in ``spreads``, keyed as `_figures` names them."""

    system: System
    values: dict[str, float] = field(default_factory=dict)
    spreads: dict[str, Spread] = field(default_factory=dict)
    warm_ups: dict[str, WarmUp] = field(default_factory=dict)


def settled(rates: list[float]) -> bool:
    """Whether the last `SETTLE_RUNS` runs' mean is within `SETTLED` of the mean of the
    `SETTLE_RUNS` before them. Two runs in a row agreeing is not enough: WireMock's reads
    climbed 3.4k, 3.1k, 3.5k, 3.5k req/s, a pause in its ramp, then went on to 9k."""
    if len(rates) < 2 * SETTLE_RUNS:
        return False
    last = statistics.fmean(rates[-SETTLE_RUNS:])
    before = statistics.fmean(rates[-2 * SETTLE_RUNS : -SETTLE_RUNS])
    return abs(last - before) <= SETTLED * max(last, before)


def warm_up(target: Target, call: load.Call, folder: Path) -> WarmUp:
    """Runs at `WARM_UP_CONNECTIONS` until the throughput has `settled`, or the cap."""
    started = time.perf_counter()
    rates: list[float] = []
    while True:
        result = load.run(target.url, call, WARM_UP_CONNECTIONS, WARM_UP_RUN_S, folder)
        rates.append(result.requests_per_s)
        elapsed = time.perf_counter() - started
        if settled(rates):
            return WarmUp(elapsed, tuple(rates), settled=True)
        if elapsed + WARM_UP_RUN_S > WARM_UP_CAP_S:
            return WarmUp(elapsed, tuple(rates), settled=False)


def _load(
    measured: Measured, target: Target, kind: str, call: load.Call, seconds: float, folder: Path
) -> None:
    measured.warm_ups[kind] = warm_up(target, call, folder)
    runs: dict[int, list[load.Result]] = {connections: [] for connections in CONNECTIONS}
    with peak_rss(target.pid) as peak:
        for _ in range(REPEATS):
            for connections in CONNECTIONS:
                runs[connections].append(load.run(target.url, call, connections, seconds, folder))
    for connections, results in runs.items():
        measured.spreads[f"{kind} rps {connections}"] = Spread.of(r.requests_per_s for r in results)
        measured.spreads[f"{kind} p50 {connections}"] = Spread.of(r.p50_s for r in results)
        measured.spreads[f"{kind} p99 {connections}"] = Spread.of(r.p99_s for r in results)
    measured.values[f"{kind} errors"] = sum(r.errors for rs in runs.values() for r in rs)
    measured.values[f"{kind} rss"] = peak[0]


def measure(system: System, seconds: float, folder: Path) -> Measured:
    with launched(system, folder) as target:
        measured = Measured(system, {"launch": target.launch_s})
        time.sleep(0.5)  # let start-up garbage settle before the idle figure
        measured.values["rss idle"] = tree_rss_bytes(target.pid)
        _load(measured, target, "read", target.read, seconds, folder)
        _load(measured, target, "create", target.create, seconds, folder)
    return measured


def describe_warm_up(warm: WarmUp) -> str:
    """``8 s, settled (4 runs: 2.4k → 9.8k → 10.6k → 10.9k)``, for the run's output."""
    rates = " → ".join(_thousands(rate) for rate in warm.rates)
    state = "settled" if warm.settled else "NOT settled (cap)"
    return f"{warm.seconds:.0f} s, {state} ({len(warm.rates)} runs: {rates} req/s)"


# --- the table -------------------------------------------------------------------------


def _thousands(value: float) -> str:
    return f"{value / 1000:.1f}k" if value >= 1000 else f"{value:.0f}"


def _rps(spread: Spread) -> str:
    """``8.0k (7.8–8.2k)``; under a thousand, ``359 (350–365)``."""
    if spread.median >= 1000:
        k = spread.scaled(1 / 1000)
        return f"{k.median:.1f}k ({k.low:.1f}–{k.high:.1f}k)"
    return spread.show(0)


def _ms(spread: Spread) -> str:
    """``1.82 ms (1.71–1.95)``, with decimals to fit the median's size."""
    ms = spread.scaled(1000)
    return ms.show(digits_for(ms.median), " ms")


def _mib(value: float) -> str:
    return f"{value / MIB:,.0f} MiB"


def _count(value: float) -> str:
    return f"{value:,.0f}"


def _warm_up_cell(kind: str) -> Callable[[Measured], str | None]:
    def cell(measured: Measured) -> str | None:
        warm = measured.warm_ups.get(kind)
        if warm is None:
            return None
        return f"{warm.seconds:.0f} s" + ("" if warm.settled else ", not settled")

    return cell


@dataclass(frozen=True)
class Figure:
    """A row: a single figure (``show``) or a repeated one (``spread``), or a cell built
    from the whole measurement (``cell``); ``ratio``: whether the cell has one."""

    key: str
    label: str
    show: Callable[[float], str] | None = None
    spread: Callable[[Spread], str] | None = None
    cell: Callable[[Measured], str | None] | None = None
    ratio: bool = True


def _figures() -> list[Figure]:
    figures = [Figure("launch", "launch to first healthy answer", show=lambda v: f"{v:.2f} s")]
    for kind, name in KINDS:
        figures.append(
            Figure(f"{kind} warm-up", f"{name}: warm-up until settled", cell=_warm_up_cell(kind))
        )
        for connections in CONNECTIONS:
            at = f"{connections} conn"
            figures += [
                Figure(f"{kind} rps {connections}", f"{name}, req/s, {at}", spread=_rps),
                Figure(f"{kind} p50 {connections}", f"{name}, p50, {at}", spread=_ms),
                Figure(f"{kind} p99 {connections}", f"{name}, p99, {at}", spread=_ms),
            ]
    figures += [
        Figure("rss idle", "RSS idle", show=_mib),
        Figure("read rss", "RSS peak, read runs", show=_mib),
        Figure("create rss", "RSS peak, create runs (objects kept)", show=_mib),
        Figure("read errors", "errors, read runs (non-2xx + socket)", show=_count, ratio=False),
        Figure("create errors", "errors, create runs (non-2xx + socket)", show=_count, ratio=False),
    ]
    return figures


def _value(measured: Measured, figure: Figure) -> float | None:
    """The figure's value for a ratio: a single value, or a spread's median."""
    if figure.key in measured.spreads:
        return measured.spreads[figure.key].median
    return measured.values.get(figure.key)


def _cell(measured: Measured, figure: Figure, reference: Measured | None) -> str:
    if figure.cell is not None:
        return figure.cell(measured) or "—"
    value = _value(measured, figure)
    if value is None:
        return "—"
    if figure.spread is not None:
        text = figure.spread(measured.spreads[figure.key])
    else:
        assert figure.show is not None
        text = figure.show(value)
    base = _value(reference, figure) if reference is not None else None
    if figure.ratio and base and measured is not reference:
        text += f", {value / base:.2f}×"
    return text


def table(results: list[Measured]) -> list[str]:
    """A Markdown table: a row per figure, a column per system. A repeated figure shows
    its median and, in brackets, its spread (min–max); a cell ends with the ratio to
    `mock-pokee serve` (medians: value ÷ mock-pokee's; above 1 is more req/s, or slower,
    or larger)."""
    ordered = sorted(results, key=lambda m: m.system.name != REFERENCE)
    reference = ordered[0] if ordered and ordered[0].system.name == REFERENCE else None
    lines = [
        "| figure | " + " | ".join(m.system.name for m in ordered) + " |",
        "| --- |" + " --- |" * len(ordered),
    ]
    for figure in _figures():
        cells = [_cell(measured, figure, reference) for measured in ordered]
        lines.append(f"| {figure.label} | " + " | ".join(cells) + " |")
    return lines


def machine() -> str:
    model = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    return (
        f"{date.today().isoformat()}, {os.cpu_count()} cores ({model}), "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
    )
