"""The autojump clock (C1) on its own and inside a tenant: time jumps only while a client
waits on a turn that is only sleeping on the clock, and nothing else is awake."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from mock_pokee.clock import Clock
from mock_pokee.domain.events import Event, Ping
from mock_pokee.domain.journal import JournalQuery
from mock_pokee.domain.sessions import SessionSpec
from mock_pokee.domain.tenants import Tenant, TenantRules
from mock_pokee.domain.turns import Turn
from mock_pokee.domain.workspace import Workspace

T0 = 1_000_000.0
CLOCK = frozenset({"clock"})


async def _settle(rounds: int = 20) -> None:
    for _ in range(rounds):
        await asyncio.sleep(0)


def test_without_a_waiting_client_the_autojump_clock_stands_still() -> None:
    async def scenario() -> float:
        clock = Clock("autojump", now=T0)
        sleeper = asyncio.create_task(clock.sleep(60))
        with clock.watching(None):  # a reader of a turn not started: nothing to wait on
            await _settle()
        now = clock.now()
        sleeper.cancel()
        return now

    assert asyncio.run(scenario()) == T0


def test_a_client_waiting_on_a_sleeping_task_jumps_to_its_wake_up_firing_in_order() -> None:
    async def scenario() -> tuple[list[tuple[str, float]], float]:
        clock = Clock("autojump", now=T0)
        seen: list[tuple[str, float]] = []
        clock.call_at(T0 + 10, lambda: seen.append(("timer", clock.now())))
        clock.call_at(T0 + 500, lambda: seen.append(("later", clock.now())))

        async def turn() -> None:
            await clock.sleep(60)
            seen.append(("woke", clock.now()))

        task = asyncio.create_task(turn())
        with clock.watching(task):
            await asyncio.wait_for(task, 5)
        return seen, clock.now()

    seen, now = asyncio.run(scenario())
    assert seen == [("timer", T0 + 10), ("woke", T0 + 60)]
    assert now == T0 + 60


def test_the_virtual_clock_never_jumps() -> None:
    async def scenario() -> float:
        clock = Clock("virtual", now=T0)
        task = asyncio.create_task(clock.sleep(60))
        with clock.watching(task):
            await _settle()
        task.cancel()
        return clock.now()

    assert asyncio.run(scenario()) == T0


def test_a_task_waiting_for_something_else_than_time_is_not_jumped_past() -> None:
    """A client tool call (M12) waits for the client's answer with a timeout on the
    clock: jumping to the timeout would end the turn before the client could answer."""

    async def scenario() -> tuple[float, bool]:
        clock = Clock("autojump", now=T0)
        answered = asyncio.Event()
        task = asyncio.create_task(clock.wait_until(answered, T0 + 600))
        with clock.watching(task):
            await _settle()
            answered.set()
            came = await asyncio.wait_for(task, 5)
        return clock.now(), came

    assert asyncio.run(scenario()) == (T0, True)


def test_no_jump_while_another_task_is_awake() -> None:
    async def scenario() -> tuple[float, float]:
        clock = Clock("autojump", now=T0)
        busy = asyncio.Event()

        async def working() -> None:
            await busy.wait()

        worker = asyncio.create_task(working())
        clock.track(worker)  # started and awake until it waits on the clock or ends
        task = asyncio.create_task(clock.sleep(30))
        with clock.watching(task):
            await _settle()
            held = clock.now()
            busy.set()
            await asyncio.wait_for(task, 5)
        return held, clock.now()

    assert asyncio.run(scenario()) == (T0, T0 + 30)


def test_a_jump_is_reported_from_where_to_where() -> None:
    async def scenario() -> list[tuple[float, float]]:
        clock = Clock("autojump", now=T0)
        jumps: list[tuple[float, float]] = []
        clock.on_jump = lambda before, after: jumps.append((before, after))
        task = asyncio.create_task(clock.sleep(45))
        with clock.watching(task):
            await asyncio.wait_for(task, 5)
        return jumps

    assert asyncio.run(scenario()) == [(T0, T0 + 45)]


def test_switching_to_virtual_stops_the_jumps() -> None:
    async def scenario() -> float:
        clock = Clock("autojump", now=T0)
        clock.set(mode="virtual")
        task = asyncio.create_task(clock.sleep(45))
        with clock.watching(task):
            await _settle()
        task.cancel()
        return clock.now()

    assert asyncio.run(scenario()) == T0


# -- inside a tenant: streams and polls ---------------------------------------------------


def _tenant(tmp_path: Any, mode: str = "autojump") -> Tenant:
    clock = Clock(mode, now=T0)  # type: ignore[arg-type]
    return Tenant("acme", clock, TenantRules(), Workspace(tmp_path / "acme"))


def _pauses(*seconds: float) -> Callable[[Any], Callable[[Turn], Awaitable[None]]]:
    async def run(turn: Turn) -> None:
        for pause in seconds:
            turn.emit("text.delta", content=f"before {pause}")
            await turn.clock.sleep(pause)

    return lambda _effects: run


def _start(tenant: Tenant, *pauses: float) -> tuple[str, Turn]:
    session = tenant.create_session(SessionSpec(persistent=True))
    start = tenant.start_turn(session.id, "hi", "test", _pauses(*pauses))
    assert start.run is not None
    return session.id, start.run


def test_a_reader_of_the_stream_sees_the_turn_to_its_end(tmp_path: Any) -> None:
    async def scenario() -> tuple[list[str], float]:
        tenant = _tenant(tmp_path)
        _, turn = _start(tenant, 60, 120)
        items = [item async for item in turn.log.read(-1, live=True)]
        types = [item.type for item in items if isinstance(item, Event)]
        assert any(isinstance(item, Ping) for item in items)  # 15 s pings on the way (M3)
        return types, tenant.clock.now()

    types, now = asyncio.run(asyncio.wait_for(scenario(), 10))
    assert types[-1] == "message.completed"
    assert now == T0 + 180


def test_without_a_reader_the_turn_waits_and_lifetimes_stay_exact(tmp_path: Any) -> None:
    async def scenario() -> tuple[float, bool, str]:
        tenant = _tenant(tmp_path)
        sid, turn = _start(tenant, 60)
        await _settle()
        return tenant.clock.now(), tenant.get_session(sid).busy, turn.status

    assert asyncio.run(scenario()) == (T0, True, "in_progress")


def test_a_second_poll_that_finds_the_turn_unchanged_jumps_it_along(tmp_path: Any) -> None:
    """M5's recovery: poll until busy is false. The first poll only looks; each poll that
    finds the turn where the last one left it moves the clock to the turn's next wake."""

    async def scenario() -> list[tuple[float, bool]]:
        tenant = _tenant(tmp_path)
        sid, _ = _start(tenant, 60, 30)
        await _settle()
        seen = []
        for _ in range(4):
            session = await tenant.poll_session(sid)
            seen.append((tenant.clock.now() - T0, session.busy))
        return seen

    assert asyncio.run(scenario()) == [(0, True), (60, True), (90, False), (90, False)]


