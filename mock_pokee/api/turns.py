"""The message routes (M1, M7, M8, M9, M12, C6): start a turn and stream it, resume,
cancel, answer its client tool calls.

Every stream is a reader of the turn's log (see `mock_pokee.domain.turns`); closing it
never touches the turn.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Literal

from pydantic import Field, StrictStr
from sse_starlette import EventSourceResponse
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from mock_pokee.api.answers import JSONResponse
from mock_pokee.api.bodies import read_json, single_header
from mock_pokee.api.connection import Cut
from mock_pokee.api.context import RESPONSE_ID_SCOPE_KEY, context, params, tenant_for
from mock_pokee.api.injection import event_fault, inject
from mock_pokee.api.routing import Endpoint
from mock_pokee.domain.errors import InvalidRequest
from mock_pokee.domain.faults import (
    CutFrameFault,
    DropFault,
    EventFault,
    MalformedFault,
    StallFault,
)
from mock_pokee.domain.inputs import whole_number
from mock_pokee.domain.strict import StrictBody
from mock_pokee.domain.toolcalls import ToolResult
from mock_pokee.domain.turnbook import check_idempotency_key
from mock_pokee.domain.turns import Drop, Event, Ping, Turn
from mock_pokee.scenarios.runner import ScenarioRun

SCENARIO_HEADER = "X-Mock-Scenario"


class MessageBody(StrictBody):
    """M1: ``{"message": "<non-empty text>"}``."""

    message: StrictStr = Field(min_length=1)


class ToolResultBody(StrictBody):
    """M12: one result, ``{"call_id", "output"}``, which may say it is OpenAI's
    ``{"type": "function_call_output", …}`` item (the wire shape matches OpenAI's)."""

    type: Literal["function_call_output"] | None = None
    call_id: StrictStr
    output: StrictStr


class ToolResultsBody(StrictBody):
    """M12: ``{"results": [{"call_id", "output"}, …]}``, at least one."""

    results: list[ToolResultBody] = Field(min_length=1, fail_fast=True)  # see SessionSpec


PING_FRAME = b": ping\n\n"
SHUTDOWN_GRACE = 1.0  # seconds a stream has at shutdown to send its turn's last event


def frame(event: Event) -> bytes:
    """M3: ``id``, ``event``, ``data`` (one line of JSON) and a blank line; no ``retry``."""
    return f"id: {event.seq}\nevent: {event.type}\ndata: {event.data}\n\n".encode()


def malformed_frame(event: Event) -> bytes:
    """The frame of ``event`` with its data cut in half: not JSON (C5 ``malformed``)."""
    half = event.data[: len(event.data) // 2]
    return f"id: {event.seq}\nevent: {event.type}\ndata: {half}\n\n".encode()


class TurnStream(EventSourceResponse):
    """One reader of a turn's log, as an SSE response (M3).

    Pings come from the log reader on the mock's clock, so the library's own are off.
    When the server stops it ends every running turn first; the library, which notices a
    stop on its own, gives the stream `SHUTDOWN_GRACE` to send that terminal event.
    The connection is cut (see `Cut`) at a scenario's ``drop`` step and where a fault
    that counts this stream's events says so; events are framed here, as bytes, because
    a ``cut_frame`` fault needs half of one.
    """

    def __init__(self, turn: Turn, after: int, *, live: bool, fault: EventFault | None = None):
        super().__init__(
            self._frames(turn, after, live, fault),
            ping=0,
            sep="\n",
            shutdown_grace_period=SHUTDOWN_GRACE,
            headers={"X-Response-Id": turn.id},
        )
        self.response_id = turn.id

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope[RESPONSE_ID_SCOPE_KEY] = self.response_id
        await super().__call__(scope, receive, send)

    @staticmethod
    async def _frames(
        turn: Turn, after: int, live: bool, fault: EventFault | None
    ) -> AsyncIterator[bytes]:
        sent = 0
        async with aclosing(turn.log.read(after, live=live)) as items:
            async for item in items:
                if isinstance(item, Ping):
                    yield PING_FRAME
                elif isinstance(item, Drop):
                    raise Cut
                elif fault is not None and sent == fault.after_events:
                    if isinstance(fault, DropFault):
                        raise Cut
                    if isinstance(fault, CutFrameFault):
                        whole = frame(item)
                        yield whole[: len(whole) // 2]
                        raise Cut
                    if isinstance(fault, StallFault):
                        await asyncio.Event().wait()  # until the client gives up
                    assert isinstance(fault, MalformedFault)
                    yield malformed_frame(item)
                    fault, sent = None, sent + 1  # the stream goes on
                else:
                    yield frame(item)
                    sent += 1


def idempotency_key(request: Request) -> str | None:
    key = single_header(request, "Idempotency-Key")
    return None if key is None else check_idempotency_key(key)


def _body_hash(message: MessageBody) -> str:
    return hashlib.sha256(json.dumps(message.model_dump(), sort_keys=True).encode()).hexdigest()


async def post_message(request: Request) -> Response:
    """M1 (and M2, M9, M11, C6; C5 once the scenario is known)."""
    tenant = tenant_for(request)
    body = await read_json(request, MessageBody)
    ctx = context(request)
    forced = single_header(request, SCENARIO_HEADER) if ctx.control else None
    if forced is not None and forced not in ctx.scenarios:
        raise InvalidRequest(
            f"X-Mock-Scenario: unknown scenario {forced!r}; known: {ctx.scenarios.names()}"
        )
    session = tenant.get_session(request.path_params["session_id"])
    scenario = ctx.scenarios.choose(body.message, forced, session.tools)
    if (answer := await inject(request, scenario.name)) is not None:
        return answer
    start = tenant.start_turn(
        request.path_params["session_id"],
        body.message,
        scenario.name,
        lambda effects: ScenarioRun(scenario, effects),
        idempotency_key=idempotency_key(request),
        body_hash=_body_hash(body),
    )
    if start.turn is None:
        return JSONResponse(
            {
                "response_id": start.response_id,
                "status": "replayed",
                "note": "this turn has ended and its buffered events were evicted; "
                "GET the session for its outcome",
            },
            headers={"X-Response-Id": start.response_id},
        )
    # Only the stream that started the turn honours a scenario's drop; a retry is the
    # recovery path and reads to the end.
    return TurnStream(start.turn, -1, live=start.started, fault=event_fault(request))


async def resume_events(request: Request) -> Response:
    """M7: replay from ``Last-Event-ID`` (or ``?last_event_id``), then follow live."""
    tenant = tenant_for(request)
    session_id = request.path_params["session_id"]
    tenant.get_session(session_id)
    turn = tenant.turns.get(session_id, request.path_params["response_id"])
    header = single_header(request, "Last-Event-ID")
    after = _last_event_id(header, params(request).get("last_event_id"))
    if (answer := await inject(request, turn.scenario)) is not None:
        return answer
    return TurnStream(turn, after, live=False, fault=event_fault(request))


def _last_event_id(header: str | None, param: str | None) -> int:
    """M7: the header wins over the parameter, but both must be well formed."""
    after = -1
    for name, value in (("last_event_id", param), ("Last-Event-ID", header)):
        if value is not None:
            after = whole_number(value, name)
    return after


async def cancel(request: Request) -> Response:
    """M8: 202 while running (the stream ends with message.cancelled), 200 after the end."""
    tenant = tenant_for(request)
    session_id = request.path_params["session_id"]
    tenant.get_session(session_id)
    turn = tenant.turns.get(session_id, request.path_params["response_id"])
    if turn.running:
        turn.end("cancelled")
        return JSONResponse({"response_id": turn.id, "status": "cancelling"}, status_code=202)
    return JSONResponse({"response_id": turn.id, "status": "already_complete"})


async def tool_results(request: Request) -> Response:
    """M12: results for the running turn's pending client tool calls → 202."""
    tenant = tenant_for(request)
    session_id = request.path_params["session_id"]
    tenant.get_session(session_id)
    body = await read_json(request, ToolResultsBody)  # no lone surrogate gets past the JSON
    results = [ToolResult(r.call_id, r.output) for r in body.results]
    accepted = tenant.answer_tool_calls(session_id, results)
    return JSONResponse({"accepted": accepted}, status_code=202)


ENDPOINTS: dict[str, dict[str, Endpoint]] = {
    "/v1/sessions/{session_id}/messages": {"POST": Endpoint(post_message, faults="handler")},
    "/v1/sessions/{session_id}/responses/{response_id}/events": {
        "GET": Endpoint(resume_events, query=("last_event_id",), faults="handler")
    },
    "/v1/sessions/{session_id}/responses/{response_id}/cancel": {"POST": Endpoint(cancel)},
    "/v1/sessions/{session_id}/tool_results": {"POST": Endpoint(tool_results)},
}
