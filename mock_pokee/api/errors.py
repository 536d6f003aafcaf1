"""Every error leaves the server in the A5 shape: ``{"error": <short name>, "message"}``.

Domain errors, Starlette's own routing errors (404, 405) and anything unexpected all pass
through here, so no response ever carries a traceback or an HTML page.
"""

from __future__ import annotations

import logging
import math
from http import HTTPStatus
from typing import TYPE_CHECKING

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from mock_pokee.api.answers import JSONResponse
from mock_pokee.api.context import context
from mock_pokee.domain.errors import DomainError

if TYPE_CHECKING:
    from mock_pokee.domain.faults import StatusFault

STATUS_OF = {
    "invalid_request": 400,
    "unauthorized": 401,
    "payment_required": 402,
    "forbidden_path": 403,
    "not_found": 404,
    "method_not_allowed": 405,
    "session_busy": 409,
    "no_pending_tool_call": 409,
    "payload_too_large": 413,
    "range_not_satisfiable": 416,
    "idempotency_mismatch": 422,
    "rate_limited": 429,
    "internal_error": 500,
    "service_unavailable": 503,
    "request_timeout": 408,
}
# A status's first short name is its own (409 is session_busy, not no_pending_tool_call).
_ERROR_OF = {status: error for error, status in reversed(STATUS_OF.items())}

log = logging.getLogger("mock_pokee")


def error_response(
    error: str,
    message: str,
    *,
    retry_after: float | None = None,
    headers: dict[str, str] | None = None,
    status: int | None = None,
) -> JSONResponse:
    headers = dict(headers or {})
    if retry_after is not None:
        headers["Retry-After"] = str(max(1, math.ceil(retry_after)))  # A7: whole seconds
    return JSONResponse(
        {"error": error, "message": message},
        status_code=status or STATUS_OF[error],
        headers=headers,
    )


def short_name(status: int) -> str:
    """A5's short name for a status; outside A5's table, the status's own phrase."""
    if status in _ERROR_OF:
        return _ERROR_OF[status]
    try:
        return HTTPStatus(status).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return f"http_{status}"


def injected_status_response(request: Request, fault: StatusFault, rule: str) -> Response:
    """C5's status fault: an A5 body; 429 and 503 always carry Retry-After (A7)."""
    retry_after = fault.retry_after
    if retry_after is None and fault.status in (429, 503):
        retry_after = 1
    message = fault.message or (
        f"{request.method} {request.url.path}: status {fault.status} injected by the mock "
        f"(fault {rule})"
    )
    return error_response(
        short_name(fault.status), message, retry_after=retry_after, status=fault.status
    )


async def on_domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    return error_response(exc.error, exc.message, retry_after=exc.retry_after, headers=exc.headers)


async def on_http_exception(request: Request, exc: Exception) -> Response:
    """Starlette's routing errors, in A5 words."""
    assert isinstance(exc, HTTPException)
    where = f"{request.method} {request.url.path}"
    if exc.status_code == 404:
        return error_response("not_found", f"{where}: no such endpoint")
    if exc.status_code == 405:
        allowed = (exc.headers or {}).get("Allow", "")
        return error_response(
            "method_not_allowed",
            f"{where}: method not allowed here; allowed: {allowed}",
            headers={"Allow": allowed},
        )
    error = _ERROR_OF.get(exc.status_code, "invalid_request")
    return error_response(error, f"{where}: {exc.detail}")


async def on_client_disconnect(request: Request, exc: Exception) -> Response:
    """The client left while sending its body: nothing was stored, and nobody is listening
    for an answer. Not a mock bug, so not logged as one."""
    return error_response("invalid_request", "body: the client disconnected while sending it")


async def on_unexpected(request: Request, exc: Exception) -> Response:
    """A bug in the mock: keep it for the test harness, answer A5, never a traceback."""
    context(request).errors.append(exc)
    log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(
        "internal_error", f"{request.method} {request.url.path}: the mock failed unexpectedly"
    )
