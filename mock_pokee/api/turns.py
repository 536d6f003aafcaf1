"""The message routes (M1, M7, M8, M9, M12, C6): start a turn and stream it, resume,
cancel, answer its client tool calls.

Every stream is a reader of the turn's log (see `mock_pokee.api.streams`); closing it
never touches the turn.
"""

from __future__ import annotations

import hashlib
import json
from typing import Literal

from pydantic import Field, StrictStr
from starlette.requests import Request
from starlette.responses import Response

from mock_pokee.api.answers import JSONResponse
from mock_pokee.api.bodies import read_json
from mock_pokee.api.context import context, tenant_for
from mock_pokee.api.injection import event_fault, inject
from mock_pokee.api.routing import Endpoint
from mock_pokee.api.streams import RunStream, forced_scenario, idempotency_key, last_event_id
from mock_pokee.domain.strict import StrictBody
from mock_pokee.domain.toolcalls import ToolResult
from mock_pokee.scenarios.runner import ScenarioRun


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


def _body_hash(message: MessageBody) -> str:
    return hashlib.sha256(json.dumps(message.model_dump(), sort_keys=True).encode()).hexdigest()


async def post_message(request: Request) -> Response:
    """M1 (and M2, M9, M11, C6; C5 once the scenario is known)."""
    tenant = tenant_for(request)
    body = await read_json(request, MessageBody)
    forced = forced_scenario(request)
    session = tenant.get_session(request.path_params["session_id"])
    scenario = context(request).scenarios.choose(body.message, forced, session.tools)
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
    if start.run is None:
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
    return RunStream(start.run, -1, live=start.started, fault=event_fault(request))


async def resume_events(request: Request) -> Response:
    """M7: replay from ``Last-Event-ID`` (or ``?last_event_id``), then follow live."""
    tenant = tenant_for(request)
    session_id = request.path_params["session_id"]
    tenant.get_session(session_id)
    turn = tenant.turns.get(session_id, request.path_params["response_id"])
    after = last_event_id(request)
    if (answer := await inject(request, turn.scenario)) is not None:
        return answer
    return RunStream(turn, after, live=False, fault=event_fault(request))


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
