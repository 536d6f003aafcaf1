"""Turns without HTTP: the time limit (M10), the rate limit (M11), a broken step, and
readers that come and go without touching the turn (M5)."""

from __future__ import annotations

import asyncio
import json
import logging
import tempfile
from pathlib import Path

import pytest

from mock_pokee.clock import Clock
from mock_pokee.domain.errors import RateLimited
from mock_pokee.domain.events import Event
from mock_pokee.domain.journal import JournalQuery
from mock_pokee.domain.sessions import SessionSpec
from mock_pokee.domain.tenants import (
    RunnerFactory,
    SessionEffects,
    Tenant,
    TenantRegistry,
    TenantRules,
)
from mock_pokee.domain.turns import StepRunner, Turn
from mock_pokee.domain.usage import Limits
from mock_pokee.domain.workspace import Workspace

T0 = 1_800_000_000.0


def tenant(turns_per_hour: int = 300, bugs: list[BaseException] | None = None) -> Tenant:
    rules = TenantRules(max_sessions=100, limits=Limits(turns_per_hour=turns_per_hour))
    unused = Workspace(Path(tempfile.gettempdir()) / "mock-pokee-unit-never-written")
    report = bugs.append if bugs is not None else lambda exc: None
    return Tenant("t", Clock("virtual", now=T0), rules, unused, report=report)


def runner(body: StepRunner) -> RunnerFactory:
    """A runner factory that ignores the session effects."""
    return lambda effects: body


def test_m10_a_turn_ends_with_turn_timeout_after_90_minutes() -> None:
    async def go() -> list[str]:
        t = tenant()
        session = t.create_session(SessionSpec(persistent=True))

        async def forever(turn: Turn) -> None:
            await turn.clock.sleep(10 * 3600)

        start = t.start_turn(session.id, "x", "test", runner(forever))
        assert start.run is not None
        await t.clock.advance(5399.999)
        assert start.run.running
        await t.clock.advance(0.001)
        assert t.get_session(session.id).busy is False
        return [json.loads(e.data).get("error", e.type) for e in start.run.log.events]

    assert asyncio.run(go())[-1] == "turn_timeout"


def test_m11_turns_per_hour_are_limited_with_retry_after() -> None:
    async def go() -> None:
        t = tenant(turns_per_hour=3)
        session = t.create_session(SessionSpec(persistent=True))

        async def quick(turn: Turn) -> None:
            return None

        for _ in range(3):
            t.start_turn(session.id, "x", "test", runner(quick))
            await asyncio.sleep(0)
            await t.clock.advance(100)
        with pytest.raises(RateLimited) as limited:
            t.start_turn(session.id, "x", "test", runner(quick))
        assert limited.value.retry_after == pytest.approx(3600 - 300)
        await t.clock.advance(3600 - 300)
        t.start_turn(session.id, "x", "test", runner(quick))

    asyncio.run(go())


def test_a_step_that_raises_is_a_reported_bug_the_turn_ends_and_the_session_lives() -> None:
    """A mock bug is never hidden in a message.error alone: it reaches the report that
    the test harness reads."""
    bugs: list[BaseException] = []

    async def go() -> tuple[str, bool]:
        t = tenant(bugs=bugs)
        session = t.create_session(SessionSpec(persistent=True))

        async def broken(turn: Turn) -> None:
            raise KeyError("oops")

        start = t.start_turn(session.id, "x", "test", runner(broken))
        assert start.run is not None
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        last = start.run.log.events[-1]
        return json.loads(last.data)["error"], t.get_session(session.id).busy

    error, busy = asyncio.run(go())
    assert error.startswith("internal_error: KeyError")
    assert busy is False
    assert [type(bug) for bug in bugs] == [KeyError]


def test_readers_come_and_go_and_no_task_is_left_behind() -> None:
    """M5: a storm of readers that stop early never touches the turn; afterwards the number
    of running tasks is back to its baseline."""

    async def go() -> tuple[int, int, list[int]]:
        t = tenant()
        baseline = len(asyncio.all_tasks())
        session = t.create_session(SessionSpec(persistent=True))

        async def paced(turn: Turn) -> None:
            for n in range(20):
                turn.emit("text.delta", content=str(n))
                await turn.clock.sleep(1)

        start = t.start_turn(session.id, "x", "test", runner(paced))
        turn = start.run
        assert turn is not None

        async def read_some(k: int) -> None:
            seen = 0
            async for item in turn.log.read(-1, live=True):
                if isinstance(item, Event):
                    seen += 1
                    if seen >= k:
                        return

        readers = [asyncio.create_task(read_some(k % 5 + 1)) for k in range(200)]
        for _ in range(25):
            await t.clock.advance(1)
        await asyncio.gather(*readers)
        seqs = [e.seq for e in turn.log.events]
        return baseline, len(asyncio.all_tasks()), seqs

    baseline, after, seqs = asyncio.run(go())
    assert after == baseline
    assert seqs == list(range(len(seqs)))
    assert len(seqs) == 22  # message.created, 20 deltas, message.completed


def test_session_effects_merge_metadata() -> None:
    t = tenant()
    session = t.create_session(SessionSpec(metadata={"keep": 1}))
    SessionEffects(t, session).merge_metadata({"stage": "two"})
    assert t.get_session(session.id).metadata == {"keep": 1, "stage": "two"}


