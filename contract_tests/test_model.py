"""Model-based: random sequences of what clients do to one tenant, applied to the server
and to a reference model (`contract_tests.model`); after every step the server's session
list, each session and the workspace must equal the model.

Profiles (``--model-profile``): ``fast`` (the default on the in-process mock, a few
seconds in ``make test``; derandomised, so a run is reproducible), ``thorough`` (many
more and longer sequences, for a deliberate search), and ``real`` (the default against
``POKEE_API``: few sequences, no clock moves, no bulk deletes, no forced scenarios).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from .checks import (
    SESSION_LIMIT,
    advance,
    freeze,
    room_for_sessions,
    session_ids,
    workspace_files,
)
from .cleanup import unique_folder
from .model import Plan, Session, Tenant
from .sse import TERMINAL, read, resume, send
from .target import Target, client_for, new_key

START = 1_900_000_000.0  # a whole second: clock sums stay exact
TICK = 1 / 128  # exact in binary: sums of whole seconds and ticks stay exact
# Well under S9's limit, so the model never needs to know the tenant's; on a deployment,
# fewer when the tenant's own sessions leave less room (they count toward the limit).
MAX_SESSIONS = 4
FILE_NAMES = ("a.txt", "d/b.txt", "d/e/c.bin")
ADVANCES = (1, 5, 30, 61, 119, 121, 299, 301, 3600)
TTLS = (60, 200, 301, 3600, 14400)
OLDER_THAN = {None: None, "90s": 90.0, "5m": 300.0, "1h": 3600.0, "0": 0.0, "301": 301.0}
POLL_SECONDS = 30.0  # a deployment's turn must end within this much real time

_COMMON: dict[str, Any] = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.filter_too_much],
    "print_blob": True,
}
# Shrinking replays sequences against the server many times (minutes): the fast and real
# profiles report a failing sequence as found; run `thorough` to get it shrunk.
_FOUND_AS_IS = (Phase.explicit, Phase.generate)
settings.register_profile(
    "contract-fast",
    max_examples=10,
    stateful_step_count=20,
    derandomize=True,
    phases=_FOUND_AS_IS,
    **_COMMON,
)
settings.register_profile("contract-thorough", max_examples=200, stateful_step_count=40, **_COMMON)
settings.register_profile(
    "contract-real",
    max_examples=5,
    stateful_step_count=15,
    derandomize=True,
    phases=_FOUND_AS_IS,
    **_COMMON,
)


@dataclass
class Env:
    """What a machine runs against: the target, and how much it may assume about it."""

    target: Target
    exact: bool  # the in-process mock: virtual clock, scenarios, a tenant per sequence
    plans: tuple[Plan, ...]
    max_sessions: int = MAX_SESSIONS  # live sessions of the sequence's own at once


class TenantMachine(RuleBasedStateMachine):
    """S1–S8, M1–M8, F1 and F3–F6 against the model; every rule cites what it exercises."""

    env: ClassVar[Env]

    def __init__(self) -> None:
        super().__init__()
        self.model = Tenant(exact=self.env.exact)
        self.key = new_key() if self.env.exact else (self.env.target.key or "")
        self.api = client_for(self.env.target, self.key)
        self.folder = unique_folder()

    def teardown(self) -> None:
        """Against a deployment, delete this sequence's sessions now, so that sequences
        never add up to the tenant's limit; the test's ledger removes the files (and
        anything a failure left) at its end."""
        if not self.env.exact:
            for session in self.model.live():
                self.api.delete(f"/v1/sessions/{session.id}")
        self.api.close()

    @initialize(persistent=st.booleans(), ttl=st.sampled_from(TTLS))
    def start(self, persistent: bool, ttl: int) -> None:
        """C1: the tenant's clock is virtual and pinned (exact mode); a first session."""
        if self.env.exact:
            self.model.now = freeze(self.api, START)
        self.create_session(persistent, ttl, tagged=True)

    # -- sessions ------------------------------------------------------------------

    @precondition(lambda self: len(self.model.live()) < self.env.max_sessions)
    @rule(persistent=st.booleans(), ttl=st.sampled_from(TTLS), tagged=st.booleans())
    def create_session(self, persistent: bool, ttl: int, tagged: bool) -> None:
        """S1, S2: a create answers the record it was asked for."""
        self._settle()
        metadata = {"model_test": self.folder} if tagged else {}
        body = {"persistent": persistent, "ttl": ttl, "metadata": metadata}
        response = self.api.post("/v1/sessions", json=body)
        if response.status_code == 429 and not self.env.exact:
            self._tenant_full()
            return
        assert response.status_code == 201, response.text
        record = response.json()
        assert (record["persistent"], record["ttl"], record["busy"]) == (persistent, ttl, False)
        assert record["metadata"] == metadata
        self.model.created(record, metadata)

    @precondition(lambda self: bool(self.model.live()))
    @rule(data=st.data())
    def delete_session(self, data: st.DataObject) -> None:
        """S5 (and S4): a live session is deleted (its turn cancelled); then it is 404."""
        self._settle()
        session = data.draw(st.sampled_from(self.model.live()))
        assert self.api.delete(f"/v1/sessions/{session.id}").status_code == 204
        self.model.destroy(session)
        assert self.api.delete(f"/v1/sessions/{session.id}").status_code == 404

    @precondition(lambda self: self.env.exact and bool(self.model.live()))
    @rule(status=st.sampled_from(["idle", "busy", "any"]), older=st.sampled_from(list(OLDER_THAN)))
    def bulk_delete(self, status: str, older: str | None) -> None:
        """S6: the filters pick exactly the sessions the model picks (busy ones cancelled)."""
        self._settle()
        params = {"status": status} | ({"older_than": older} if older is not None else {})
        chosen = self.model.bulk_selection(status, OLDER_THAN[older])
        response = self.api.delete("/v1/sessions", params=params)
        assert response.json() == {"deleted": len(chosen)}, (params, [s.id for s in chosen])
        for session in chosen:
            self.model.destroy(session)

    @precondition(lambda self: self.env.exact and bool(self.model.live()))
    @rule(seconds=st.sampled_from(ADVANCES))
    def advance_clock(self, seconds: int) -> None:
        """C1, S7: lifetimes and turns move with the clock, in time order."""
        self._settle()
        advance(self.api, seconds)
        self.model.advance(seconds)

    @precondition(lambda self: self.env.exact and bool(self.model.live()))
    @rule(data=st.data(), just_before=st.booleans())
    def advance_to_a_deadline(self, data: st.DataObject, just_before: bool) -> None:
        """S7, M7 and C1 at the edge: to the model's next deadline, turn end or end of a
        turn's retention for a session, or a tick before it (visible at t < deadline, gone
        at t >= deadline)."""
        self._settle()
        session = data.draw(st.sampled_from(self.model.live()))
        seconds = self.model.next_edge(session) - self.model.now - (TICK if just_before else 0)
        if seconds > 0:
            advance(self.api, seconds)
            self.model.advance(seconds)

    # -- turns ---------------------------------------------------------------------

    @precondition(lambda self: bool(self._idle()))
    @rule(data=st.data(), k=st.sampled_from([0, 1, None]))
    def send_message(self, data: st.DataObject, k: int | None) -> None:
        """M1, M4, M5 (C6 forcing a scenario on the mock): read k events, or all of a turn
        that ends at once, then disconnect; the turn goes on."""
        self._settle()
        session = data.draw(st.sampled_from(self._idle()))
        plan = data.draw(st.sampled_from(self.env.plans))
        if k is None and not (self.env.exact and plan.duration == 0):
            k = 1  # reading to the end would wait for the clock
        if k == 0 and not self.env.exact:
            k = 1  # a position to resume from: only the mock replays from 0 without one (M7 [C])
        stream = send(self.api, session.id, plan.message, scenario=plan.scenario, stop_after=k)
        assert stream.status == 200, stream.body
        turn = self.model.started(session, plan, stream.headers["x-response-id"])
        turn.seen = [frame.data for frame in stream.frames]
        if stream.ended:
            self._confirm(session, stream.types[-1])

    @precondition(lambda self: self.env.exact and bool(self._busy()))
    @rule(data=st.data())
    def send_to_a_busy_session(self, data: st.DataObject) -> None:
        """M2: one turn at a time; a 409 starts nothing."""
        self._settle()
        session = data.draw(st.sampled_from(self._busy()))
        response = self.api.post(f"/v1/sessions/{session.id}/messages", json={"message": "x"})
        assert response.status_code == 409, response.text
        assert response.json()["error"] == "session_busy"

    @precondition(lambda self: bool(self._resumable()))
    @rule(data=st.data())
    def resume_what_was_read(self, data: st.DataObject) -> None:
        """M7: a resume after event n replays exactly the events the client had read after
        n (it disconnects there again)."""
        self._settle()
        session = data.draw(st.sampled_from(self._resumable()))
        turn = session.turn
        assert turn is not None
        lowest = -1 if self.env.exact else 0  # -1: no position, a replay from 0 (M7 [C])
        if len(turn.seen) - 2 < lowest:
            return  # on a deployment, only the first event was read: nothing to replay after it
        after = data.draw(st.integers(lowest, len(turn.seen) - 2))
        count = len(turn.seen) - after - 1
        replay = resume(
            self.api, session.id, turn.response_id, after if after >= 0 else None, stop_after=count
        )
        assert [f.data for f in replay.frames] == turn.seen[after + 1 :]

    @precondition(lambda self: bool(self._with_turns()))
    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        """M8: 202 while the turn runs (it ends cancelled), 200 already_complete after,
        404 once its events are no longer kept."""
        self._settle()
        session = data.draw(st.sampled_from(self._with_turns()))
        turn = session.turn
        assert turn is not None
        path = f"/v1/sessions/{session.id}/responses/{turn.response_id}/cancel"
        response = self.api.post(path)
        if not self.env.exact:  # the turn may have ended on its own meanwhile
            assert response.status_code in (200, 202), response.text
            if session.busy:
                self._poll_until_idle(session)
            return
        if session.busy:
            assert response.status_code == 202, response.text
            assert response.json() == {"response_id": turn.response_id, "status": "cancelling"}
            self.model.cancelled(session)
        elif turn.replayable(self.model.now):
            assert response.status_code == 200, response.text
            assert response.json()["status"] == "already_complete"
        else:
            assert response.status_code == 404, response.text

    @precondition(lambda self: bool(self._busy()))
    @rule(data=st.data())
    def poll_until_idle(self, data: st.DataObject) -> None:
        """M5 and S4: the documented recovery — poll the session until busy is false."""
        self._settle()
        self._poll_until_idle(data.draw(st.sampled_from(self._busy())))

    # -- files ---------------------------------------------------------------------

    @precondition(lambda self: bool(self.model.live()))
    @rule(data=st.data(), name=st.sampled_from(FILE_NAMES), content=st.binary(max_size=64))
    def upload(self, data: st.DataObject, name: str, content: bytes) -> None:
        """F3 and F1: any live session writes the tenant's workspace."""
        self._settle()
        session = data.draw(st.sampled_from(self.model.live()))
        path = self.folder + name
        response = self.api.put(f"/v1/sessions/{session.id}/files/{path}", content=content)
        assert response.status_code == 201, response.text
        assert (response.json()["path"], response.json()["size"]) == (path, len(content))
        self.model.files[path] = content

    @precondition(lambda self: bool(self.model.live()))
    @rule(data=st.data(), name=st.sampled_from(FILE_NAMES))
    def download(self, data: st.DataObject, name: str) -> None:
        """F5 and F1: the bytes last uploaded, through any session; 404 once deleted."""
        self._settle()
        session = data.draw(st.sampled_from(self.model.live()))
        path = self.folder + name
        response = self.api.get(f"/v1/sessions/{session.id}/files/{path}")
        if path in self.model.files:
            assert response.status_code == 200, response.text
            assert response.content == self.model.files[path]
        else:
            assert response.status_code == 404, response.text

    @precondition(lambda self: bool(self.model.live()))
    @rule(data=st.data(), name=st.sampled_from(FILE_NAMES))
    def delete_file(self, data: st.DataObject, name: str) -> None:
        """F6: 204, or 404 for a file that is not there."""
        self._settle()
        session = data.draw(st.sampled_from(self.model.live()))
        path = self.folder + name
        status = self.api.delete(f"/v1/sessions/{session.id}/files/{path}").status_code
        assert status == (204 if self.model.files.pop(path, None) is not None else 404)

    # -- the comparison ------------------------------------------------------------

    @invariant()
    def the_server_equals_the_model(self) -> None:
        """S3, S4 (and S7, S8 on the clock): the list, each session and the workspace."""
        self._settle()
        listed = {r["id"]: r for r in self.api.get("/v1/sessions").json()}
        for session in self.model.sessions.values():
            if session.alive:
                assert session.id in listed, f"{session.id} is missing from the list"
                self._compare(listed[session.id], session)
            else:
                assert session.id not in listed, f"{session.id} should be gone"
        if self.env.exact:
            assert set(listed) == {s.id for s in self.model.live()}
        for sid in sorted(self.model.destroyed_since_check):
            assert self.api.get(f"/v1/sessions/{sid}").status_code == 404
        self.model.destroyed_since_check.clear()
        for session in self.model.live():
            record = self.api.get(f"/v1/sessions/{session.id}").json()
            if self.env.exact:
                assert record == listed[session.id]
                self._check_retention(session)
        self._compare_files()

    def _check_retention(self, session: Session) -> None:
        """M7: a finished turn's events are readable for 120 s, then 404."""
        turn = session.turn
        if turn is None or turn.ended_at is None:
            return
        path = f"/v1/sessions/{session.id}/responses/{turn.response_id}/events"
        status = read(self.api, "GET", path, stop_after=0).status
        assert status == (200 if turn.replayable(self.model.now) else 404), turn.response_id

    def _compare(self, record: dict[str, Any], session: Session) -> None:
        assert (record["persistent"], record["ttl"]) == (session.persistent, session.ttl)
        assert "status" in record
        if self.env.exact:
            assert record["status"] == "ready"  # S2 [C]
        assert record["file_access"] == {"read": [""], "write": [""]}
        if self.env.exact or not session.busy:
            assert record["busy"] is session.busy, session.id
        if session.metadata is None:
            assert session.kept_metadata.items() <= record["metadata"].items()  # M6
            if not session.busy:
                session.metadata = record["metadata"]
        else:
            assert record["metadata"] == session.metadata, session.id
        if self.env.exact:
            assert record["created_at"] == session.created_at
            assert record["last_activity"] == session.last_activity, session.id

    def _compare_files(self) -> None:
        """F4 walked through any live session (F1): the test's folder holds exactly the
        model's uploads; on the mock, the whole workspace also the turns' files."""
        live = self.model.live()
        if not live:
            return
        mine = workspace_files(self.api, live[0].id, self.folder)
        assert mine == {p: len(c) for p, c in self.model.files.items()}
        if self.env.exact:
            problems = self.model.workspace_problems(set(workspace_files(self.api, live[0].id)))
            assert not problems, problems

    # -- helpers ---------------------------------------------------------------------

    def _tenant_full(self) -> None:
        """S9 on a deployment: a create was refused at the tenant's session limit, which
        its own sessions share (and which may be lower than the default: "unless its limit
        says otherwise"). The sequences go on with the sessions they have and make no more;
        with none, the test cannot run on this tenant and is skipped. A 429 while the tenant
        holds no session but the model's is the target's doing, and fails."""
        others = set(session_ids(self.api)) - set(self.model.sessions)
        assert others, "429 creating a session while the tenant holds only the model's"
        if not self.model.live():
            pytest.skip(
                f"S9: the tenant's {len(others)} sessions of its own fill its session limit; "
                "the model needs one of its own and deletes none it did not create"
            )
        self.env.max_sessions = len(self.model.live())

    def _idle(self) -> list[Session]:
        return [s for s in self.model.live() if not s.busy and _settled(s)]

    def _busy(self) -> list[Session]:
        return [s for s in self.model.live() if s.busy]

    def _with_turns(self) -> list[Session]:
        return [s for s in self.model.live() if s.turn is not None]

    def _resumable(self) -> list[Session]:
        return [
            s
            for s in self.model.live()
            if s.turn is not None and s.turn.seen and s.turn.replayable(self.model.now)
        ]

    def _poll_until_idle(self, session: Session) -> None:
        deadline = time.monotonic() + POLL_SECONDS
        while True:
            response = self.api.get(f"/v1/sessions/{session.id}")
            if response.status_code == 404:  # S7: it expired while the clock moved
                assert not session.alive, f"{session.id} vanished"
                return
            if not response.json()["busy"]:
                break
            if self.env.exact:
                assert session.busy, f"{session.id} is busy after the model's turn end"
                advance(self.api, 30)
                self.model.advance(30)
            else:
                assert time.monotonic() < deadline, "the turn did not end in time"
                time.sleep(0.05)  # a deployment's turn runs on real time
        if session.busy and not self.env.exact:
            self.model.ended_unseen(session)
        assert not session.busy, f"{session.id} is idle before the model's turn end"

    def _settle(self) -> None:
        """Read back the end of every turn the model says has ended (M7): by the time a
        reader sees the terminal event, GET shows its effects (M5 [C])."""
        for session in self.model.sessions.values():
            turn = session.turn
            if turn is None or turn.ended_at is None or turn.confirmed:
                continue
            path = f"/v1/sessions/{session.id}/responses/{turn.response_id}/events"
            if not session.alive or not turn.replayable(self.model.now):
                assert self.api.get(path).status_code == 404
                turn.confirmed = True
                continue
            after = len(turn.seen) - 1 if turn.seen else None
            rest = resume(self.api, session.id, turn.response_id, after)
            assert rest.ended or after is not None
            turn.seen += [f.data for f in rest.frames]
            ended_as = rest.types[-1] if rest.frames else None
            self._confirm(session, ended_as)

    def _confirm(self, session: Session, terminal: str | None) -> None:
        turn = session.turn
        assert turn is not None
        if turn.ended_at is None:
            return  # seen to end before the model expected: compared by the caller
        if turn.terminal is not None and terminal is not None:
            assert terminal == turn.terminal, (session.id, turn.plan.scenario)
        assert terminal is None or terminal in TERMINAL
        turn.confirmed = True


