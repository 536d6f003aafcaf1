"""Tenants: everything one key can see or touch (contract A4, C2).

Isolation follows from the structure: a request resolves its key to one `Tenant`, and every
lookup after that goes through that tenant's own dictionaries and its own clock. There is
no global session table to filter, so there is nothing to forget to filter.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any

from mock_pokee.clock import Clock, ClockMode
from mock_pokee.domain.credits import CreditLedger, CreditMode, CreditTerms
from mock_pokee.domain.deadlines import DeadlineQueue
from mock_pokee.domain.errors import (
    BugReport,
    NoPendingToolCall,
    NotFound,
    RateLimited,
    SessionBusy,
    log_bug,
)
from mock_pokee.domain.events import Event, EventRecord
from mock_pokee.domain.faults import FaultBook
from mock_pokee.domain.filters import SessionFilter
from mock_pokee.domain.journal import Feed, Journal, new_numbering
from mock_pokee.domain.models import ModelCatalog, Rates
from mock_pokee.domain.paths import check_relative_path
from mock_pokee.domain.response_input import ResponseRequest
from mock_pokee.domain.responses import ResponseRun
from mock_pokee.domain.runbook import RunBook, Started
from mock_pokee.domain.runs import Run
from mock_pokee.domain.scopes import Grant, Need, authorize
from mock_pokee.domain.sessions import Session, SessionSpec
from mock_pokee.domain.skills import SkillAction, Skills, SkillVersion
from mock_pokee.domain.toolcalls import TOOL_RESULT_TIMEOUT, ToolResult
from mock_pokee.domain.tools import ClientTool, parse_tools
from mock_pokee.domain.turnbook import TurnBook
from mock_pokee.domain.turns import StepRunner, Turn
from mock_pokee.domain.usage import Limits, TurnEntry, UsageLedger
from mock_pokee.domain.workspace import Workspace
from mock_pokee.limits import FORGET_FROM, JOURNAL_SIZE, WORKSPACE_LIMIT


@dataclass(frozen=True)
class TenantRules:
    """What every tenant of one server shares: its limits, its model catalog, and the
    credits a tenant starts with."""

    max_sessions: int = 10
    workspace_limit: int = WORKSPACE_LIMIT  # F9
    limits: Limits = field(default_factory=Limits)
    journal_size: int = JOURNAL_SIZE
    models: ModelCatalog = field(default_factory=ModelCatalog)
    credits: CreditTerms = field(default_factory=CreditTerms)


class SessionEffects:
    """What a turn may change: its session's metadata (M6) and the workspace files its
    ``file_access`` allows it to write (S1, F7, F8)."""

    def __init__(self, tenant: Tenant, session: Session):
        self._tenant = tenant
        self._session = session

    @property
    def tools(self) -> tuple[ClientTool, ...]:
        """The session's client tools (M12), which a scenario may call."""
        return self._session.tools

    @property
    def skills(self) -> Mapping[str, SkillVersion]:
        """The skills the session saw when it was created (K4), which a scenario may run."""
        return self._session.skills

    def merge_metadata(self, keys: dict[str, Any]) -> None:
        self._session.metadata.update(keys)

    def write_file(self, path: str, data: bytes) -> None:
        """The same rules as an upload (F2, F8): one path check, one `Tenant.authorize`."""
        relative = check_relative_path(path)
        self._tenant.authorize(self._session, relative, "write")
        self._tenant.workspace.write(relative, data, self._tenant.clock.now())


# Makes the step runner of a turn, given what that turn may change.
RunnerFactory = Callable[[SessionEffects], StepRunner]
# Runs the steps of a response (it may change nothing but its own output).
ResponseSteps = Callable[[ResponseRun], Awaitable[None]]


