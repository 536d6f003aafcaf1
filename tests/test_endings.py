"""What ends must stay ended, and what a reset clears, without HTTP.

Each test here pins a behaviour that a mutation run once broke without any test noticing:
a turn that goes on after it was cancelled, deleted or expired; a reset that clears too
little or too much; an idempotency key that is never forgotten; a turn's timeout timer
left behind; a reader that sleeps through a drop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

import pytest

from mock_pokee.clock import Clock
from mock_pokee.domain.events import Drop, Event, Ping
from mock_pokee.domain.runbook import IDEMPOTENCY_TTL
from mock_pokee.domain.sessions import SessionSpec
from mock_pokee.domain.tenants import SessionEffects, Tenant, TenantRegistry, TenantRules
from mock_pokee.domain.turns import Turn
from mock_pokee.domain.workspace import Workspace

T0 = 1_800_000_000.0
PERSISTENT = SessionSpec(persistent=True)


def tenant(root: Path) -> Tenant:
    return Tenant("t", Clock("virtual", now=T0), TenantRules(), Workspace(root / "t"))


def late_effects(effects: SessionEffects) -> Callable[[Turn], Any]:
    """A turn that waits a minute of clock time, then changes metadata and writes a file."""

    async def run(turn: Turn) -> None:
        await turn.clock.sleep(60)
        effects.merge_metadata({"late": True})
        effects.write_file("late.txt", b"too late")

    return run


@pytest.mark.parametrize("ending", ["cancel", "delete", "expire"])
def test_an_ended_turn_has_no_further_effects(tmp_path: Path, ending: str) -> None:
    """M8, S5, S7: once a turn is over, nothing it would still have done happens."""
    t = tenant(tmp_path)

    async def go() -> tuple[str, dict[str, Any]]:
        spec = SessionSpec(persistent=True, ttl=30) if ending == "expire" else PERSISTENT
        session = t.create_session(spec)
        start = t.start_turn(session.id, "x", "test", late_effects)
        assert start.run is not None
        await t.clock.advance(1)
        if ending == "cancel":
            start.run.end("cancelled")
        elif ending == "delete":
            t.delete_session(session.id)
        await t.clock.advance(120)
        return start.run.log.events[-1].type, session.metadata

    terminal, metadata = asyncio.run(go())
    assert terminal in ("message.cancelled", "message.error")
    assert "late" not in metadata
    assert not (tmp_path / "t" / "late.txt").exists()


def hour_turns(t: Tenant) -> int:
    """U1: the turns of the tenant's session_turn hour window."""
    windows = t.usage.report(t.id, t.clock.now())["buckets"]["session_turn"]["windows"]
    count: int = windows[0]["turns"]
    return count


def test_a_keyed_reset_clears_exactly_its_tenant(tmp_path: Path) -> None:
    """C3: sessions, files, usage, idempotency keys, running turns (their streams end with
    a terminal event) and pending timers go; another tenant keeps all of its own; the
    clock still advances afterwards."""
    registry = TenantRegistry(TenantRules(), clock_mode="virtual", workspace_root=tmp_path)

    async def go() -> None:
        reset, kept = registry.get("reset"), registry.get("kept")
        for t in (reset, kept):
            session = t.create_session(PERSISTENT)
            t.workspace.write(PurePosixPath("f.txt"), b"x", t.clock.now())
            t.start_turn(session.id, "x", "test", late_effects, idempotency_key="k")
            await t.clock.advance(1)
        running = reset.turns.running(reset.list_sessions()[0].id)
        assert running is not None
        reset.reset()
        assert running.log.events[-1].type == "message.cancelled"
        assert reset.list_sessions() == []
        assert reset.workspace.files() == []
        assert hour_turns(reset) == 0
        assert reset.turns.recall("k", "any", "") is None
        assert reset.clock.pending == 0
        await reset.clock.advance(3600)  # a reset clock still works
        assert len(kept.list_sessions()) == 1
        assert [f["path"] for f in kept.workspace.files()] == ["f.txt"]
        assert hour_turns(kept) == 1
        assert kept.turns.running(kept.list_sessions()[0].id) is not None
        registry.reset()  # keyless: everything
        assert list(registry) == []
        assert registry.get("kept").list_sessions() == []
        registry.close()

    asyncio.run(go())


