"""The clock (C1) on its own: modes, timers in order, settling woken tasks, guards."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from mock_pokee.clock import Clock, ClockError

T0 = 1_000_000.0


def test_virtual_time_stands_still_until_advanced() -> None:
    clock = Clock("virtual", now=T0)
    assert clock.now() == T0
    assert asyncio.run(clock.advance(90)) == T0 + 90
    assert clock.now() == T0 + 90


def test_timers_fire_in_time_order_seeing_their_own_time() -> None:
    clock = Clock("virtual", now=T0)
    seen: list[tuple[str, float]] = []

    def record(name: str) -> Callable[[], None]:
        return lambda: seen.append((name, clock.now()))

    for name, at in [("c", 30.0), ("a", 10.0), ("b", 20.0), ("late", 1000.0)]:
        clock.call_at(T0 + at, record(name))
    asyncio.run(clock.advance(30))
    assert seen == [("a", T0 + 10), ("b", T0 + 20), ("c", T0 + 30)]
    assert clock.pending == 1


def test_a_cancelled_timer_never_fires() -> None:
    clock = Clock("virtual", now=T0)
    fired: list[int] = []
    clock.call_at(T0 + 1, lambda: fired.append(1)).cancel()
    asyncio.run(clock.advance(5))
    assert fired == []
    assert clock.pending == 0


def test_advance_lets_woken_tasks_run_until_they_wait_on_the_clock_again() -> None:
    """A task that pauses three times on the clock completes inside one advance, even
    when it also yields to the loop between its pauses."""

    async def scenario() -> list[float]:
        clock = Clock("virtual", now=T0)
        marks: list[float] = []

        async def turn() -> None:
            for _ in range(3):
                await clock.sleep(60)
                for _ in range(5):
                    await asyncio.sleep(0)
                marks.append(clock.now())

        task = asyncio.create_task(turn())
        await asyncio.sleep(0)
        await clock.advance(180)
        assert task.done()
        return marks

    assert asyncio.run(scenario()) == [T0 + 60, T0 + 120, T0 + 180]


def test_advance_stops_short_of_timers_beyond_its_target() -> None:
    async def scenario() -> bool:
        clock = Clock("virtual", now=T0)
        task = asyncio.create_task(clock.sleep(100))
        await asyncio.sleep(0)
        await clock.advance(99.999)
        return task.done()

    assert asyncio.run(scenario()) is False


def test_scaled_time_runs_faster_and_pacing_follows_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """Wall time is faked, so the rate is checked exactly and without waiting."""
    wall = [100.0]
    monkeypatch.setattr("mock_pokee.clock.time.monotonic", lambda: wall[0])
    clock = Clock("scaled", scale=1000, now=T0)
    wall[0] += 0.25
    assert clock.now() == pytest.approx(T0 + 250)
    clock.set(scale=10)  # re-anchors: time already passed stays passed
    wall[0] += 1
    assert clock.now() == pytest.approx(T0 + 260)
    assert clock.real_seconds(60) == pytest.approx(6.0)
    assert Clock("virtual").real_seconds(60) == 0
    assert Clock("real").real_seconds(60) == 60


def test_the_driver_fires_timers_as_scaled_time_reaches_them() -> None:
    """Real/scaled modes need no advance: 10 clock minutes at 10^6× is under a millisecond."""

    async def scenario() -> float:
        clock = Clock("scaled", scale=1_000_000)
        fired = asyncio.Event()
        due = clock.now() + 600
        clock.call_at(due, fired.set)
        await asyncio.wait_for(fired.wait(), timeout=2)
        return clock.now() - due

    assert asyncio.run(scenario()) >= 0


def test_switching_to_virtual_freezes_now_where_it_was() -> None:
    clock = Clock("real")
    before = clock.now()
    clock.set(mode="virtual")
    assert clock.now() >= before
    assert clock.now() == clock.now()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"mode": "fast"}, "mode"), ({"scale": 0}, "scale"), ({"scale": -2.0}, "scale")],
)
def test_bad_settings_are_refused_naming_the_field(kwargs: dict[str, object], field: str) -> None:
    clock = Clock("virtual", now=T0)
    with pytest.raises(ClockError, match=field):
        clock.set(**kwargs)  # type: ignore[arg-type]
    assert clock.describe() == {"mode": "virtual", "scale": 1.0, "now": T0}


def test_a_clock_cannot_be_made_with_a_bad_scale() -> None:
    with pytest.raises(ClockError, match="scale"):
        Clock("scaled", scale=0)


def test_the_clock_may_be_set_to_the_epoch_itself() -> None:
    clock = Clock("virtual", now=T0)
    clock.set(now=0)
    assert clock.now() == 0


def test_a_refused_number_is_shown_in_the_message() -> None:
    clock = Clock("virtual", now=T0)
    with pytest.raises(ClockError, match=r"scale: .* not -2\.5$"):
        clock.set(mode="scaled", scale=-2.5)
    with pytest.raises(ClockError, match=r"seconds: .* not -7$"):
        clock.check_advance(-7)
    with pytest.raises(ClockError, match=r"not -99999999999… \(401 characters\)$"):
        clock.check_advance(-int("9" * 400))


def test_time_runs_back_only_when_nothing_is_scheduled() -> None:
    clock = Clock("virtual", now=T0)
    clock.set(now=T0 - 50)
    assert clock.now() == T0 - 50
    clock.call_at(T0, lambda: None)
    with pytest.raises(ClockError, match="now"):
        clock.set(now=T0 - 100)
    with pytest.raises(ClockError, match="seconds"):
        asyncio.run(clock.advance(-1))
    clock.close()
    clock.set(now=T0 - 100)
    assert clock.now() == T0 - 100


def test_cancelled_timers_do_not_pile_up() -> None:
    """Every stream's ping timer is cancelled when an event comes first; the heap stays
    small however many there were."""
    clock = Clock("virtual", now=T0)
    keep = clock.call_at(T0 + 10, lambda: None)
    for n in range(20_000):
        clock.call_at(T0 + 15 + n, lambda: None).cancel()
    assert clock.pending == 1
    assert len(clock._timers) <= 2048
    assert not keep.cancelled


def test_a_timer_that_raises_is_reported_and_the_others_still_fire() -> None:
    bugs: list[BaseException] = []
    clock = Clock("virtual", now=T0, report=bugs.append)
    fired: list[str] = []

    def broken() -> None:
        raise RuntimeError("a bug in a callback")

    clock.call_at(T0 + 1, broken)
    clock.call_at(T0 + 2, lambda: fired.append("after"))
    asyncio.run(clock.advance(5))
    assert fired == ["after"]
    assert [str(bug) for bug in bugs] == ["a bug in a callback"]


def test_a_crashed_driver_is_reported_and_restarted(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real-time driver must not die silently: its crash is reported and the timers
    that remain still fire."""
    bugs: list[BaseException] = []

    async def scenario() -> bool:
        clock = Clock("scaled", scale=1_000_000, report=bugs.append)
        original = clock._fire_due
        calls = 0

        async def crash_once(until: float) -> None:
            nonlocal calls
            calls += 1
            if calls == 1:
                raise RuntimeError("the driver broke")
            await original(until)

        monkeypatch.setattr(clock, "_fire_due", crash_once)
        monkeypatch.setattr("mock_pokee.clock.DRIVER_RESTART", 0.001)
        fired = asyncio.Event()
        clock.call_at(clock.now() + 60, fired.set)
        await asyncio.wait_for(fired.wait(), timeout=2)
        return fired.is_set()

    assert asyncio.run(scenario())
    assert [str(bug) for bug in bugs] == ["the driver broke"]


