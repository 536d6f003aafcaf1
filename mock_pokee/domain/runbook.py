"""A tenant's runs of one surface: which are running, how long finished ones stay
replayable (M7, R6), the idempotency keys (M9, R6) and the time limit of a run (M10).

Turns and responses are kept by the same rules in books of their own (`TurnBook` adds
what belongs to sessions); a key names an attempt on one surface only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from mock_pokee.clock import Clock, Timer
from mock_pokee.domain.deadlines import DeadlineQueue
from mock_pokee.domain.errors import IdempotencyMismatch, InvalidRequest, NotFound
from mock_pokee.domain.events import EventLog
from mock_pokee.domain.runs import Run
from mock_pokee.limits import (
    MAX_FINISHED_BYTES,
    MAX_FINISHED_TURNS,
    MAX_IDEMPOTENCY_KEY,
)

RETENTION = 120.0  # M7, R6: a finished run stays replayable this long
IDEMPOTENCY_TTL = 86_400.0  # M9, R6: keys are kept 24 h
RUN_TIMEOUT = 5_400.0  # M10: 90 minutes (a response too, [C])

R = TypeVar("R", bound=Run)


def check_idempotency_key(key: str) -> str:
    """M9 [C]: a key names one attempt, so an empty one names none (every client that
    sends the header blank would share it), and a key is kept for a day: bounded."""
    if not key.strip():
        raise InvalidRequest("Idempotency-Key: empty; send a unique key, or no header")
    if len(key) > MAX_IDEMPOTENCY_KEY:
        raise InvalidRequest(
            f"Idempotency-Key: {len(key)} characters; at most {MAX_IDEMPOTENCY_KEY}"
        )
    return key


@dataclass(frozen=True)
class IdempotencyRecord:
    session_id: str | None  # where the key was used: a session, or none (a response)
    body_hash: str
    response_id: str


@dataclass(frozen=True)
class Started(Generic[R]):
    """What a request got: its run (None if replayed after eviction), and whether this
    request started it or retried it with an Idempotency-Key (M9, R6)."""

    run: R | None
    response_id: str
    started: bool


class RunBook(Generic[R]):
    """The runs of one surface, each a ``noun`` in messages; ``timeout_error`` ends a
    run still going after `RUN_TIMEOUT` (M10)."""

    def __init__(self, clock: Clock, noun: str, timeout_error: str):
        self._clock = clock
        self._noun = noun
        self._timeout_error = timeout_error
        self._runs: dict[str, R] = {}  # running or retained, by id
        self._running: dict[str, R] = {}
        self._timeouts: dict[str, Timer] = {}
        self._keys: dict[str, IdempotencyRecord] = {}
        self._finished: dict[str, EventLog] = {}  # finished and kept, oldest first
        self._retention = DeadlineQueue(clock, self._evict)
        self._key_expiry = DeadlineQueue(clock, self._forget_key)

    @property
    def empty(self) -> bool:
        """No run kept (running or replayable) and no idempotency key remembered."""
        return not self._runs and not self._keys

    def find(self, response_id: str, session_id: str | None = None) -> R:
        """M7/M8, R6: a run of this session (or of none) that is running or still
        retained, or `NotFound` saying why it may be gone."""
        run = self._runs.get(response_id)
        if run is None or run.session_id != session_id:
            where = f" for session {session_id}" if session_id is not None else ""
            raise NotFound(
                f"response {response_id}: not found{where} (unknown, or no longer kept: a "
                f"finished {self._noun} is kept {RETENTION:.0f} s, and a tenant's "
                f"last {MAX_FINISHED_TURNS} at most)"
            )
        return run

    def recall(self, key: str, session_id: str | None, body_hash: str) -> IdempotencyRecord | None:
        """M9, R6: the earlier use of ``key``, if any; a different body or session is
        refused."""
        record = self._keys.get(key)
        if record is None:
            return None
        if record.session_id != session_id:
            raise IdempotencyMismatch(
                f"Idempotency-Key: {key!r} was used on another session ({record.session_id})"
            )
        if record.body_hash != body_hash:
            where = "on this session" if session_id is not None else "here"
            raise IdempotencyMismatch(
                f"Idempotency-Key: {key!r} was used with a different body {where}"
            )
        return record

    def retained(self, response_id: str) -> R | None:
        return self._runs.get(response_id)

    def add(self, run: R, key: str | None, body_hash: str) -> None:
        self._runs[run.id] = run
        self._running[run.id] = run
        self._timeouts[run.id] = self._clock.call_at(
            run.started_at + RUN_TIMEOUT, lambda: run.end("error", self._timeout_error)
        )
        if key is not None:
            self._keys[key] = IdempotencyRecord(run.session_id, body_hash, run.id)
            self._key_expiry.schedule(key, run.started_at + IDEMPOTENCY_TTL)

    def finished(self, run: R) -> None:
        self._running.pop(run.id, None)
        timeout = self._timeouts.pop(run.id, None)
        if timeout is not None:
            timeout.cancel()
        self._retention.schedule(run.id, self._clock.now() + RETENTION)
        self._finished[run.id] = run.log
        # Summed afresh: a run's terminal event is appended after this (its owner's
        # effects come first, M5), so it counts from the next run's end on.
        held = sum(log.size for log in self._finished.values())
        while len(self._finished) > MAX_FINISHED_TURNS or (
            held > MAX_FINISHED_BYTES and len(self._finished) > 1
        ):
            oldest = next(iter(self._finished))
            held -= self._finished[oldest].size
            self._retention.discard(oldest)
            self._evict(oldest)

    def _evict(self, response_id: str) -> None:
        self._runs.pop(response_id, None)
        self._finished.pop(response_id, None)

    def _forget_key(self, key: str) -> None:
        self._keys.pop(key, None)

    def end_running(self, error: str) -> None:
        for run in list(self._running.values()):
            run.end("error", error)

    def clear(self) -> None:
        for run in list(self._running.values()):
            run.end("cancelled")
        self._runs.clear()
        self._finished.clear()
        self._running.clear()
        self._timeouts.clear()
        self._keys.clear()
        self._retention.clear()
        self._key_expiry.clear()

    def describe(self) -> list[dict[str, Any]]:
        return [run.describe() for run in self._runs.values()]