def workspace_folder(tenant_id: str) -> str:
    """The folder of a tenant's files under the workspace root (F1).

    A lower-case name is its own folder, so ``DIR/acme/`` reads as expected. Any other
    name gets its lower-case form and a hash of the name: tenants whose names differ only
    in case never share a folder on a case-insensitive disk (macOS, Windows). Names are
    short (`keys.MAX_TENANT`), and a hashed folder's ``_`` and 16 hex digits can match no
    other tenant's folder, ``key_`` names (12 digits) included.
    """
    if tenant_id == tenant_id.lower():
        return tenant_id
    digest = hashlib.sha256(tenant_id.encode()).hexdigest()[:16]
    return f"{tenant_id.lower()}_{digest}"


def _journal_clock(
    journal: Journal, clock: Clock, action: str, before: float, after: float | None = None
) -> None:
    """C4: a clock move, from where to where; journaled where it ended unless ``after``
    is given (an autojump is journaled as it starts, before what it sets off)."""
    fields = {"action": action, "mode": clock.mode, "scale": clock.scale}
    at = clock.now() if after is None else before
    to = clock.now() if after is None else after
    journal.record(at, "clock", None, **fields, **{"from": before, "to": to})


def _running_note(turn: Turn) -> str:
    """Why a running turn takes no results: its wait timed out a moment ago (M12; it is
    ending with ``tool_result_timeout``), or it is not waiting on a tool."""
    if turn.tool_calls.timed_out:
        return (
            f" (turn {turn.id} stopped waiting: no result came within "
            f"{TOOL_RESULT_TIMEOUT:.0f} s of clock time; it ends with tool_result_timeout)"
        )
    return f" (turn {turn.id} is running)"