def test_the_servers_clocks_report_into_the_errors_the_harness_reads() -> None:
    """create_app wires every tenant's clock to ``errors`` (what ThreadedServer.errors and
    the pytest plugin read)."""
    from mock_pokee.app import create_app
    from mock_pokee.settings import Settings

    ctx = create_app(Settings(clock_mode="virtual")).state.mock
    clock = ctx.tenants.get("acme").clock

    def broken() -> None:
        raise LookupError("lost")

    def also_broken() -> None:
        raise KeyError("gone")

    clock.call_at(clock.now() + 1, broken)
    asyncio.run(clock.advance(2))
    server_clock = ctx.tenants.clock  # the keyless one, template of new tenants' clocks
    server_clock.call_at(server_clock.now() + 1, also_broken)
    asyncio.run(server_clock.advance(2))
    ctx.tenants.close()
    assert [type(error) for error in ctx.errors] == [LookupError, KeyError]


def test_the_real_clock_runs_at_real_speed(monkeypatch: pytest.MonkeyPatch) -> None:
    wall = [50.0]
    monkeypatch.setattr("mock_pokee.clock.time.monotonic", lambda: wall[0])
    clock = Clock("real", now=T0)
    wall[0] += 2.5
    assert clock.now() == pytest.approx(T0 + 2.5)


@pytest.mark.parametrize(("mode", "scale"), [("real", 1.0), ("scaled", 10.0)])
def test_an_advance_in_real_time_does_not_delay_the_next_timer(
    monkeypatch: pytest.MonkeyPatch, mode: str, scale: float
) -> None:
    """After advancing 5 of a timer's 10 clock seconds, the driver waits for the other 5
    (divided by the scale), not for all 10 again."""
    wall = [50.0]
    monkeypatch.setattr("mock_pokee.clock.time.monotonic", lambda: wall[0])
    clock = Clock(mode, scale=scale, now=T0)  # type: ignore[arg-type]
    clock.call_at(T0 + 10, lambda: None)

    async def go() -> float:
        await clock.advance(5)
        clock.close()  # stop the driver the advance started
        return clock.now()

    assert asyncio.run(go()) == pytest.approx(T0 + 5)
    assert clock.real_seconds(T0 + 10 - clock.now()) == pytest.approx(5 / scale)


def test_one_driver_task_serves_every_real_clock_and_holds_none() -> None:
    """A thousand tenants' clocks with timers pending (idle sessions, idempotency keys
    kept a day) cost one task, not one each; a clock nobody else holds is let go."""
    import gc
    import weakref

    from mock_pokee.clock import Driver

    async def scenario() -> tuple[int, int, bool]:
        before = len(asyncio.all_tasks())
        clocks = [Clock("real") for _ in range(1000)]
        fired: list[int] = []
        for n, clock in enumerate(clocks):
            clock.call_at(clock.now() + 86_400 + n, lambda: None)
        clocks[0].call_at(clocks[0].now() + 0.01, lambda: fired.append(1))
        during = len(asyncio.all_tasks()) - before
        await asyncio.sleep(0.05)
        gone = weakref.ref(clocks[500])
        del clocks[500]
        gc.collect()
        driver = Driver.of(asyncio.get_running_loop())
        assert fired == [1]
        assert driver.task is not None
        return during, len(asyncio.all_tasks()) - before, gone() is None

    during, after, released = asyncio.run(scenario())
    assert (during, after) == (1, 1)
    assert released
