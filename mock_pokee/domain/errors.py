"""The mock's exceptions, one tree:

    MockPokeeError
     ├── DomainError            a caller's request is refused: an A5 short name and a
     │    ├── InvalidRequest    message naming what was wrong (no HTTP status: the API
     │    │    └── ClockError   layer maps the short name to one)
     │    ├── NotFound, Unauthorized, SessionBusy, …
     ├── ScenarioError          a scenario cannot be used (a bad file, a missing default)
     └── ScenarioFailure        a scenario's own ``fail`` step, ending its turn

Raising them from plain Python keeps the rules testable without a server. Anything else
that escapes is a bug in the mock, reported as one (`BugReport`).
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


class MockPokeeError(Exception):
    """The root of the mock's own exceptions."""


class DomainError(MockPokeeError):
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


class PaymentRequired(DomainError):
    error = "payment_required"


class NoPendingToolCall(DomainError):
    error = "no_pending_tool_call"


class RequestTimeout(DomainError):
    """A body that stopped coming (the server's own bound on slow clients)."""

    error = "request_timeout"


class ServiceUnavailable(DomainError):
    """The server cannot take the request now (out of file descriptors); A7's
    ``Retry-After`` says when to try again."""

    error = "service_unavailable"


class ClockError(InvalidRequest):
    """A clock setting that cannot be applied (C1)."""


class ScenarioError(MockPokeeError):
    """A scenario that cannot be used: the file (or folder), and what is wrong with it."""

    def __init__(self, where: object, reason: str):
        super().__init__(f"{where}: {reason}")


class ScenarioFailure(MockPokeeError):
    """A scenario's own ``fail`` step: ends the turn with ``message.error``."""

    def __init__(self, error: str):
        super().__init__(error)
        self.error = error
