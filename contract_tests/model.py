"""A reference model of one tenant, in plain Python: what the contract says the server's
sessions, turns and files must look like after each operation (S1–S8, M1–M8, F1–F6).

The model-based test (test_model.py) applies every operation to the server and to this
model and compares. The model knows what a turn does from its scenario's ``expect:``
section (its clock time, terminal event, metadata and files); where it cannot know — a
deployment's own agent, what a turn had done by the time it was cancelled — it marks the
value unknown and adopts what the server shows next, checking only what the contract
still promises (metadata given at create is kept, M6).

Time is the tenant's virtual clock when the model is ``exact``; otherwise (a deployment)
the model never predicts a turn's end and compares no timestamps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

IDLE = 300.0  # S7: five minutes
RETAINED = 120.0  # M7: a finished turn's events stay readable this long


@dataclass(frozen=True)
class Plan:
    """What a turn of one scenario does, as far as its ``expect:`` section says."""

    scenario: str | None  # None: the target's own agent, forced nothing
    message: str
    duration: float | None = None  # None: unknown
    terminal: str | None = None
    metadata: dict[str, Any] | None = None
    files: tuple[str, ...] | None = None

    @classmethod
    def from_expect(cls, name: str, expect: dict[str, Any]) -> Plan:
        files = expect["files"]
        return cls(
            name,
            expect["message"],
            expect["duration"],
            expect["terminal"],
            expect["metadata"],
            None if files is None else tuple(files),
        )


@dataclass
class Turn:
    response_id: str
    plan: Plan
    started: float
    metadata_before: dict[str, Any] | None = None  # the session's, when the turn started
    seen: list[dict[str, Any]] = field(default_factory=list)  # event data the client read
    ended_at: float | None = None
    terminal: str | None = None  # known terminal type, once ended (None: unknown)
    confirmed: bool = False  # the terminal was read back, or its retention checked

    @property
    def ends_at(self) -> float | None:
        if self.plan.duration is None:
            return None
        return self.started + self.plan.duration

    def replayable(self, now: float) -> bool:
        return self.ended_at is None or now - self.ended_at < RETAINED


@dataclass
class Session:
    id: str
    persistent: bool
    ttl: int
    created_at: float
    last_activity: float
    metadata: dict[str, Any] | None  # None: unknown until the server shows it
    kept_metadata: dict[str, Any]  # given at create: must survive every turn (M6)
    turns: list[Turn] = field(default_factory=list)
    alive: bool = True

    @property
    def turn(self) -> Turn | None:
        return self.turns[-1] if self.turns else None

    @property
    def busy(self) -> bool:
        return self.turn is not None and self.turn.ended_at is None

    def deadline(self) -> float:
        """S7: the ttl bound, and the idle bound of a non-persistent idle session."""
        bound = self.created_at + self.ttl
        if not self.persistent and not self.busy:
            bound = min(bound, self.last_activity + IDLE)
        return bound


@dataclass
class Tenant:
    """One tenant's sessions and files, as the contract says they must be."""

    exact: bool  # the virtual clock: every deadline and turn end is known
    now: float = 0.0
    sessions: dict[str, Session] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)  # in the test's own folder
    turn_files: set[str] = field(default_factory=set)  # written by finished turns
    maybe_files: set[str] = field(default_factory=set)  # perhaps written (cancelled turns)
    destroyed_since_check: set[str] = field(default_factory=set)

    def live(self) -> list[Session]:
        return [s for s in self.sessions.values() if s.alive]

    # -- sessions (S1–S8) --------------------------------------------------------------

    def created(self, record: dict[str, Any], metadata: dict[str, Any]) -> Session:
        session = Session(
            record["id"],
            record["persistent"],
            record["ttl"],
            self.now if self.exact else record["created_at"],
            self.now if self.exact else record["last_activity"],
            dict(metadata),
            dict(metadata),
        )
        self.sessions[session.id] = session
        return session

    def destroy(self, session: Session) -> None:
        if session.busy and session.turn is not None:
            self._end(session, session.turn, "message.cancelled", self.now, known=True)
        session.alive = False
        self.destroyed_since_check.add(session.id)

    def bulk_selection(self, status: str, older_than: float | None) -> list[Session]:
        """S6: which live sessions a bulk delete picks."""
        chosen = []
        for session in self.live():
            if (status == "idle" and session.busy) or (status == "busy" and not session.busy):
                continue
            if older_than is not None and self.now - session.last_activity < older_than:
                continue
            chosen.append(session)
        return chosen

    # -- turns (M1–M8) -----------------------------------------------------------------

    def started(self, session: Session, plan: Plan, response_id: str) -> Turn:
        turn = Turn(response_id, plan, self.now, session.metadata)
        session.turns.append(turn)
        session.last_activity = self.now  # S8: a message was accepted
        session.metadata = None  # M6: the turn writes progress as it goes
        if self.exact and plan.duration == 0:
            self._end(session, turn, plan.terminal, self.now, known=True)
        return turn

    def cancelled(self, session: Session) -> None:
        """M8 while running: the turn ends now; what it had done so far is not modelled."""
        turn = session.turn
        assert turn is not None
        self._end(session, turn, "message.cancelled", self.now, known=True)

    def ended_unseen(self, session: Session) -> None:
        """A deployment's turn was seen idle by polling: it ended, how is unknown."""
        turn = session.turn
        assert turn is not None
        self._end(session, turn, None, self.now, known=False)

    def _end(
        self, session: Session, turn: Turn, terminal: str | None, at: float, *, known: bool
    ) -> None:
        turn.ended_at = at
        turn.terminal = terminal
        session.last_activity = at  # S8: a turn ended
        plan = turn.plan
        if terminal == plan.terminal and known and terminal != "message.cancelled":
            before, after = turn.metadata_before, plan.metadata
            session.metadata = None if before is None or after is None else {**before, **after}
            self.turn_files.update(plan.files or ())
        else:
            session.metadata = None  # partly run: adopt the server's, check the kept keys
            self.maybe_files.update(plan.files or ())

    # -- the clock (C1, S7) ------------------------------------------------------------

    def advance(self, seconds: float) -> None:
        """Everything that falls due, in time order: turn ends, then expiries."""
        target = self.now + seconds
        while True:
            due = self._next_due()
            if due is None or due[0] > target:
                break
            at, session, what = due
            self.now = at
            if what == "turn" and session.turn is not None:
                plan = session.turn.plan
                self._end(session, session.turn, plan.terminal, at, known=True)
            else:
                if session.busy and session.turn is not None:  # S7 [C]: session_expired
                    self._end(session, session.turn, "message.error", at, known=False)
                session.alive = False
                self.destroyed_since_check.add(session.id)
        self.now = target

    def next_edge(self, session: Session) -> float:
        """The session's next moment where the contract's answer changes: its deadline,
        its turn's end, or the end of its finished turn's retention (M7)."""
        edges = [session.deadline()]
        turn = session.turn
        if turn is not None and turn.ended_at is None and turn.ends_at is not None:
            edges.append(turn.ends_at)
        if turn is not None and turn.ended_at is not None:
            edges.append(turn.ended_at + RETAINED)
        return min(edge for edge in edges if edge > self.now) if max(edges) > self.now else self.now

    def _next_due(self) -> tuple[float, Session, str] | None:
        """The earliest event; at a tie the expiry comes first (the session is gone either
        way, which is all that can be observed)."""
        best: tuple[float, int, Session, str] | None = None
        for session in self.live():
            candidates = [(session.deadline(), 0, "expiry")]
            ends = session.turn.ends_at if session.busy and session.turn else None
            if ends is not None:
                candidates.append((ends, 1, "turn"))
            for at, order, what in candidates:
                if best is None or (at, order) < (best[0], best[1]):
                    best = (at, order, session, what)
        return None if best is None else (best[0], best[2], best[3])

    # -- files (F1–F6) -----------------------------------------------------------------

    def workspace_problems(self, observed: set[str]) -> list[str]:
        """The whole workspace against the model (exact mode): uploads and the files of
        finished turns must be there; a running or stopped turn's files may be. What is
        seen settles a stopped turn's (it writes nothing more)."""
        must = self.turn_files | set(self.files)
        running = {p for s in self.live() if s.busy and s.turn for p in s.turn.plan.files or ()}
        problems = [f"missing {p}" for p in sorted(must - observed)]
        unexpected = observed - must - self.maybe_files - running
        problems += [f"unexpected {p}" for p in sorted(unexpected)]
        self.turn_files |= observed & self.maybe_files
        self.maybe_files.clear()
        return problems
