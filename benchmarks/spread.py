"""Several runs of one measurement, summed up as a median and a spread (min–max): one run
on a shared 2-core VM says little, and how far runs differ is part of the figure."""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Spread:
    median: float
    low: float
    high: float

    @classmethod
    def of(cls, values: Iterable[float]) -> Spread:
        ordered = sorted(values)
        if not ordered:
            raise ValueError("no values")
        return cls(statistics.median(ordered), ordered[0], ordered[-1])

    def scaled(self, factor: float) -> Spread:
        return Spread(self.median * factor, self.low * factor, self.high * factor)

    def show(self, digits: int, unit: str = "") -> str:
        """``12.3 ms (11.9–13.0)``: the unit once, after the median."""
        return f"{self.median:.{digits}f}{unit} ({self.low:.{digits}f}–{self.high:.{digits}f})"


def digits_for(value: float) -> int:
    """Decimals that keep about three significant figures, and no more than two."""
    magnitude = abs(value)
    return 2 if magnitude < 10 else 1 if magnitude < 100 else 0
