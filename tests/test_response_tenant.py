"""A tenant's responses without HTTP (contract R6, R7, U1, U2, C3, C4): the ``response``
bucket, credits, idempotency keys, retention, and what the state and journal show."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any

import pytest

from mock_pokee.clock import Clock
from mock_pokee.domain.credits import CreditTerms
from mock_pokee.domain.errors import IdempotencyMismatch, NotFound, PaymentRequired, RateLimited
from mock_pokee.domain.journal import JournalQuery
from mock_pokee.domain.models import DOCUMENTED, ModelCatalog
from mock_pokee.domain.response_input import ResponseRequest, parse_request
from mock_pokee.domain.responses import ResponseRun
from mock_pokee.domain.runbook import RETENTION, RUN_TIMEOUT
from mock_pokee.domain.sessions import SessionSpec
from mock_pokee.domain.tenants import Tenant, TenantRules
from mock_pokee.domain.turns import Turn
from mock_pokee.domain.usage import Limits
from mock_pokee.domain.workspace import Workspace
from mock_pokee.limits import MAX_FINISHED_TURNS
from mock_pokee.scenarios.responder import ResponseScript
from mock_pokee.scenarios.schema import PauseStep, Streamed, TextStep

T0 = 1_800_000_000.0
TEXT = [TextStep(text=Streamed(content="x" * 40, chunk=40))]  # 10 output tokens


def tenant(limits: Limits | None = None, credits: CreditTerms | None = None) -> Tenant:
    rules = TenantRules(
        limits=limits or Limits(), credits=credits or CreditTerms(), models=ModelCatalog()
    )
    unused = Workspace(Path(tempfile.gettempdir()) / "mock-pokee-unit-never-written")
    return Tenant("t", Clock("virtual", now=T0), rules, unused, report=lambda exc: None)


def request(**fields: Any) -> ResponseRequest:
    return parse_request({"input": "y" * 39, **fields}, ModelCatalog())  # 10 input tokens


def windows(t: Tenant, bucket: str) -> list[tuple[int, int]]:
    report = t.usage_report()["rate_limit"]["buckets"][bucket]["windows"]
    return [(window["turns"], window["tokens"]) for window in report]


async def finished(t: Tenant, **fields: Any) -> ResponseRun:
    start = t.start_response(request(**fields), "s", ResponseScript(TEXT))
    assert start.run is not None
    assert start.started
    await asyncio.wait_for(start.run.log.until_closed(), 5)
    return start.run


def test_r7_u1_a_response_counts_in_its_bucket_only() -> None:
    async def go() -> Tenant:
        t = tenant()
        run = await finished(t)
        assert run.usage()["total_tokens"] == 20
        return t

    t = asyncio.run(go())
    assert windows(t, "response") == [(1, 20), (1, 20)]
    assert windows(t, "session_turn") == [(0, 0), (0, 0)]


def test_r7_a_full_response_window_refuses_with_retry_after_and_turns_still_start() -> None:
    async def go() -> None:
        t = tenant(Limits(turns_per_hour=2))
        await finished(t)
        await t.clock.advance(600)
        await finished(t)
        with pytest.raises(RateLimited) as limited:
            t.start_response(request(), "s", ResponseScript(TEXT))
        assert limited.value.retry_after == pytest.approx(3600 - 600)
        assert "response bucket" in limited.value.message
        session = t.create_session(SessionSpec(persistent=True))

        async def quick(turn: Turn) -> None:
            return None

        t.start_turn(session.id, "x", "s", lambda effects: quick)
        assert windows(t, "response") == [(2, 40), (2, 40)]  # the refusal counted nowhere
        await t.clock.advance(3000)
        await finished(t)

    asyncio.run(go())


def test_r7_the_token_window_is_the_buckets_own() -> None:
    async def go() -> None:
        t = tenant(Limits(tokens_per_hour=20))
        await finished(t)
        with pytest.raises(RateLimited, match=r"^tokens: 20 tokens used this hour"):
            t.start_response(request(), "s", ResponseScript(TEXT))

    asyncio.run(go())


def test_r7_u2_a_response_is_billed_at_its_models_rates() -> None:
    async def go() -> tuple[float, float]:
        t = tenant()
        await finished(t, model="pokee-isaac")
        after_cheap = t.credits.terms.balance
        await finished(t)
        return after_cheap, t.credits.terms.balance

    cheap, dear = asyncio.run(go())
    cheap_cost = DOCUMENTED["pokee-isaac"].cost({"input_tokens": 10, "output_tokens": 10})
    dear_cost = DOCUMENTED["pokee-isaac-high-reasoning"].cost(
        {"input_tokens": 10, "output_tokens": 10}
    )
    assert cheap == pytest.approx(100_000 - cheap_cost, abs=1e-12)
    assert dear == pytest.approx(100_000 - cheap_cost - dear_cost, abs=1e-12)


def test_r6_u2_a_cancelled_response_is_not_billed_but_counted() -> None:
    async def go() -> Tenant:
        t = tenant()
        start = t.start_response(request(), "s", ResponseScript([PauseStep(pause=60), *TEXT]))
        assert start.run is not None
        await asyncio.sleep(0)
        start.run.end("cancelled")
        return t

    t = asyncio.run(go())
    assert t.credits.debits == 0
    assert t.credits.terms.balance == 100_000
    assert windows(t, "response")[0][0] == 1


def test_u2_r7_hard_credits_below_the_minimum_refuse_and_count_nothing() -> None:
    t = tenant(credits=CreditTerms(mode="hard", balance=0.99))
    with pytest.raises(PaymentRequired):
        t.start_response(request(), "s", ResponseScript(TEXT))
    assert windows(t, "response") == [(0, 0), (0, 0)]
    assert t.responses.empty


def test_r6_an_idempotency_key_recalls_its_response_for_the_same_body_only() -> None:
    async def go() -> None:
        t = tenant()
        first = t.start_response(request(), "s", ResponseScript(TEXT), "key-1", "hash-a")
        again = t.start_response(request(), "s", ResponseScript(TEXT), "key-1", "hash-a")
        assert again.run is first.run
        assert (again.response_id, again.started) == (first.response_id, False)
        with pytest.raises(IdempotencyMismatch, match="with a different body here"):
            t.start_response(request(), "s", ResponseScript(TEXT), "key-1", "hash-b")
        assert windows(t, "response")[0][0] == 1
        assert first.run is not None
        await asyncio.wait_for(first.run.log.until_closed(), 5)
        await t.clock.advance(RETENTION)
        evicted = t.start_response(request(), "s", ResponseScript(TEXT), "key-1", "hash-a")
        assert (evicted.run, evicted.response_id, evicted.started) == (
            None,
            first.response_id,
            False,
        )
        other = t.start_response(request(), "s", ResponseScript(TEXT), "key-2", "hash-a")
        assert other.started
        assert other.response_id != first.response_id

    asyncio.run(go())


def test_r6_a_response_is_found_by_id_until_120_seconds_after_its_end() -> None:
    async def go() -> None:
        t = tenant()
        run = await finished(t)
        await t.clock.advance(RETENTION - 1)
        assert t.responses.find(run.id) is run
        await t.clock.advance(1)
        with pytest.raises(NotFound) as gone:
            t.responses.find(run.id)
        assert gone.value.message == (
            f"response {run.id}: not found (unknown, or no longer kept: a finished response "
            f"is kept 120 s, and a tenant's last {MAX_FINISHED_TURNS} at most)"
        )

    asyncio.run(go())


def test_r6_turns_and_responses_are_kept_apart() -> None:
    async def go() -> None:
        t = tenant()
        run = await finished(t)
        session = t.create_session(SessionSpec(persistent=True))
        with pytest.raises(NotFound):
            t.turns.get(session.id, run.id)

        async def quick(turn: Turn) -> None:
            return None

        started = t.start_turn(session.id, "x", "s", lambda effects: quick, "key", "h")
        assert started.run is not None
        with pytest.raises(NotFound):
            t.responses.find(started.run.id)
        response = t.start_response(request(), "s", ResponseScript(TEXT), "key", "h")
        assert response.started  # a key names an attempt on one surface only

    asyncio.run(go())


def test_m10_a_response_still_running_after_90_minutes_fails_with_response_timeout() -> None:
    async def go() -> ResponseRun:
        t = tenant()
        start = t.start_response(request(), "s", ResponseScript([PauseStep(pause=10 * 3600)]))
        assert start.run is not None
        await t.clock.advance(RUN_TIMEOUT)
        return start.run

    run = asyncio.run(go())
    assert (run.status, run.error) == ("error", "response_timeout")
    assert run.log.events[-1].type == "response.failed"


def test_c3_c4_the_state_lists_responses_and_the_journal_their_start_and_end() -> None:
    async def go() -> tuple[Tenant, ResponseRun]:
        t = tenant()
        return t, await finished(t, stream=True)

    t, run = asyncio.run(go())
    (described,) = t.state()["responses"]
    assert (described["id"], described["status"], described["stream"]) == (
        run.id,
        "completed",
        True,
    )
    (started,) = t.journal.read(JournalQuery.parse({"kind": "response.start"}))["entries"]
    assert (started["response_id"], started["scenario"]) == (run.id, "s")
    assert "session" not in started
    (ended,) = t.journal.read(JournalQuery.parse({"kind": "response.end"}))["entries"]
    assert (ended["response_id"], ended["status"]) == (run.id, "completed")
    events = t.journal.read(JournalQuery.parse({"kind": "event"}))["entries"]
    assert [(e["event_seq"], e["type"]) for e in events] == [
        (e.seq, e.type) for e in run.log.events
    ]
    assert {e["response_id"] for e in events} == {run.id}
    assert not t.holds_nothing(t.clock)


def test_c4_a_failed_response_journals_its_error() -> None:
    async def go() -> Tenant:
        t = tenant()
        start = t.start_response(request(), "s", ResponseScript([PauseStep(pause=5)]))
        assert start.run is not None
        t.end_turns("server_shutdown")
        return t

    t = asyncio.run(go())
    (ended,) = t.journal.read(JournalQuery.parse({"kind": "response.end"}))["entries"]
    assert (ended["status"], ended["error"]) == ("error", "server_shutdown")


def test_c3_close_cancels_running_responses_and_forgets_them() -> None:
    async def go() -> tuple[Tenant, ResponseRun]:
        t = tenant()
        start = t.start_response(request(), "s", ResponseScript([PauseStep(pause=5)]))
        assert start.run is not None
        t.close()
        return t, start.run

    t, run = asyncio.run(go())
    assert run.status == "cancelled"
    assert t.responses.empty


def test_r6_finished_responses_are_kept_up_to_exactly_the_byte_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def go() -> tuple[list[str], list[str]]:
        t = tenant()
        first = await finished(t)
        size = first.log.size
        monkeypatch.setattr("mock_pokee.domain.runbook.MAX_FINISHED_BYTES", 2 * size)
        second = await finished(t)
        assert second.log.size == size
        both = [described["id"] for described in t.responses.describe()]
        third = await finished(t)
        last_two = [described["id"] for described in t.responses.describe()]
        assert last_two == [second.id, third.id]
        return both, [first.id, second.id, third.id]

    both, ids = asyncio.run(go())
    assert both == ids[:2]


def test_r6_a_logs_size_counts_the_characters_of_its_events() -> None:
    async def go() -> ResponseRun:
        return await finished(tenant())

    run = asyncio.run(go())
    assert run.log.size == sum(len(event.data) for event in run.log.events)


def test_r6_two_finished_responses_over_the_byte_bound_keep_the_newer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def go() -> tuple[list[str], str]:
        t = tenant()
        first = await finished(t)
        monkeypatch.setattr("mock_pokee.domain.runbook.MAX_FINISHED_BYTES", first.log.size + 1)
        second = await finished(t)
        return [described["id"] for described in t.responses.describe()], second.id

    kept, second = asyncio.run(go())
    assert kept == [second]
