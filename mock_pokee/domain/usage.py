"""Turn and token accounting per tenant (contract U1, and the M11 limit that reads it).

A turn counts once, when it starts, whatever its end; a 409 or an idempotent replay never
reaches `UsageLedger.start_turn`. Tokens are added to the turn's entry as it reports them.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

HOUR = 3600
DAY = 86_400


@dataclass(frozen=True)
class Limits:
    """Per-tenant budgets shown in U1. ``turns_per_hour`` is the M11 limit (default 300)."""

    turns_per_hour: int = 300
    turns_per_day: int = 7_200
    tokens_per_hour: int = 1_000_000
    tokens_per_day: int = 10_000_000


@dataclass
class TurnEntry:
    started_at: float
    tokens: int = 0


class UsageLedger:
    """Started turns of one tenant for the last day, oldest first."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self._turns: deque[TurnEntry] = deque()

    @property
    def empty(self) -> bool:
        """No turn counted (in the last day, once it has been read)."""
        return not self._turns

    def start_turn(self, now: float) -> TurnEntry:
        entry = TurnEntry(started_at=now)
        self._turns.append(entry)
        return entry

    def starts_within(self, window: float, now: float) -> list[float]:
        """Start times of the turns started in the last ``window`` seconds, oldest first."""
        self._forget_before(now - DAY)
        return [t.started_at for t in self._turns if t.started_at > now - window]

    def report(self, caller_id: str, now: float) -> dict[str, Any]:
        """The U1 body."""
        self._forget_before(now - DAY)
        windows = [
            self._window(
                "hour", HOUR, self.limits.turns_per_hour, self.limits.tokens_per_hour, now
            ),
            self._window("day", DAY, self.limits.turns_per_day, self.limits.tokens_per_day, now),
        ]
        return {
            "rate_limit": {
                "caller_id": caller_id,
                "buckets": {
                    "session_turn": {"windows": windows},
                    "response": {"windows": [dict(w) for w in windows]},
                },
            },
            "credits": {"enabled": False, "mode": "unmetered", "balance": 0},
        }

    def _window(
        self, name: str, seconds: int, max_turns: int, max_tokens: int, now: float
    ) -> dict[str, Any]:
        recent = [t for t in self._turns if t.started_at > now - seconds]
        return {
            "name": name,
            "duration_seconds": seconds,
            "turns": len(recent),
            "max_turns": max_turns,
            "tokens": sum(t.tokens for t in recent),
            "max_tokens": max_tokens,
            "enabled": True,
        }

    def _forget_before(self, cutoff: float) -> None:
        while self._turns and self._turns[0].started_at <= cutoff:
            self._turns.popleft()