def test_a_poll_after_the_clock_was_moved_by_hand_only_looks(tmp_path: Any) -> None:
    async def scenario() -> list[float]:
        tenant = _tenant(tmp_path)
        sid, _ = _start(tenant, 60, 30, 30)
        await _settle()
        await tenant.poll_session(sid)
        await tenant.advance_clock(10)
        await tenant.poll_session(sid)  # the clock moved since the last poll: no jump
        after_look = tenant.clock.now() - T0
        await tenant.poll_session(sid)  # unchanged since: jump to the wake at 60
        return [after_look, tenant.clock.now() - T0]

    assert asyncio.run(scenario()) == [10, 60]


@pytest.mark.parametrize("mode", ["virtual", "real"])
def test_polls_never_move_other_clocks(tmp_path: Any, mode: str) -> None:
    async def scenario() -> bool:
        tenant = _tenant(tmp_path, mode)
        sid, _ = _start(tenant, 3600)
        await _settle()
        before = tenant.clock.now()
        for _ in range(3):
            await tenant.poll_session(sid)
        return tenant.clock.now() - before < 1

    assert asyncio.run(scenario())


def test_jumps_are_journaled_as_clock_moves(tmp_path: Any) -> None:
    async def scenario() -> list[dict[str, Any]]:
        tenant = _tenant(tmp_path)
        _, turn = _start(tenant, 60)
        async for _ in turn.log.read(-1, live=False):
            pass
        entries: list[dict[str, Any]] = tenant.journal.read(JournalQuery(kinds=CLOCK))["entries"]
        return entries

    (entry,) = asyncio.run(asyncio.wait_for(scenario(), 10))
    assert (entry["action"], entry["from"], entry["to"]) == ("jump", T0, T0 + 60)
