"""The stateless responses routes (R1–R8): one call answered as JSON or streamed in
OpenAI's events, its resume and its cancel.

A call is a run like a turn: the stream is a reader of its log (`mock_pokee.api.streams`),
and a JSON answer waits for the same log to close and sends the object its terminal
event carries, so the two answers of one request are the same response (R5).
"""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import Response

from mock_pokee.api.answers import JSONResponse
from mock_pokee.api.bodies import read_body
from mock_pokee.api.context import RESPONSE_ID_SCOPE_KEY, context, tenant_for
from mock_pokee.api.injection import event_fault, inject
from mock_pokee.api.routing import Endpoint
from mock_pokee.api.streams import RunStream, forced_scenario, idempotency_key, last_event_id
from mock_pokee.domain.response_input import read_request
from mock_pokee.limits import MAX_JSON_BODY, MAX_RESPONSE_BODY
from mock_pokee.scenarios.responder import ResponseScript, plan


async def create_response(request: Request) -> Response:
    """R1–R5, R7, R8 (and C5 once the scenario is known, C6)."""
    tenant = tenant_for(request)
    raw = await read_body(request, MAX_RESPONSE_BODY)
    models = tenant.rules.models
    if len(raw) > MAX_JSON_BODY:  # linear, but long enough to hold other requests up
        call, body_hash = await asyncio.to_thread(read_request, raw, models)
    else:
        call, body_hash = read_request(raw, models)
    forced = forced_scenario(request)
    chosen = context(request).scenarios.choose_response(call.last_user_message, forced, call.tools)
    name, steps = plan(chosen, call)
    if (answer := await inject(request, name)) is not None:
        return answer
    start = tenant.start_response(
        call,
        name,
        ResponseScript(steps),
        # R1 [C]: a key names a stream to come back to; a JSON call has none.
        idempotency_key=idempotency_key(request) if call.stream else None,
        body_hash=body_hash,
    )
    request.scope[RESPONSE_ID_SCOPE_KEY] = start.response_id
    run = start.run
    if run is None:
        return JSONResponse(
            {
                "response_id": start.response_id,
                "status": "replayed",
                "note": "this response has ended and its buffered events were evicted; "
                "send the request again without the key for a new answer",
            },
            headers={"X-Response-Id": start.response_id},
        )
    if call.stream:
        # Only the stream that started the call honours a scenario's drop (as for turns).
        return RunStream(run, -1, live=start.started, fault=event_fault(request))
    await run.log.until_closed()
    return JSONResponse(run.answer, headers={"X-Response-Id": run.id})


async def resume_events(request: Request) -> Response:
    """R6: replay from ``Last-Event-ID`` (or ``?last_event_id``), then follow live."""
    tenant = tenant_for(request)
    run = tenant.responses.find(request.path_params["response_id"])
    after = last_event_id(request)
    if (answer := await inject(request, run.scenario)) is not None:
        return answer
    return RunStream(run, after, live=False, fault=event_fault(request))


async def cancel(request: Request) -> Response:
    """R6: 202 while running (the stream ends with response.cancelled, and the call is
    not billed), 200 after the end."""
    tenant = tenant_for(request)
    run = tenant.responses.find(request.path_params["response_id"])
    if run.running:
        run.end("cancelled")
        return JSONResponse({"response_id": run.id, "status": "cancelling"}, status_code=202)
    return JSONResponse({"response_id": run.id, "status": "already_complete"})


ENDPOINTS: dict[str, dict[str, Endpoint]] = {
    "/v1/responses": {"POST": Endpoint(create_response, faults="handler")},
    "/v1/responses/{response_id}/events": {
        "GET": Endpoint(resume_events, query=("last_event_id",), faults="handler")
    },
    "/v1/responses/{response_id}/cancel": {"POST": Endpoint(cancel)},
}
