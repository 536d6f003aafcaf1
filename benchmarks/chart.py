"""The one picture in docs/benchmarks.md: throughput per system, from the same run as the
table. matplotlib is optional (the ``bench`` extra): without it the chart is skipped."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from benchmarks.compare import CONNECTIONS, Measured

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
    for panel, (kind, title) in zip(
        panels, (("read", "session read"), ("create", "session create")), strict=True
    ):
        for step, connections in enumerate(CONNECTIONS):
            values = [m.values.get(f"{kind} rps {connections}", 0.0) for m in results]
            rows = [n + (step - 1) * height for n in range(len(names))]
            panel.barh(rows, values, height=height, label=f"{connections} conn")
        panel.set_title(f"{title}, requests/s (wrk, 1 thread)")
        panel.grid(axis="x", alpha=0.3)
    panels[0].set_yticks(range(len(names)), names)
    panels[0].invert_yaxis()
    panels[1].legend(loc="lower right")
    figure.suptitle(f"Throughput per system — {machine}", fontsize=9)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    pyplot.close(figure)
    return f"chart written to {path.relative_to(path.parent.parent)}"
