"""Every error the client raises, under one base class, so ``except PokeeError`` is enough.

::

    PokeeError
    ├── ConfigurationError            no base URL or no key (arguments, POKEE_API, POKEE_KEY)
    ├── TransportError                the network: cannot connect, cut, timed out (after retries)
    ├── ProtocolError                 an answer that breaks the contract (not JSON, no response id)
    └── APIError                      an A5 error: .status, .error, .message, .retry_after
        ├── InvalidRequestError           400 invalid_request
        ├── UnauthorizedError             401 unauthorized
        ├── PaymentRequiredError          402 payment_required
        ├── ForbiddenPathError            403 forbidden_path
        ├── NotFoundError                 404 not_found
        ├── MethodNotAllowedError         405 method_not_allowed
        ├── SessionBusyError              409 session_busy
        ├── PayloadTooLargeError          413 payload_too_large
        ├── RangeNotSatisfiableError      416 range_not_satisfiable
        ├── IdempotencyMismatchError      422 idempotency_mismatch
        ├── RateLimitedError              429 rate_limited
        ├── InternalServerError           500 internal_error
        └── ServiceUnavailableError       503 service_unavailable

The class is chosen by the body's short name; a short name the client does not know (the API
grows additively, A8) arrives as `APIError` itself, and a body that is not in the A5 shape
(a proxy's HTML page) is classified by its status. A message is for people, so it is kept
to `MAX_MESSAGE` characters, whatever the server sent. This module imports nothing heavy: the
command line catches these errors without loading httpx.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import ClassVar

MAX_MESSAGE = 500  # characters of a server's error message kept (the rest is counted)


class PokeeError(Exception):
    """Base of every error raised by pokee_client."""


class ConfigurationError(PokeeError):
    """The client was not told where the API is or which key to use."""


class TransportError(PokeeError):
    """The network failed and retrying (where it was safe) did not help."""


class ProtocolError(PokeeError):
    """The server answered something the contract does not allow."""


class APIError(PokeeError):
    """An error answer in the A5 shape ``{"error": <short name>, "message": <text>}``.

    ``retry_after`` is the ``Retry-After`` header in seconds (A7), or None.
    """

    short_name: ClassVar[str] = ""

    def __init__(self, status: int, error: str, message: str, retry_after: float | None = None):
        self.status = status
        self.error = error
        self.message = message
        self.retry_after = retry_after
        super().__init__(str(self))

    def __str__(self) -> str:
        text = f"{self.error} ({self.status}): {self.message}"
        if self.retry_after is not None:
            text += f" (retry after {self.retry_after:g} s)"
        return text


class InvalidRequestError(APIError):
    short_name = "invalid_request"


class UnauthorizedError(APIError):
    short_name = "unauthorized"


class PaymentRequiredError(APIError):
    short_name = "payment_required"


class ForbiddenPathError(APIError):
    short_name = "forbidden_path"


class NotFoundError(APIError):
    short_name = "not_found"


class MethodNotAllowedError(APIError):
    short_name = "method_not_allowed"


class SessionBusyError(APIError):
    short_name = "session_busy"


class PayloadTooLargeError(APIError):
    short_name = "payload_too_large"


class RangeNotSatisfiableError(APIError):
    short_name = "range_not_satisfiable"


class IdempotencyMismatchError(APIError):
    short_name = "idempotency_mismatch"


class RateLimitedError(APIError):
    short_name = "rate_limited"


class InternalServerError(APIError):
    short_name = "internal_error"


class ServiceUnavailableError(APIError):
    short_name = "service_unavailable"


# A5's table, both ways: the class of each short name, and the short name of each status.
ERROR_CLASSES: dict[str, type[APIError]] = {
    cls.short_name: cls
    for cls in (
        InvalidRequestError,
        UnauthorizedError,
        PaymentRequiredError,
        ForbiddenPathError,
        NotFoundError,
        MethodNotAllowedError,
        SessionBusyError,
        PayloadTooLargeError,
        RangeNotSatisfiableError,
        IdempotencyMismatchError,
        RateLimitedError,
        InternalServerError,
        ServiceUnavailableError,
    )
}
STATUSES: dict[str, int] = {
    "invalid_request": 400,
    "unauthorized": 401,
    "payment_required": 402,
    "forbidden_path": 403,
    "not_found": 404,
    "method_not_allowed": 405,
    "session_busy": 409,
    "payload_too_large": 413,
    "range_not_satisfiable": 416,
    "idempotency_mismatch": 422,
    "rate_limited": 429,
    "internal_error": 500,
    "service_unavailable": 503,
}
_SHORT_NAME_OF_STATUS = {status: name for name, status in STATUSES.items()}


def api_error(
    status: int,
    body: bytes,
    headers: Mapping[str, str],
    where: str = "",
    unread: str | None = None,
) -> APIError:
    """The exception for an error answer: by A5 short name, else by status. An answer not
    in the A5 shape (a proxy's HTML page, another server altogether) is said to be one, in
    a line naming ``where`` (method and URL) and the status, not by quoting its page;
    ``unread`` says why the body could not be read at all."""
    error, message = _a5_fields(body)
    if error is None:
        error = _SHORT_NAME_OF_STATUS.get(status, f"http_{status}")
        kind = headers.get("content-type", "no content type").split(";")[0].strip()
        said = f"{where + ' ' if where else ''}answered {status}"
        message = (
            f"{said}; its body was not read: {unread}"
            if unread is not None
            else f"{said} with {kind} ({len(body)} bytes), not an error of the Pokee API: "
            "is the base URL right?"
        )
    cls = ERROR_CLASSES.get(error, APIError)
    return cls(status, error[:100], _shortened(message), retry_after(headers))


def _shortened(message: str) -> str:
    if len(message) <= MAX_MESSAGE:
        return message
    return f"{message[:MAX_MESSAGE]}… ({len(message) - MAX_MESSAGE} more characters)"


def _a5_fields(body: bytes) -> tuple[str | None, str]:
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):  # nesting past Python's stack is not A5 either
        return None, ""
    if isinstance(parsed, dict):
        error, message = parsed.get("error"), parsed.get("message")
        if isinstance(error, str) and isinstance(message, str):
            return error, message
    return None, ""


def retry_after(headers: Mapping[str, str]) -> float | None:
    """A7's ``Retry-After`` in seconds: the delay form, or an HTTP date measured against the
    answer's own ``Date`` (both are the server's clock, which may not be ours)."""
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return _seconds_until(value, headers.get("date"))
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def _seconds_until(when: str, date: str | None) -> float | None:
    if not date:
        return None
    try:
        # A zone of -0000 makes a naive date, which cannot be measured against an aware one.
        seconds = (parsedate_to_datetime(when) - parsedate_to_datetime(date)).total_seconds()
    except (TypeError, ValueError, OverflowError):
        return None
    return max(0.0, seconds)
