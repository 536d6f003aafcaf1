"""Domain errors: a contract short name (A5) and a message that names what was wrong.

They carry no HTTP status; the API layer maps the short name to one. Raising them from plain
Python keeps the rules testable without a server.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import ClassVar

log = logging.getLogger("mock_pokee")

# Where the mock's own bugs go (an exception in a scenario step, a clock callback, a
# route): the server keeps them so that the test harness fails the test that caused one.
BugReport = Callable[[BaseException], None]


def log_bug(exc: BaseException) -> None:
    """The default report: the log only (plain Python use, unit tests)."""
    log.error("mock-pokee bug: %s: %s", type(exc).__name__, exc, exc_info=exc)


class DomainError(Exception):
    """Base of every error the mock reports to a caller."""

    error: ClassVar[str] = "internal_error"

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after
        self.headers = headers or {}


class InvalidRequest(DomainError):
    error = "invalid_request"


class Unauthorized(DomainError):
    error = "unauthorized"


class NotFound(DomainError):
    error = "not_found"


class SessionBusy(DomainError):
    error = "session_busy"


class PayloadTooLarge(DomainError):
    error = "payload_too_large"


class RateLimited(DomainError):
    error = "rate_limited"


class ForbiddenPath(DomainError):
    error = "forbidden_path"


class IdempotencyMismatch(DomainError):
    error = "idempotency_mismatch"


class RangeNotSatisfiable(DomainError):
    error = "range_not_satisfiable"