def test_s5_deleting_a_busy_session_cancels_its_turn_free_of_charge_and_says_so() -> None:
    """S5 and U2: the turn ends cancelled (so it is not billed), the state shows when, and
    the journal's deletion says the session was busy."""

    async def go() -> None:
        t = tenant()
        session = t.create_session(SessionSpec(persistent=True))

        async def spends_then_waits(turn: Turn) -> None:
            turn.usage = {"input_tokens": 5_000, "output_tokens": 50_000}
            await turn.clock.sleep(60)

        start = t.start_turn(session.id, "x", "test", runner(spends_then_waits))
        assert start.run is not None
        await asyncio.sleep(0)
        await t.clock.advance(10)
        t.delete_session(session.id)
        assert start.run.status == "cancelled"
        assert start.run.log.events[-1].type == "message.cancelled"
        assert json.loads(start.run.log.events[-1].data)["id"] == start.run.id
        (ended,) = t.state()["turns"]
        assert (ended["status"], ended["ended_at"]) == ("cancelled", T0 + 10)
        assert t.state()["usage"]["credits"]["spent"] == 0
        deletion = t.journal.read(JournalQuery.parse({"kind": "deletion"}))["entries"]
        assert [(d["session"], d["by"], d["busy"]) for d in deletion] == [
            (session.id, "delete", True)
        ]

    asyncio.run(go())


def test_c3_the_state_names_each_pending_tool_call() -> None:
    async def go() -> None:
        t = tenant()
        session = t.create_session(SessionSpec(persistent=True))

        async def asks(turn: Turn) -> None:
            turn.tool_calls.request([("lookup", "{}"), ("fetch", "{}")])
            await turn.tool_calls.wait(turn.clock)

        start = t.start_turn(session.id, "x", "test", runner(asks))
        await asyncio.sleep(0)
        (running,) = t.state()["turns"]
        assert [call["name"] for call in running["pending"]] == ["lookup", "fetch"]
        assert all(call["call_id"].startswith("call_") for call in running["pending"])
        assert start.run is not None
        start.run.end("cancelled")

    asyncio.run(go())


def test_a_turn_that_reports_no_usage_completes_with_zero_counts_journaled_in_clock_time() -> None:
    """M4: ``message.completed`` always carries both token counts; C4: each event is
    journaled at the clock time it was sent."""

    async def go() -> None:
        t = tenant()
        session = t.create_session(SessionSpec(persistent=True))

        async def says_nothing(turn: Turn) -> None:
            await turn.clock.sleep(30)

        start = t.start_turn(session.id, "x", "test", runner(says_nothing))
        await asyncio.sleep(0)
        await t.clock.advance(30)
        assert start.run is not None
        last = start.run.log.events[-1]
        assert last.type == "message.completed"
        assert json.loads(last.data)["usage"] == {"input_tokens": 0, "output_tokens": 0}
        events = t.journal.read(JournalQuery.parse({"kind": "event"}))["entries"]
        assert events[-1]["at"] == T0 + 30
        (started,) = t.journal.read(JournalQuery.parse({"kind": "turn.start"}))["entries"]
        assert started["at"] == T0

    asyncio.run(go())


async def run_a_turn_that_raises(t: Tenant) -> None:
    """Start a turn whose step raises ``KeyError('oops')``, and let it end."""
    session = t.create_session(SessionSpec(persistent=True))

    async def broken(turn: Turn) -> None:
        raise KeyError("oops")

    t.start_turn(session.id, "x", "test", runner(broken))
    await asyncio.sleep(0)
    await asyncio.sleep(0)


def test_a_bug_in_a_turn_of_a_registry_tenant_reaches_the_servers_report(tmp_path: Path) -> None:
    """The registry hands its report (what ThreadedServer.errors reads) to every tenant."""
    bugs: list[BaseException] = []
    registry = TenantRegistry(
        TenantRules(), clock_mode="virtual", workspace_root=tmp_path, report=bugs.append
    )

    try:
        asyncio.run(run_a_turn_that_raises(registry.get("acme")))
    finally:
        registry.close()
    assert [type(bug) for bug in bugs] == [KeyError]


def test_without_a_report_a_bug_is_logged_naming_it(caplog: pytest.LogCaptureFixture) -> None:
    t = Tenant("t", Clock("virtual", now=T0), TenantRules(), Workspace(Path("/nonexistent")))
    with caplog.at_level(logging.ERROR, logger="mock_pokee"):
        asyncio.run(run_a_turn_that_raises(t))
    assert [r.getMessage() for r in caplog.records] == ["mock-pokee bug: KeyError: 'oops'"]


def test_an_ended_turns_log_takes_no_more_events() -> None:
    """A mock bug (a step writing after the end) is loud, not a corrupt log."""

    async def go() -> Turn:
        t = tenant()
        session = t.create_session(SessionSpec(persistent=True))

        async def quick(turn: Turn) -> None:
            return None

        start = t.start_turn(session.id, "x", "test", runner(quick))
        await asyncio.sleep(0)
        assert start.run is not None
        return start.run

    turn = asyncio.run(go())
    with pytest.raises(RuntimeError, match=r"^this run has already ended$"):
        turn.log.append("text.delta", {"delta": "late"}, last=False)
