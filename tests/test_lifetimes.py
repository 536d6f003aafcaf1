"""Session lifetimes (S7, S9) driven directly on the domain with a virtual clock.

The model is the contract's sentence: a session is visible while now < deadline, where the
deadline is created_at + ttl, or for a non-persistent session also last_activity + 300.
"""

from __future__ import annotations

import asyncio
import random
import tempfile
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from pydantic import ValidationError

from mock_pokee.clock import Clock
from mock_pokee.domain.errors import NotFound, RateLimited
from mock_pokee.domain.journal import JournalQuery
from mock_pokee.domain.sessions import IDLE_TIMEOUT, SessionSpec
from mock_pokee.domain.tenants import Tenant, TenantRules
from mock_pokee.domain.workspace import Workspace

T0 = 1_700_000_000.0


def new_tenant(max_sessions: int = 10) -> Tenant:
    unused = Workspace(Path(tempfile.gettempdir()) / "mock-pokee-unit-never-written")
    rules = TenantRules(max_sessions=max_sessions)
    return Tenant("acme", Clock("virtual", now=T0), rules, unused)


def expected_deadline(created_at: float, persistent: bool, ttl: int) -> float:
    return created_at + ttl if persistent else min(created_at + ttl, created_at + IDLE_TIMEOUT)


def test_ten_thousand_sessions_over_ten_hours_expire_exactly() -> None:
    """S7: one 10-hour advance over 10,000 sessions leaves exactly the ones whose deadline
    is still ahead, and the sweep has freed the rest (not only hidden them)."""
    rng = random.Random(7)
    tenant = new_tenant(max_sessions=20_000)
    deadlines: dict[str, float] = {}

    async def run() -> None:
        for _ in range(10_000):
            persistent = rng.random() < 0.5
            ttl = rng.choice(
                [60, 299, 300, 301, 3600, 36_000, 36_001, 604_800, rng.randint(1, 40_000)]
            )
            session = tenant.create_session(SessionSpec(persistent=persistent, ttl=ttl))
            deadlines[session.id] = expected_deadline(session.created_at, persistent, ttl)
            await tenant.clock.advance(rng.choice([0, 0, 0.5, 1]))
        await tenant.clock.advance(10 * 3600)

    asyncio.run(run())
    now = tenant.clock.now()
    alive = {sid for sid, deadline in deadlines.items() if now < deadline}
    assert 0 < len(alive) < 10_000
    assert {s["id"] for s in tenant.state()["sessions"]} == alive
    assert {s.id for s in tenant.list_sessions()} == alive


def test_visible_just_before_the_deadline_and_gone_at_it() -> None:
    tenant = new_tenant()
    session = tenant.create_session(SessionSpec(persistent=True, ttl=100))
    tenant.clock.set(now=T0 + 100 - 1e-6)
    assert tenant.get_session(session.id) is session
    (shown,) = tenant.state()["sessions"]
    assert (shown["expired"], shown["expires_by"], shown["deadline"]) == (False, "ttl", T0 + 100)
    tenant.clock.set(now=T0 + 100)  # no timer has run: the check alone decides
    with pytest.raises(NotFound, match=session.id):
        tenant.get_session(session.id)


def test_a_full_tenant_gets_rate_limited_until_a_session_expires() -> None:
    """S9: the limit counts live sessions only; an expired one frees its slot at once."""
    tenant = new_tenant(max_sessions=2)
    tenant.create_session(SessionSpec(ttl=50))
    tenant.create_session(SessionSpec(persistent=True))
    with pytest.raises(RateLimited) as refused:
        tenant.create_session(SessionSpec())
    assert refused.value.retry_after == 50
    tenant.clock.set(now=T0 + 49.5)
    with pytest.raises(RateLimited) as refused:
        tenant.create_session(SessionSpec())
    assert refused.value.retry_after == 1  # A7: never less than a second
    tenant.clock.set(now=T0 + 50)
    tenant.create_session(SessionSpec())


class LifetimeModel(RuleBasedStateMachine):
    """Random creates, clock moves and reads; visibility always matches the contract."""

    @initialize()
    def start(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.tenant = new_tenant(max_sessions=1_000)
        self.deadlines: dict[str, float] = {}

    def teardown(self) -> None:
        self.loop.close()

    @rule(persistent=st.booleans(), ttl=st.integers(1, 2_000))
    def create(self, persistent: bool, ttl: int) -> None:
        session = self.tenant.create_session(SessionSpec(persistent=persistent, ttl=ttl))
        self.deadlines[session.id] = expected_deadline(session.created_at, persistent, ttl)

    @rule(seconds=st.sampled_from([0.001, 1, 59, 60, 299, 300, 301, 1000]))
    def advance(self, seconds: float) -> None:
        self.loop.run_until_complete(self.tenant.clock.advance(seconds))

    @rule(seconds=st.integers(0, 500))
    def jump_without_firing_timers(self, seconds: int) -> None:
        self.tenant.clock.set(now=self.tenant.clock.now() + seconds)

    @invariant()
    def visible_exactly_while_before_deadline(self) -> None:
        if not hasattr(self, "tenant"):
            return
        now = self.tenant.clock.now()
        for sid, deadline in self.deadlines.items():
            try:
                self.tenant.get_session(sid)
                visible = True
            except NotFound:
                visible = False
            assert visible == (now < deadline), (sid, now, deadline)


TestLifetimeModel = LifetimeModel.TestCase
TestLifetimeModel.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)


@pytest.mark.parametrize("ttl", [True, "60", 60.5, [60]])
def test_s1_a_ttl_is_an_integer_as_json_schema_means_it(ttl: object) -> None:
    """``60`` and ``60.0`` are the same JSON number; a bool, a string or a fraction is not
    an integer, and the message says so in the mock's words."""
    assert SessionSpec.model_validate({"ttl": 60.0}).ttl == 60
    with pytest.raises(ValidationError, match="must be an integer"):
        SessionSpec.model_validate({"ttl": ttl})


def test_c4_a_tenant_journals_its_clock_moves_within_its_journal_size() -> None:
    unused = Workspace(Path(tempfile.gettempdir()) / "mock-pokee-unit-never-written")
    tenant = Tenant("acme", Clock("virtual", now=T0), TenantRules(journal_size=2), unused)
    tenant.set_clock(now=T0 + 10)
    tenant.set_clock(mode="scaled", scale=4.0)
    asyncio.run(tenant.advance_clock(5))
    answer = tenant.journal.read(JournalQuery())
    assert answer["dropped"] == 1
    moves = [(e["action"], e["mode"], e["scale"], e["from"], e["to"]) for e in answer["entries"]]
    assert moves[0][:4] == ("set", "scaled", 4.0, T0 + 10)
    assert moves[1][:3] == ("advance", "scaled", 4.0)
    assert moves[1][4] - moves[1][3] == pytest.approx(5, abs=0.5)


def test_c4_an_expiry_is_journaled_with_its_reason_deadline_and_busy() -> None:
    tenant = new_tenant()
    session = tenant.create_session(SessionSpec(persistent=True, ttl=100))
    asyncio.run(tenant.advance_clock(100))
    (expiry,) = tenant.journal.read(JournalQuery.parse({"kind": "expiry"}))["entries"]
    assert (expiry["session"], expiry["reason"], expiry["deadline"], expiry["busy"]) == (
        session.id,
        "ttl",
        T0 + 100,
        False,
    )