def test_m9_an_idempotency_key_is_forgotten_after_24_hours(tmp_path: Path) -> None:
    t = tenant(tmp_path)

    async def go() -> tuple[str, str, str]:
        session = t.create_session(SessionSpec(persistent=True, ttl=604_800))
        first = t.start_turn(session.id, "x", "test", lambda e: _quick, "key", "body-a")
        await t.clock.advance(IDEMPOTENCY_TTL - 1)
        again = t.start_turn(session.id, "x", "test", lambda e: _quick, "key", "body-a")
        await t.clock.advance(1)
        fresh = t.start_turn(session.id, "y", "test", lambda e: _quick, "key", "body-b")
        return first.response_id, again.response_id, fresh.response_id

    first, again, fresh = asyncio.run(go())
    assert again == first  # still remembered a second before 24 h
    assert fresh != first  # forgotten at 24 h: the same key starts a new turn


async def _quick(turn: Turn) -> None:
    return None


def test_m10_a_finished_turns_timeout_timer_is_cancelled(tmp_path: Path) -> None:
    """Nothing of a finished turn stays on the clock: once its log is evicted (M7) and its
    session gone, no timer is pending, so the clock may even be moved back."""
    t = tenant(tmp_path)

    async def go() -> int:
        session = t.create_session(PERSISTENT)
        t.start_turn(session.id, "x", "test", lambda e: _quick)
        await asyncio.sleep(0)
        t.delete_session(session.id)
        await t.clock.advance(121)
        return t.clock.pending

    assert asyncio.run(go()) == 0
    t.clock.set(now=T0)  # refused while a timer is pending
    assert t.clock.now() == T0


def test_a_drop_after_a_pause_wakes_its_reader_at_once() -> None:
    """D: a live reader waiting for events hears the drop as soon as the pause ends, not
    at its next ping."""

    async def go() -> list[str]:
        clock = Clock("virtual", now=T0)
        turn = Turn(session_id="s", message="x", scenario="t", clock=clock, on_end=lambda t: None)
        seen: list[str] = []

        async def listen() -> None:
            async for item in turn.log.read(-1, live=True):
                seen.append(type(item).__name__ if not isinstance(item, Event) else item.type)

        async def pause_then_drop(turn: Turn) -> None:
            await clock.sleep(10)
            turn.log.mark_drop()
            await clock.sleep(3600)

        reader = asyncio.create_task(listen())
        turn.start(pause_then_drop)
        await asyncio.sleep(0)
        await clock.advance(10)
        for _ in range(3):
            await asyncio.sleep(0)
        done = reader.done()
        turn.end("cancelled")
        await reader
        assert done
        return seen

    assert asyncio.run(go()) == ["message.created", Drop.__name__]


def test_ping_is_what_a_reader_yields_when_nothing_comes() -> None:
    """M3: the reader's keep-alive, on the clock: one per 15 s of silence."""

    async def go() -> list[str]:
        clock = Clock("virtual", now=T0)
        turn = Turn(session_id="s", message="x", scenario="t", clock=clock, on_end=lambda t: None)
        seen: list[str] = []

        async def listen() -> None:
            async for item in turn.log.read(0, live=False):
                seen.append("ping" if isinstance(item, Ping) else type(item).__name__)

        reader = asyncio.create_task(listen())
        clock.track(reader)
        await clock.advance(40)
        turn.end("completed")
        await reader
        return seen

    assert asyncio.run(go()) == ["ping", "ping", "Event"]
