"""The deadline queue that frees expired sessions: order, moves, discards, compaction."""

from __future__ import annotations

import asyncio

from mock_pokee.clock import Clock
from mock_pokee.domain.deadlines import DeadlineQueue

T0 = 1_000.0


def queue() -> tuple[Clock, DeadlineQueue, list[tuple[str, float]]]:
    clock = Clock("virtual", now=T0)
    fired: list[tuple[str, float]] = []
    return clock, DeadlineQueue(clock, lambda key: fired.append((key, clock.now()))), fired


def test_items_come_due_in_deadline_order_at_their_own_time() -> None:
    clock, deadlines, fired = queue()
    for key, at in [("c", 30), ("a", 10), ("b", 20), ("later", 100)]:
        deadlines.schedule(key, T0 + at)
    asyncio.run(clock.advance(50))
    assert fired == [("a", T0 + 10), ("b", T0 + 20), ("c", T0 + 30)]
    assert len(deadlines) == 1


def test_rescheduling_moves_the_deadline_either_way_and_discard_cancels() -> None:
    clock, deadlines, fired = queue()
    deadlines.schedule("sooner", T0 + 50)
    deadlines.schedule("sooner", T0 + 5)
    deadlines.schedule("later", T0 + 5)
    deadlines.schedule("later", T0 + 60)
    deadlines.schedule("gone", T0 + 1)
    deadlines.discard("gone")
    asyncio.run(clock.advance(59))
    assert fired == [("sooner", T0 + 5)]
    asyncio.run(clock.advance(1))
    assert fired == [("sooner", T0 + 5), ("later", T0 + 60)]
    assert clock.pending == 0


def test_one_clock_timer_serves_the_whole_queue() -> None:
    clock, deadlines, _ = queue()
    for n in range(1000):
        deadlines.schedule(f"s{n}", T0 + 10 + n)
    assert clock.pending == 1


def test_stale_entries_do_not_pile_up() -> None:
    """Moving one deadline ten thousand times keeps the heap small."""
    _, deadlines, _ = queue()
    for n in range(10_000):
        deadlines.schedule("busy-session", T0 + 10 + n)
    assert len(deadlines._heap) < 200


def test_a_rebuilt_heap_still_fires_in_deadline_order() -> None:
    """Rescheduling often enough rebuilds the heap; order and times survive it."""
    clock, deadlines, fired = queue()
    keys = [f"k{n}" for n in range(50)]
    for round_ in range(6):  # 300 schedules of 50 keys: several rebuilds
        for n, key in enumerate(keys):
            deadlines.schedule(key, T0 + 1000 - 10 * n - round_)
    asyncio.run(clock.advance(2000))
    expected = sorted(
        ((key, T0 + 1000 - 10 * n - 5) for n, key in enumerate(keys)), key=lambda p: p[1]
    )
    assert fired == expected
