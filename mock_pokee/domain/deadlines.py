"""A queue of keyed deadlines, swept by a single clock timer armed at the earliest one.

Sessions, finished turns' logs and idempotency keys are freed when their deadline passes. One clock
timer per item would cost a timer object and a callback each; here the items sit on one
heap of plain tuples and a single timer sweeps everything due, in deadline order. Moving a
deadline pushes a new entry and leaves the old one stale; stale entries are skipped when
popped, and the heap is rebuilt once they outnumber the live ones.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable

from mock_pokee.clock import Clock, Timer


class DeadlineQueue:
    def __init__(self, clock: Clock, on_due: Callable[[str], None]):
        self._clock = clock
        self._on_due = on_due
        # (deadline, insertion order, key): ties break on an int, not on the key string.
        self._heap: list[tuple[float, int, str]] = []
        self._order = itertools.count()
        self._deadline_of: dict[str, float] = {}
        self._timer: Timer | None = None
        self._timer_at = 0.0

    def __len__(self) -> int:
        return len(self._deadline_of)

    def schedule(self, key: str, when: float) -> None:
        """Call ``on_due(key)`` once the clock reaches ``when`` (replacing any earlier call)."""
        if self._deadline_of.get(key) == when:
            return
        self._deadline_of[key] = when
        heapq.heappush(self._heap, (when, next(self._order), key))
        if len(self._heap) > 2 * len(self._deadline_of) + 64:
            self._heap = [(w, next(self._order), k) for k, w in self._deadline_of.items()]
            heapq.heapify(self._heap)
        self._arm()

    def discard(self, key: str) -> None:
        self._deadline_of.pop(key, None)
        if not self._deadline_of:  # nothing left to wait for: no timer left on the clock
            self.clear()

    def clear(self) -> None:
        self._heap.clear()
        self._deadline_of.clear()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _arm(self) -> None:
        if not self._heap:
            return
        first = self._heap[0][0]
        if self._timer is not None and not self._timer.cancelled and self._timer_at <= first:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at = first
        self._timer = self._clock.call_at(first, self._sweep)

    def _sweep(self) -> None:
        self._timer = None
        now, heap, deadline_of = self._clock.now(), self._heap, self._deadline_of
        while heap and heap[0][0] <= now:
            when, _, key = heapq.heappop(heap)
            if deadline_of.get(key) == when:
                del deadline_of[key]
                self._on_due(key)
        self._arm()
