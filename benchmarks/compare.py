"""The side-by-side table: every system × every figure, with the ratio to `mock-pokee
serve`, measured in one run on one machine.

Each system is launched fresh, timed to its first healthy answer, measured idle, then loaded
with its closest equivalent of a session read and then of a session create, at 1, 16 and
64 connections, while its memory (its whole process tree) is sampled.
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from benchmarks import load
from benchmarks.harness import peak_rss, tree_rss_bytes
from benchmarks.systems import System, Target, launched

CONNECTIONS = (1, 16, 64)
WARM_UP_S = 2.0
REFERENCE = "mock-pokee serve"
MIB = 2**20


@dataclass
class Measured:
    """One system's figures, keyed as `FIGURES` names them."""

    system: System
    values: dict[str, float] = field(default_factory=dict)


def _load(
    target: Target, kind: str, call: load.Call, seconds: float, folder: Path
) -> dict[str, float]:
    values: dict[str, float] = {}
    load.run(target.url, call, 16, WARM_UP_S, folder)  # JITs and caches warm, pools filled
    errors = 0
    with peak_rss(target.pid) as peak:
        for connections in CONNECTIONS:
            result = load.run(target.url, call, connections, seconds, folder)
            values[f"{kind} rps {connections}"] = result.requests_per_s
            values[f"{kind} p50 {connections}"] = result.p50_s
            values[f"{kind} p99 {connections}"] = result.p99_s
            errors += result.errors
    values[f"{kind} errors"] = errors
    values[f"{kind} rss"] = peak[0]
    return values


def measure(system: System, seconds: float, folder: Path) -> Measured:
    with launched(system, folder) as target:
        measured = Measured(system, {"launch": target.launch_s})
        time.sleep(0.5)  # let start-up garbage settle before the idle figure
        measured.values["rss idle"] = tree_rss_bytes(target.pid)
        measured.values |= _load(target, "read", target.read, seconds, folder)
        measured.values |= _load(target, "create", target.create, seconds, folder)
    return measured


# --- the table -------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    show: Callable[[float], str]
    ratio: bool = True


def _rps(value: float) -> str:
    return f"{value:,.0f}"


def _ms(value: float) -> str:
    return f"{value * 1000:,.2f} ms" if value < 0.1 else f"{value * 1000:,.0f} ms"


def _mib(value: float) -> str:
    return f"{value / MIB:,.0f} MiB"


def _count(value: float) -> str:
    return f"{value:,.0f}"


def _figures() -> list[Figure]:
    figures = [Figure("launch", "launch to first healthy answer", lambda v: f"{v:.2f} s")]
    for kind, name in (("read", "session read"), ("create", "session create")):
        for connections in CONNECTIONS:
            at = f"{connections} conn"
            figures += [
                Figure(f"{kind} rps {connections}", f"{name}, req/s, {at}", _rps),
                Figure(f"{kind} p50 {connections}", f"{name}, p50, {at}", _ms),
                Figure(f"{kind} p99 {connections}", f"{name}, p99, {at}", _ms),
            ]
    figures += [
        Figure("rss idle", "RSS idle", _mib),
        Figure("read rss", "RSS peak, read load", _mib),
        Figure("create rss", "RSS peak, create load (objects kept)", _mib),
        Figure("read errors", "errors, read runs (non-2xx + socket)", _count, ratio=False),
        Figure("create errors", "errors, create runs (non-2xx + socket)", _count, ratio=False),
    ]
    return figures


def table(results: list[Measured]) -> list[str]:
    """A Markdown table: a row per figure, a column per system; each cell has the ratio to
    `mock-pokee serve` (value ÷ mock-pokee's: above 1 is more req/s, or slower, or larger)."""
    ordered = sorted(results, key=lambda m: m.system.name != REFERENCE)
    reference = ordered[0] if ordered and ordered[0].system.name == REFERENCE else None
    lines = [
        "| figure | " + " | ".join(m.system.name for m in ordered) + " |",
        "| --- |" + " --- |" * len(ordered),
    ]
    for figure in _figures():
        cells = []
        for measured in ordered:
            value = measured.values.get(figure.key)
            if value is None:
                cells.append("—")
                continue
            cell = figure.show(value)
            base = reference.values.get(figure.key) if reference else None
            if figure.ratio and base and measured is not reference:
                cell += f" ({value / base:.2f}×)"
            cells.append(cell)
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