def _settled(session: Session) -> bool:
    return session.turn is None or session.turn.confirmed


def _plans(target: Target) -> tuple[Plan, ...]:
    """Every loaded scenario that declares how long it takes (elsewhere the model sends
    the target's own agent a plain question: `Plan(None, …)`)."""
    with client_for(target, None) as anon:
        loaded = anon.get("/_mock/scenarios").json()["scenarios"]
    return tuple(
        Plan.from_expect(s["name"], s["expect"])
        for s in loaded
        if s["expect"] is not None and s["expect"]["duration"] is not None
    )


def test_s1_s8_m1_m8_f1_f6_a_tenant_behaves_like_its_model(
    target: Target, request: pytest.FixtureRequest
) -> None:
    """S1–S8, M1–M8, F1, F3–F6 (and on the mock C1, C6): random sequences of creates,
    messages read in part, resumes, cancels, polls, clock moves, deletes, bulk deletes and
    file operations; after every step the server equals the reference model."""
    profile = request.config.getoption("--model-profile") or ("fast" if target.is_mock else "real")
    exact = target.is_mock and profile != "real"
    env = Env(target, exact, _plans(target) if exact else (Plan(None, "Say hello, briefly."),))
    if target.key is not None:  # S9 read before it is relied on: the tenant's own count
        with client_for(target, target.key) as api:
            existing = room_for_sessions(api, 1)
        env.max_sessions = min(MAX_SESSIONS, SESSION_LIMIT - len(existing))
    machine = type("Machine", (TenantMachine,), {"env": env})
    run_state_machine_as_test(machine, settings=settings.get_profile(f"contract-{profile}"))
