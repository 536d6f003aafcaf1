"""Turn and token accounting per tenant, and the limits it enforces (contract U1, M11).

A turn counts once, when it starts, whatever its end; a 409 or an idempotent replay never
reaches `UsageLedger.start_turn`. Its tokens (the sum of its ``usage``) are added when it
ends, to every window it still falls in. Each window is enforced when a turn would start:
at its turn limit, or at or over its token limit, the turn is refused with 429 and a
``Retry-After`` of the time until enough of the window's turns have aged out of it.

Two buckets, as Pokee documents them, each with windows of its own and the same limits:
``session_turn`` counts session turns (M1); ``response`` counts stateless
``POST /v1/responses`` calls (R7). A call counts in its bucket only, so one surface's use
never refuses the other's.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any, Literal, get_args

from mock_pokee.domain.errors import RateLimited

HOUR = 3600
DAY = 86_400

Bucket = Literal["session_turn", "response"]
BUCKETS: tuple[Bucket, ...] = get_args(Bucket)


@dataclass(frozen=True)
class Limits:
    """Per-tenant budgets (U1's documented defaults; ``turns_per_hour`` is M11's)."""

    turns_per_hour: int = 300
    turns_per_day: int = 5_000
    tokens_per_hour: int = 20_000_000
    tokens_per_day: int = 200_000_000


@dataclass(slots=True)
class TurnEntry:
    started_at: float
    bucket: Bucket = "session_turn"
    tokens: int = 0


class Window:
    """The turns started in the last ``seconds``, oldest first, and their token sum."""

    def __init__(self, bucket: Bucket, name: str, seconds: int, max_turns: int, max_tokens: int):
        self.bucket = bucket
        self.name = name
        self.seconds = seconds
        self.max_turns = max_turns
        self.max_tokens = max_tokens
        self._turns: deque[TurnEntry] = deque()
        self._tokens = 0

    @property
    def empty(self) -> bool:
        """No turn counted (in this window, once it has been read)."""
        return not self._turns

    def add(self, entry: TurnEntry) -> None:
        self._turns.append(entry)

    def add_tokens(self, entry: TurnEntry, tokens: int, now: float) -> None:
        self._forget(now)
        if entry.started_at > now - self.seconds:  # still counted here
            self._tokens += tokens

    def refusal(self, now: float) -> RateLimited | None:
        """Why a turn starting now would break this window, or None."""
        self._forget(now)
        if len(self._turns) >= self.max_turns:
            # The turn whose ageing out leaves room for one more.
            oldest = self._turns[len(self._turns) - self.max_turns]
            return RateLimited(
                f"turns: {self.max_turns} turns per {self.name} already started by this "
                f"tenant ({self.bucket} bucket)",
                retry_after=oldest.started_at + self.seconds - now,
            )
        if self._tokens >= self.max_tokens:
            return RateLimited(
                f"tokens: {self._tokens} tokens used this {self.name}, the limit is "
                f"{self.max_tokens} ({self.bucket} bucket)",
                retry_after=self._room_for_tokens_at() + self.seconds - now,
            )
        return None

    def _room_for_tokens_at(self) -> float:
        """The start time of the turn whose ageing out brings the tokens under the limit."""
        remaining = self._tokens
        for entry in self._turns:
            remaining -= entry.tokens
            if remaining < self.max_tokens:
                return entry.started_at
        return self._turns[-1].started_at

    def report(self, now: float) -> dict[str, Any]:
        self._forget(now)
        return {
            "name": self.name,
            "duration_seconds": self.seconds,
            "turns": len(self._turns),
            "max_turns": self.max_turns,
            "tokens": self._tokens,
            "max_tokens": self.max_tokens,
            "enabled": True,
        }

    def _forget(self, now: float) -> None:
        cutoff = now - self.seconds
        while self._turns and self._turns[0].started_at <= cutoff:
            self._tokens -= self._turns.popleft().tokens


class UsageLedger:
    """One tenant's windows: an hour and a day in each bucket."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self._windows = {
            bucket: (
                Window(bucket, "hour", HOUR, limits.turns_per_hour, limits.tokens_per_hour),
                Window(bucket, "day", DAY, limits.turns_per_day, limits.tokens_per_day),
            )
            for bucket in BUCKETS
        }

    @property
    def empty(self) -> bool:
        """No turn counted in the last day (the longest window), in either bucket."""
        return all(window.empty for windows in self._windows.values() for window in windows)

    def check(self, now: float, bucket: Bucket = "session_turn") -> None:
        """U1/M11/R7: `RateLimited` if any window of the bucket has no room for another."""
        for window in self._windows[bucket]:
            refusal = window.refusal(now)
            if refusal is not None:
                raise refusal

    def start_turn(self, now: float, bucket: Bucket = "session_turn") -> TurnEntry:
        entry = TurnEntry(started_at=now, bucket=bucket)
        for window in self._windows[bucket]:
            window.add(entry)
        return entry

    def end_turn(self, entry: TurnEntry, tokens: int, now: float) -> None:
        for window in self._windows[entry.bucket]:
            window.add_tokens(entry, tokens, now)
        entry.tokens += tokens

    def report(self, caller_id: str, now: float) -> dict[str, Any]:
        """U1's ``rate_limit``."""
        return {
            "caller_id": caller_id,
            "buckets": {
                bucket: {"windows": [w.report(now) for w in windows]}
                for bucket, windows in self._windows.items()
            },
        }