class Tenant:
    """One tenant's sessions, turns, workspace, clock and usage."""

    def __init__(
        self,
        tenant_id: str,
        clock: Clock,
        rules: TenantRules,
        workspace: Workspace,
        journal: Journal | None = None,
        report: BugReport = log_bug,
        skills: Skills | None = None,
    ):
        self.id = tenant_id
        self._report = report
        self.clock = clock
        self.rules = rules
        self.workspace = workspace
        self.skills = skills or Skills.beside(workspace.root)  # K: beside the files, not in
        self.skills.on_change = self._journal_skill
        self.journal = journal or Journal(new_numbering(), rules.journal_size)
        self.faults = FaultBook()
        self.usage = UsageLedger(rules.limits)
        self.credits = CreditLedger(rules.credits)
        self.turns = TurnBook(clock)
        self.responses: RunBook[ResponseRun] = RunBook(clock, "response", "response_timeout")
        self._sessions: dict[str, Session] = {}
        self._expiries = DeadlineQueue(clock, self._expire_if_due)
        clock.on_jump = self._journal_jump
        self.generation = 0  # the registry's forgetting rounds before this tenant was made

    # -- files (F8) ------------------------------------------------------------------

    def authorize(self, session: Session, path: PurePosixPath, need: Need) -> Grant:
        """F8 for a path of this tenant's workspace: the scope must cover the path as
        named and, when symbolic links are on the way (a workspace shared with other
        tools), where it leads too, or a link inside the scope would reach outside it.
        What a listing shows is then what the scope grants where it leads."""
        grant = authorize(session, path, need)
        real = self.workspace.real_path(path)
        return grant if real == path else authorize(session, real, need)

    # -- sessions (S1–S9) -------------------------------------------------------------

    def create_session(self, spec: SessionSpec) -> Session:
        """S1/S2, with the model (S1a) and tools (S1b) checked, and the S9 limit."""
        self.rules.models.check(spec.model)
        tools = parse_tools(spec.tools) if spec.tools is not None else ()
        if len(self._sessions) >= self.rules.max_sessions:
            self._drop_expired()
        if len(self._sessions) >= self.rules.max_sessions:
            raise RateLimited(
                f"sessions: this tenant already has {len(self._sessions)} sessions, the "
                f"limit is {self.rules.max_sessions}; delete one or wait for one to expire",
                retry_after=self._seconds_until_a_slot_frees(),
            )
        session = Session.create(
            spec, now=self.clock.now(), tools=tools, skills=self.skills.installed
        )
        self._sessions[session.id] = session
        self._schedule_expiry(session)
        return session

    def get_session(self, session_id: str) -> Session:
        """S4: the live session, or `NotFound` — also from the instant it expires (S7)."""
        session = self._sessions.get(session_id)
        if session is not None and session.is_expired(self.clock.now()):
            self._expire(session)
            session = None
        if session is None:
            raise NotFound(f"session {session_id}: not found (never created, deleted or expired)")
        return session

    def _journal_jump(self, before: float, after: float) -> None:
        _journal_clock(self.journal, self.clock, "jump", before, after)

    async def poll_session(self, session_id: str) -> Session:
        """S4 as a client waiting for a turn asks it (M5's recovery: poll until ``busy``
        is false). Under the autojump clock (C1), a poll that finds the running turn where
        the previous poll left it (same clock time, same events) is a client waiting on
        it: the clock jumps to the turn's next wake-up before the answer."""
        session = self.get_session(session_id)
        turn = self.turns.running(session_id)
        if turn is None or self.clock.mode != "autojump":
            return session
        if turn.polled == (self.clock.now(), len(turn.log.events)):
            await self.clock.jump_for(turn.task)
            session = self.get_session(session_id)  # its ttl may have passed on the way
        turn.polled = (self.clock.now(), len(turn.log.events))
        return session

    def list_sessions(self) -> list[Session]:
        """S3: live sessions, oldest first (insertion order is creation order)."""
        self._drop_expired()
        return list(self._sessions.values())

    def delete_session(self, session_id: str) -> None:
        """S5: a busy session's turn is cancelled first."""
        session = self.get_session(session_id)
        self._journal_deletion(session, "delete")
        self._remove(session)

    def delete_sessions(self, selection: SessionFilter) -> int:
        """S6: delete every live session the filter selects; returns how many."""
        self._drop_expired()
        now = self.clock.now()
        doomed = [s for s in self._sessions.values() if selection.matches(s, now)]
        given = selection.describe()
        fields = {busy: {"by": "bulk", "busy": busy, "filter": given} for busy in (False, True)}
        for session in doomed:  # one entry each, so ?session= finds it; the fields shared
            self.journal.record_fields(now, "deletion", session.id, fields[session.busy])
            self._remove(session)
        return len(doomed)

    def _journal_deletion(self, session: Session, by: str) -> None:
        fields = {"by": by, "busy": session.busy}
        self.journal.record_fields(self.clock.now(), "deletion", session.id, fields)

    # -- turns (M1, M2, M5, M9, M11) ---------------------------------------------------

    def start_turn(
        self,
        session_id: str,
        message: str,
        scenario: str,
        runner: RunnerFactory,
        idempotency_key: str | None = None,
        body_hash: str = "",
    ) -> Started[Turn]:
        """Start a turn, or find the one an idempotency key started before (M9).

        Nothing awaits in here, so two concurrent retries with one key are serialised by
        the event loop: exactly one of them starts a turn.
        """
        session = self.get_session(session_id)
        if idempotency_key is not None:
            record = self.turns.recall(idempotency_key, session_id, body_hash)
            if record is not None:
                retained = self.turns.retained(record.response_id)
                return Started(retained, record.response_id, started=False)
        if session.busy:
            running = self.turns.running(session_id)
            raise SessionBusy(
                f"session {session_id}: a turn is running ({running.id if running else '?'}); "
                "wait for it to end (poll busy) or cancel it"
            )
        now = self.clock.now()
        self.usage.check(now)  # U1, M11: every window has room
        self.credits.check_turn()  # U2: hard mode needs the per-turn minimum
        entry = self.usage.start_turn(now)
        rates = self.rules.models.rates(session.model)
        turn = Turn(
            session_id=session_id,
            message=message,
            scenario=scenario,
            clock=self.clock,
            on_end=lambda turn: self._turn_ended(turn, entry, rates),
            on_event=self._journal_event,
            report=self._report,
        )
        session.busy = True
        session.last_activity = now
        self._schedule_expiry(session)
        self.turns.add(turn, idempotency_key, body_hash)
        turn.start(runner(SessionEffects(self, session)))
        return Started(turn, turn.id, started=True)

    # -- responses (R) -----------------------------------------------------------------

    def start_response(
        self,
        request: ResponseRequest,
        scenario: str,
        steps: ResponseSteps,
        idempotency_key: str | None = None,
        body_hash: str = "",
    ) -> Started[ResponseRun]:
        """R1, R5–R7: start a response, or find the one an idempotency key started.

        As for turns, nothing awaits in here: concurrent retries with one key start one
        response. A call counts in the ``response`` bucket only (R7)."""
        if idempotency_key is not None:
            record = self.responses.recall(idempotency_key, None, body_hash)
            if record is not None:
                retained = self.responses.retained(record.response_id)
                return Started(retained, record.response_id, started=False)
        now = self.clock.now()
        self.usage.check(now, "response")
        self.credits.check_turn()
        entry = self.usage.start_turn(now, "response")
        rates = self.rules.models.rates(request.model)
        run = ResponseRun(
            request=request,
            scenario=scenario,
            clock=self.clock,
            on_end=lambda run: self._response_ended(run, entry, rates),
            on_event=self._journal_event,
            report=self._report,
        )
        self.responses.add(run, idempotency_key, body_hash)
        run.start(steps)
        return Started(run, run.id, started=True)

    def _response_ended(self, run: ResponseRun, usage: TurnEntry, rates: Rates) -> None:
        """R6, R7: its tokens count in the ``response`` windows; it is billed unless
        cancelled; then its terminal event is appended."""
        self._journal_end(run)
        self.responses.finished(run)
        self.usage.end_turn(usage, run.usage()["total_tokens"], self.clock.now())
        if run.status != "cancelled":
            self.credits.debit(run.billed(), rates)

    def answer_tool_calls(self, session_id: str, results: list[ToolResult]) -> int:
        """M12: results for the running turn's pending client tool calls."""
        self.get_session(session_id)
        turn = self.turns.running(session_id)
        if turn is None or not turn.tool_calls.pending:
            raise NoPendingToolCall(
                f"session {session_id}: no tool call is waiting for a result"
                + ("" if turn is None else _running_note(turn))
            )
        return turn.tool_calls.answer(results)

    def _journal_event(self, run: Run, event: Event) -> None:
        """C4: a run's start, then each of its events (whether heard is decided later)."""
        now = self.clock.now()
        if event.seq == 0:
            self.journal.record(
                now, f"{run.kind}.start", run.session_id, response_id=run.id, scenario=run.scenario
            )
        record = EventRecord.of(run.id, event, run.log.deliveries)
        self.journal.record_lazy(now, "event", run.session_id, record)

    def _journal_end(self, run: Run) -> None:
        fields: dict[str, Any] = {"response_id": run.id, "status": run.status}
        if run.error is not None:
            fields["error"] = run.error
        self.journal.record(self.clock.now(), f"{run.kind}.end", run.session_id, **fields)

    def _turn_ended(self, turn: Turn, usage: TurnEntry, rates: Rates) -> None:
        """M5: the session is idle with its final state before the terminal event.
        U1: the turn's tokens count in the windows; U2: it is billed unless cancelled."""
        self._journal_end(turn)
        self.turns.finished(turn)
        self.usage.end_turn(usage, sum(turn.usage.values()), self.clock.now())
        if turn.status != "cancelled":
            self.credits.debit(turn.usage, rates)
        session = self._sessions.get(turn.session_id)
        if session is not None:
            session.busy = False
            session.last_activity = self.clock.now()
            self._schedule_expiry(session)

    # -- skills (K1–K4) -------------------------------------------------------------------

    async def install_skill(self, name: str, chunks: AsyncIterator[bytes]) -> SkillVersion:
        """K1, K2: sessions created from now on see it (K4); journaled as it lands."""
        return await self.skills.install(name, chunks, self.clock.now)

    async def delete_skill(self, name: str) -> None:
        """K3; sessions that saw the skill keep it (K4)."""
        await self.skills.delete(name)

    def _journal_skill(self, action: SkillAction, record: SkillVersion) -> None:
        """C4: an install, a replace or a delete, with what it holds."""
        bundle = record.bundle
        self.journal.record(
            self.clock.now(),
            "skill",
            None,
            action=action,
            name=record.name,
            version=record.version,
            files=len(bundle.files),
            total_bytes=bundle.total_bytes,
        )

    # -- usage and credits (U1, U2) ----------------------------------------------------

    def usage_report(self) -> dict[str, Any]:
        """U1, as ``GET /v1/usage`` answers it (and the state, C3, shows it)."""
        return {
            "rate_limit": self.usage.report(self.id, self.clock.now()),
            "credits": self.credits.report(),
        }

    # -- control plane (C3) -----------------------------------------------------------

    def reset(self) -> None:
        """Empty the tenant: sessions, turns, files, skills, usage, credits (back to the
        start terms), fault rules and journal. Its clock keeps its mode and time."""
        self.close()
        self.workspace.clear()
        self.skills.clear()
        self.usage = UsageLedger(self.rules.limits)
        self.credits = CreditLedger(self.rules.credits)
        self.faults.clear()
        self.journal.clear()

    # -- clock (C1), journaled (C4) ----------------------------------------------------

    def set_clock(
        self, mode: ClockMode | None = None, scale: float | None = None, now: float | None = None
    ) -> None:
        before = self.clock.now()
        self.clock.set(mode, scale, now)
        _journal_clock(self.journal, self.clock, "set", before)

    async def advance_clock(self, seconds: float) -> float:
        before = self.clock.now()
        now = await self.clock.advance(seconds)
        _journal_clock(self.journal, self.clock, "advance", before)
        return now

    def holds_nothing(self, template: Clock) -> bool:
        """True if forgetting this tenant loses nothing but its journal of requests and
        where its clock stands: no sessions, turns, usage, credits of its own, fault rules,
        files or skills, nothing else journaled since its last reset (a clock moved since then
        is journaled), and a clock of the mode and scale a new tenant would get
        (``template``'s). Its time is let go: a test's tenant, reset at its end, has had
        its clock jumped along (the autojump clock) and must still be forgotten."""
        clock = self.clock
        return (
            not self._sessions
            and self.turns.empty
            and self.responses.empty
            and self.usage.empty
            and self.credits.terms == self.rules.credits  # never debited, never set
            and self.faults.empty
            and self.journal.noted == 0
            and not clock.pending
            and clock.mode == template.mode
            and clock.scale == template.scale
            and not self.workspace.root.exists()
            and self.skills.empty
        )

    def end_turns(self, error: str) -> None:
        """End every running turn and response with an error (a server shutting down), so
        each open stream ends with its terminal event."""
        self.turns.end_running(error)
        self.responses.end_running(error)

    def close(self) -> None:
        """End running turns and responses, drop sessions and timers; files stay (server
        shutdown)."""
        self.turns.clear()
        self.responses.clear()
        self._sessions.clear()
        self._expiries.clear()
        self.clock.close()

    def state(self) -> dict[str, Any]:
        """C3: what the tenant holds, with the internals a test author wants to see."""
        now = self.clock.now()
        return {
            "tenant": self.id,
            "clock": self.clock.describe(),
            "sessions": [
                {
                    **session.record(),
                    "deadline": session.deadline,
                    "expires_by": session.expiry_reason(),
                    "expired": session.is_expired(now),
                    "tools": [tool.name for tool in session.tools],
                    # K4: the skills it saw at its creation, name → version
                    "skills": {
                        name: session.skills[name].version for name in sorted(session.skills)
                    },
                    # Both S7 bounds, whichever applies now: a busy session's idle
                    # deadline starts again when its turn ends.
                    "idle_deadline": session.idle_deadline,
                    "ttl_deadline": session.hard_deadline,
                }
                for session in self._sessions.values()
            ],
            "turns": self.turns.describe(),
            "responses": self.responses.describe(),
            "files": self.workspace.files(),
            "skills": self.skills.describe(),
            # U1 and U2, with what the credits have been debited (spent, debits).
            "usage": {**self.usage_report(), "credits": self.credits.describe()},
        }

    # -- expiry (S7) ------------------------------------------------------------------

    def _schedule_expiry(self, session: Session) -> None:
        """Free the session's memory at its deadline. Correctness never waits for this."""
        self._expiries.schedule(session.id, session.deadline)

    def _expire_if_due(self, session_id: str) -> None:
        session = self._sessions[session_id]
        if session.is_expired(self.clock.now()):
            self._expire(session)
        else:  # its deadline moved later since it was scheduled
            self._schedule_expiry(session)

    def _drop_expired(self) -> None:
        now = self.clock.now()
        for session in [s for s in self._sessions.values() if s.is_expired(now)]:
            self._expire(session)

    def _expire(self, session: Session) -> None:
        self.journal.record(
            self.clock.now(),
            "expiry",
            session.id,
            reason=session.expiry_reason(),
            deadline=session.deadline,
            busy=session.busy,
        )
        self._remove(session)

    def _remove(self, session: Session) -> None:
        """Destroy a session; a running turn ends first (S5: cancelled; S7: expired)."""
        turn = self.turns.running(session.id)
        if turn is not None:
            if session.is_expired(self.clock.now()):
                turn.end("error", "session_expired")
            else:
                turn.end("cancelled")
        del self._sessions[session.id]
        self._expiries.discard(session.id)

    def _seconds_until_a_slot_frees(self) -> float:
        """A7 ``Retry-After`` for S9: when the first session is due to expire."""
        soonest = min(s.deadline for s in self._sessions.values())
        return max(1.0, soonest - self.clock.now())


