"""When to try again, and how long to wait first.

- ``429`` and ``503`` mean the request was not processed: any call may be repeated, after
  exactly the server's ``Retry-After`` (A7). A wait longer than ``max_retry_after`` (S9's
  "until a session expires" can be hours) is not slept through: the error is raised with
  its ``retry_after`` for the caller to decide.
- Other ``5xx`` answers and network failures may have been processed: only idempotent calls
  are repeated, after a capped exponential backoff with jitter. A failure to connect at all
  is safe to repeat for any call, since nothing was sent.
- Everything else, ``409 session_busy`` included, is reported at once: repeating a busy
  message blindly would either fail again or start a turn nobody asked for twice.

A message is idempotent because the client always sends it with an ``Idempotency-Key`` (M9).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from pokee_client.errors import APIError

NOT_PROCESSED = frozenset({429, 503})


@dataclass(frozen=True)
class RetryPolicy:
    """``attempts`` counts every try of one call, the first included.

    ``resumes`` bounds how many times in a row a turn's stream is resumed without receiving
    a new event before the client stops resuming and polls the session instead.
    """

    attempts: int = 4
    backoff: float = 0.25
    max_backoff: float = 8.0
    max_retry_after: float = 60.0
    resumes: int = 6
    jitter: Callable[[], float] = field(default=random.random, compare=False)

    def backoff_delay(self, retry: int) -> float:
        """Seconds before retry number ``retry`` (0 for the first): half of the capped
        exponential step, plus up to the other half at random, so that clients that failed
        together do not come back together, and none comes back at once."""
        step = min(self.max_backoff, self.backoff * 2.0**retry)
        return step / 2 + self.jitter() * step / 2

    def delay_after_error(self, error: APIError, retry: int, *, idempotent: bool) -> float | None:
        """Seconds to wait before repeating a call that got ``error``; None: raise it."""
        if retry + 1 >= self.attempts:
            return None
        if error.status in NOT_PROCESSED:
            if error.retry_after is None:
                return self.backoff_delay(retry)
            return error.retry_after if error.retry_after <= self.max_retry_after else None
        if error.status >= 500 and idempotent:
            return self.backoff_delay(retry)
        return None

    def delay_after_network(self, retry: int, *, idempotent: bool, sent: bool) -> float | None:
        """Seconds to wait before repeating a call whose connection failed; None: give up.
        ``sent`` is False when the connection was never made."""
        if retry + 1 >= self.attempts or (sent and not idempotent):
            return None
        return self.backoff_delay(retry)


NO_RETRIES = RetryPolicy(attempts=1)
