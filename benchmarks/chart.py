"""The one picture in docs/benchmarks.md: throughput per system, from the same run as the
table: each bar the median of the repeated runs, its whisker their spread (min–max).
matplotlib is optional (the ``bench`` extra): without it the chart is skipped."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from benchmarks.compare import CONNECTIONS, KINDS, REPEATS, Measured

CHART = Path(__file__).resolve().parent.parent / "docs" / "benchmarks-throughput.png"


def draw(results: list[Measured], machine: str, path: Path = CHART) -> str:
    """Draws the chart into ``path``; returns the one line to print either way."""
    if importlib.util.find_spec("matplotlib") is None:
        return "chart skipped: matplotlib is not installed (pip install -e '.[bench]')"
    import matplotlib

    matplotlib.use("Agg")  # no display needed
    from matplotlib import pyplot

    names = [m.system.name for m in results]
    figure, panels = pyplot.subplots(1, 2, figsize=(11, 0.55 * len(names) + 2.2), sharey=True)
    height = 0.8 / len(CONNECTIONS)
    for panel, (kind, title) in zip(panels, KINDS, strict=True):
        for step, connections in enumerate(CONNECTIONS):
            spreads = [m.spreads.get(f"{kind} rps {connections}") for m in results]
            medians = [s.median if s else 0.0 for s in spreads]
            below = [s.median - s.low if s else 0.0 for s in spreads]
            above = [s.high - s.median if s else 0.0 for s in spreads]
            rows = [n + (step - 1) * height for n in range(len(names))]
            panel.barh(
                rows,
                medians,
                height=height,
                xerr=[below, above],
                error_kw={"elinewidth": 0.8, "capsize": 1.5},
                label=f"{connections} conn",
            )
        panel.set_title(f"{title}, requests/s")
        panel.grid(axis="x", alpha=0.3)
    panels[0].set_yticks(range(len(names)), names)
    panels[0].invert_yaxis()
    panels[1].legend(loc="lower right")
    figure.suptitle(
        f"Throughput per system (wrk, 1 thread; bar: median of {REPEATS} runs, whisker: "
        f"min–max) — {machine}",
        fontsize=9,
    )
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    pyplot.close(figure)
    return f"chart written to {path.relative_to(path.parent.parent)}"