class TenantRegistry:
    """Every tenant of one server, made on first use, plus the server's own clock.

    The server clock is the template for new tenants' clocks, and what control requests
    without a key read and set (C2): setting it sets every tenant's clock too.
    """

    def __init__(
        self,
        rules: TenantRules,
        clock_mode: ClockMode = "real",
        scale: float = 1.0,
        workspace_root: Path | None = None,
        report: BugReport = log_bug,
        forget_from: int = FORGET_FROM,
    ):
        self.rules = rules
        self._start_rules = rules  # what a reset of everything returns to
        self._report = report
        self._forget_from = forget_from
        self.clock = Clock(mode=clock_mode, scale=scale, report=report)
        self.numbering = new_numbering()
        self.feed = Feed()  # every journal's entries, while the whole server is followed
        # requests without a key
        self.journal = Journal(self.numbering, rules.journal_size, feed=self.feed)
        self.faults = FaultBook()  # rules added without a key: for every request
        self._tenants: dict[str, Tenant] = {}
        self._forget_at = forget_from
        self._rounds = 0  # forgetting rounds done
        self._quiet_since = 0  # the journal's seq at the last round
        self._own_root = workspace_root is None
        self._root = workspace_root
        if workspace_root is not None:
            workspace_root.mkdir(parents=True, exist_ok=True)

    @property
    def workspace_root(self) -> Path:
        """The folder of the tenants' workspaces: the one the user named, or a temporary
        one made with the first tenant (so a server that never served leaves nothing)."""
        if self._root is None:
            self._root = Path(tempfile.mkdtemp(prefix="mock-pokee-"))
        return self._root

    def get(self, tenant_id: str) -> Tenant:
        tenant = self._tenants.get(tenant_id)
        if tenant is None:
            if len(self._tenants) >= self._forget_at:
                self._forget_idle()
            clock = self.clock
            clock = Clock(clock.mode, clock.scale, clock.now(), report=self._report)
            folder = self.workspace_root / workspace_folder(tenant_id)
            workspace = Workspace(folder, self.rules.workspace_limit)
            journal = Journal(
                self.numbering, self.rules.journal_size, feed=self.feed, owner=tenant_id
            )
            tenant = Tenant(tenant_id, clock, self.rules, workspace, journal, self._report)
            tenant.generation = self._rounds
            self._tenants[tenant_id] = tenant
        return tenant

    def _forget_idle(self) -> None:
        """Forget the tenants that hold nothing (`Tenant.holds_nothing`) and have been
        quiet since the last round, made before it; their keys start afresh if they come
        back. The next round runs after half as many new tenants as were kept (at least
        `FORGET_FROM`), so each new tenant pays O(1) for the rounds, and tenants that
        hold nothing never number more than about twice those that hold something.

        "Quiet" is judged by the journal's seq, which every answered request takes; a
        tenant must live through a whole round before it can be forgotten, so one whose
        first request is still running is not.
        """
        for tenant_id, tenant in list(self._tenants.items()):
            if (
                tenant.generation < self._rounds
                and tenant.journal.last_seq <= self._quiet_since
                and tenant.holds_nothing(self.clock)
            ):
                del self._tenants[tenant_id]
        self._rounds += 1
        self._quiet_since = next(self.numbering)
        kept = len(self._tenants)
        self._forget_at = kept + max(self._forget_from, kept // 2)

    def find(self, tenant_id: str) -> Tenant | None:
        """The tenant if it exists; never makes one (the keyless views)."""
        return self._tenants.get(tenant_id)

    def __iter__(self) -> Iterator[Tenant]:
        return iter(list(self._tenants.values()))

    def set_clocks(
        self, mode: ClockMode | None = None, scale: float | None = None, now: float | None = None
    ) -> None:
        """C2 without a key: the server clock and every tenant's clock alike."""
        tenants = list(self)
        for clock in [self.clock, *(t.clock for t in tenants)]:  # all or nothing: check
            clock.validate(mode, scale, now)  # every clock before changing one
        before = self.clock.now()
        self.clock.set(mode=mode, scale=scale, now=now)
        _journal_clock(self.journal, self.clock, "set", before)
        for tenant in tenants:
            tenant.set_clock(mode=mode, scale=scale, now=now)

    async def advance_clocks(self, seconds: float) -> float:
        """C2 without a key: every tenant's clock and the server clock, each in turn."""
        tenants = list(self)
        for clock in [self.clock, *(t.clock for t in tenants)]:  # all or nothing: check
            clock.check_advance(seconds)  # every clock before moving one
        for tenant in tenants:
            await tenant.advance_clock(seconds)
        before = self.clock.now()
        now = await self.clock.advance(seconds)
        _journal_clock(self.journal, self.clock, "advance", before)
        return now

    def set_credits(
        self,
        enabled: bool | None = None,
        mode: CreditMode | None = None,
        balance: float | None = None,
    ) -> CreditTerms:
        """U2 without a key: every tenant's credits, and the terms new tenants start with
        (also what a reset restores)."""
        self.rules = replace(self.rules, credits=self.rules.credits.updated(enabled, mode, balance))
        for tenant in self:
            tenant.rules = self.rules
            tenant.credits.set(enabled, mode, balance)
        return self.rules.credits

    def reset(self) -> None:
        """Everything: every tenant, and the server's own fault rules and journal. Each
        tenant's live readers are woken to find the tenant their key makes next."""
        for tenant in self:
            tenant.reset()
            tenant.journal.followers.wake()
        self._tenants.clear()
        self.rules = self._start_rules
        self.faults.clear()
        self.journal.clear()

    def journal_entries(self) -> int:
        """Entries held by the server's journal and every tenant's (C3's keyless state)."""
        return len(self.journal.entries) + sum(len(t.journal.entries) for t in self)

    def drop(self, tenant_id: str) -> None:
        """Forget one tenant now, as if it had never been: what a reset with its key
        empties, and its place in the registry too. For a test's tenant once the test is
        over (its key is never used again); its live readers are woken to find it gone."""
        tenant = self._tenants.pop(tenant_id, None)
        if tenant is not None:
            tenant.reset()
            tenant.journal.followers.wake()

    def end_turns(self, error: str) -> None:
        """A server about to stop: every running turn ends with ``message.error``."""
        for tenant in self:
            tenant.end_turns(error)

    def close(self) -> None:
        """At shutdown: end everything. Files stay in a workspace folder the user named;
        the temporary one the mock made is removed."""
        for tenant in self:
            tenant.close()
        self._tenants.clear()
        if self._own_root and self._root is not None:
            shutil.rmtree(self._root, ignore_errors=True)
            self._root = None
