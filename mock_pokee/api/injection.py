"""Deciding a request's fault (C5), once per request, and acting on the quick ones.

The fault comes from the request's own ``X-Mock-Fault`` header, else from the fault rules
of the caller's tenant and then those added without a key (every rule counts the
attempt; see `mock_pokee.domain.faults`). A status reply, a stub and a delay act here; the faults
that shape the bytes on the wire are left in the scope for the turn stream and the
delivery layer. Nothing is decided for the control plane, or when it is switched off.
"""

from __future__ import annotations

import asyncio
from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response

from mock_pokee.api.answers import JSONResponse
from mock_pokee.api.context import (
    CONTEXT_SCOPE_KEY,
    HEADERS_SCOPE_KEY,
    REPEATED_HEADER,
    TENANT_SCOPE_KEY,
    ServerContext,
    context,
    scope_tenant,
)
from mock_pokee.api.errors import injected_status_response
from mock_pokee.domain.errors import InvalidRequest
from mock_pokee.domain.faults import (
    Attempt,
    DelayFault,
    EventFault,
    FaultOnly,
    Hit,
    RespondFault,
    StatusFault,
    fault_json,
)
from mock_pokee.domain.inputs import parse_json
from mock_pokee.domain.strict import describe
from mock_pokee.domain.tenants import Tenant

FAULT_SCOPE_KEY = "mock_pokee.fault"


async def inject(request: Request, scenario: str | None = None) -> Response | None:
    """Decide the fault and act on it; a response to send instead of handling the
    request, or None to handle it."""
    hit = decide(request, scenario)
    return None if hit is None else await act(request, hit)


def decide(request: Request, scenario: str | None = None) -> Hit | None:
    """The request's fault, if any; every matching rule counts the attempt."""
    scope = request.scope
    ctx: ServerContext = scope[CONTEXT_SCOPE_KEY]
    if not ctx.control:
        return None
    tenant: Tenant | None = scope.get(TENANT_SCOPE_KEY)
    shared = ctx.tenants.faults
    header = scope[HEADERS_SCOPE_KEY][1]
    hit = None if header is None else _from_header(header)
    if hit is not None or (shared.empty and (tenant is None or tenant.faults.empty)):
        return hit  # the header's fault, or nothing: no rule anywhere (the hot path)
    attempt = Attempt(
        request.method, request.scope["path"], request.path_params.get("session_id"), scenario
    )
    own = tenant.faults.choose(attempt) if tenant is not None else None
    other = shared.choose(attempt, fire=own is None)  # counted even when own fired
    return own or other


async def act(request: Request, hit: Hit) -> Response | None:
    """Journal the fault; answer a status fault, wait out a delay, and leave the rest in
    the scope for the turn stream and the delivery layer."""
    ctx = context(request)
    tenant = scope_tenant(request.scope)
    journal, clock = (tenant.journal, tenant.clock) if tenant else (ctx.tenants.journal, None)
    journal.record(
        (clock or ctx.tenants.clock).now(),
        "fault",
        request.path_params.get("session_id"),
        rule=hit.rule,
        type=hit.type,
        method=request.method,
        path=request.scope["path"],
        fault=fault_json(hit.fault),
    )
    request.scope[FAULT_SCOPE_KEY] = hit  # the request's journal entry names the rule
    if isinstance(hit.fault, StatusFault):
        return injected_status_response(request, hit.fault, hit.rule)
    if isinstance(hit.fault, RespondFault):
        return stub_response(hit.fault)
    if isinstance(hit.fault, DelayFault):
        await asyncio.sleep(hit.fault.seconds)  # real time: the client's timeouts are real
    return None


def stub_response(fault: RespondFault) -> Response:
    """C5's ``respond`` fault: the status, headers and body the rule gives; text is
    ``text/plain`` unless the rule names its own ``Content-Type``."""
    if "json_body" in fault.model_fields_set:
        return JSONResponse(fault.json_body, fault.status, fault.headers)
    named = any(name.lower() == "content-type" for name in fault.headers)
    media = None if named or fault.body is None else "text/plain"
    return Response(fault.body or "", fault.status, fault.headers, media_type=media)


def _from_header(header: bytes) -> Hit:
    if header == REPEATED_HEADER:
        raise InvalidRequest("X-Mock-Fault: header given more than once; send one fault")
    data: Any = parse_json(header.decode("latin-1"), "X-Mock-Fault")
    try:
        return Hit(FaultOnly.model_validate({"fault": data}).fault, "header")
    except ValidationError as exc:
        raise InvalidRequest(f"X-Mock-Fault: {describe(exc)}") from None


def chosen_fault(scope: Any) -> Hit | None:
    hit: Hit | None = scope.get(FAULT_SCOPE_KEY)
    return hit


def event_fault(request: Request) -> EventFault | None:
    """A fault that counts a stream's events, for the turn stream to apply; a ``drop``
    without ``after_events`` is a lost response, which the delivery layer applies."""
    hit = chosen_fault(request.scope)
    if hit is None or getattr(hit.fault, "after_events", None) is None:
        return None
    fault: EventFault = hit.fault
    return fault
