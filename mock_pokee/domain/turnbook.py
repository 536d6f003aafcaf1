"""A tenant's turns: which run where, how long finished ones stay replayable (M7), the
idempotency keys (M9) and the turn time limit (M10)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mock_pokee.clock import Clock, Timer
from mock_pokee.domain.deadlines import DeadlineQueue
from mock_pokee.domain.errors import IdempotencyMismatch, InvalidRequest, NotFound
from mock_pokee.domain.turns import Turn
from mock_pokee.limits import (
    MAX_FINISHED_BYTES,
    MAX_FINISHED_TURNS,
    MAX_IDEMPOTENCY_KEY,
)

RETENTION = 120.0  # M7: a finished turn stays replayable this long
IDEMPOTENCY_TTL = 86_400.0  # M9: keys are kept 24 h
TURN_TIMEOUT = 5_400.0  # M10: 90 minutes


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
    session_id: str
    body_hash: str
    response_id: str


class TurnBook:
    def __init__(self, clock: Clock):
        self._clock = clock
        self._turns: dict[str, Turn] = {}
        self._running: dict[str, Turn] = {}  # session id → its running turn
        self._timeouts: dict[str, Timer] = {}
        self._keys: dict[str, IdempotencyRecord] = {}
        self._finished: dict[str, int] = {}  # finished and kept: response id → its bytes
        self._finished_bytes = 0
        self._retention = DeadlineQueue(clock, self._evict)
        self._key_expiry = DeadlineQueue(clock, self._forget_key)

    @property
    def empty(self) -> bool:
        """No turn kept (running or replayable) and no idempotency key remembered."""
        return not self._turns and not self._keys

    def running(self, session_id: str) -> Turn | None:
        return self._running.get(session_id)

    def get(self, session_id: str, response_id: str) -> Turn:
        """M7/M8: a turn of this session that is running or still retained."""
        turn = self._turns.get(response_id)
        if turn is None or turn.session_id != session_id:
            raise NotFound(
                f"response {response_id}: not found for session {session_id} "
                f"(unknown, or no longer kept: a finished turn is kept {RETENTION:.0f} s, "
                f"and a tenant's last {MAX_FINISHED_TURNS} at most)"
            )
        return turn

    def recall(self, key: str, session_id: str, body_hash: str) -> IdempotencyRecord | None:
        """M9: the earlier use of ``key``, if any; a different body or session is refused."""
        record = self._keys.get(key)
        if record is None:
            return None
        if record.session_id != session_id:
            raise IdempotencyMismatch(
                f"Idempotency-Key: {key!r} was used on another session ({record.session_id})"
            )
        if record.body_hash != body_hash:
            raise IdempotencyMismatch(
                f"Idempotency-Key: {key!r} was used with a different body on this session"
            )
        return record

    def retained(self, response_id: str) -> Turn | None:
        return self._turns.get(response_id)

    def add(self, turn: Turn, key: str | None, body_hash: str) -> None:
        self._turns[turn.id] = turn
        self._running[turn.session_id] = turn
        self._timeouts[turn.id] = self._clock.call_at(
            turn.started_at + TURN_TIMEOUT, lambda: turn.end("error", "turn_timeout")
        )
        if key is not None:
            self._keys[key] = IdempotencyRecord(turn.session_id, body_hash, turn.id)
            self._key_expiry.schedule(key, turn.started_at + IDEMPOTENCY_TTL)

    def finished(self, turn: Turn) -> None:
        self._running.pop(turn.session_id, None)
        timeout = self._timeouts.pop(turn.id, None)
        if timeout is not None:
            timeout.cancel()
        self._retention.schedule(turn.id, self._clock.now() + RETENTION)
        size = sum(len(event.data) for event in turn.log.events)
        self._finished[turn.id] = size
        self._finished_bytes += size
        while len(self._finished) > MAX_FINISHED_TURNS or (
            self._finished_bytes > MAX_FINISHED_BYTES and len(self._finished) > 1
        ):
            oldest = next(iter(self._finished))
            self._retention.discard(oldest)
            self._evict(oldest)

    def _evict(self, response_id: str) -> None:
        self._turns.pop(response_id, None)
        self._finished_bytes -= self._finished.pop(response_id, 0)

    def _forget_key(self, key: str) -> None:
        self._keys.pop(key, None)

    def end_running(self, error: str) -> None:
        for turn in list(self._running.values()):
            turn.end("error", error)

    def clear(self) -> None:
        for turn in list(self._running.values()):
            turn.end("cancelled")
        self._turns.clear()
        self._finished.clear()
        self._finished_bytes = 0
        self._running.clear()
        self._timeouts.clear()
        self._keys.clear()
        self._retention.clear()
        self._key_expiry.clear()

    def describe(self) -> list[dict[str, Any]]:
        return [turn.describe() for turn in self._turns.values()]
