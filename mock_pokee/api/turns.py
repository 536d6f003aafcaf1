"""The message routes (M1, M7, M8, M9, C6): start a turn and stream it, resume, cancel.

Every stream is a reader of the turn's log (see `mock_pokee.domain.turns`); closing it
never touches the turn.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator

from pydantic import BaseModel, ConfigDict, Field, StrictStr
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from mock_pokee.api.bodies import query, read_json
from mock_pokee.api.context import context, tenant_for
from mock_pokee.api.routing import Handler
from mock_pokee.domain.errors import InvalidRequest
from mock_pokee.domain.turns import Drop, Event, Ping, Turn
from mock_pokee.scenarios.runner import ScenarioRun

SCENARIO_HEADER = "x-mock-scenario"


class MessageBody(BaseModel):
    """M1: ``{"message": "<non-empty text>"}``."""

    model_config = ConfigDict(extra="forbid")

    message: StrictStr = Field(min_length=1)


class StreamDropped(Exception):
    """Raised by a live reader at a scenario's ``drop`` step."""


class TurnStream(EventSourceResponse):
    """SSE framing of M3: ``id``, ``event``, ``data`` lines and a blank line; no ``retry``.

    Pings come from the log reader on the mock's clock, so the library's own are off. A
    `StreamDropped` ends the response without its final chunk: the client sees the
    connection cut, as with a real dropped stream.
    """

    def __init__(self, turn: Turn, after: int, *, live: bool):
        super().__init__(
            self._frames(turn, after, live),
            ping=0,
            sep="\n",
            headers={"X-Response-Id": turn.id},
        )

    @staticmethod
    async def _frames(turn: Turn, after: int, live: bool) -> AsyncIterator[ServerSentEvent]:
        async for item in turn.log.read(after, live=live):
            if isinstance(item, Event):
                yield ServerSentEvent(data=item.data, event=item.type, id=str(item.seq), sep="\n")
            elif isinstance(item, Ping):
                yield ServerSentEvent(comment="ping", sep="\n")
            elif isinstance(item, Drop):
                raise StreamDropped

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        except* StreamDropped:
            pass  # returning with the response unfinished makes the server cut the connection


def _body_hash(message: MessageBody) -> str:
    return hashlib.sha256(json.dumps(message.model_dump(), sort_keys=True).encode()).hexdigest()


async def post_message(request: Request) -> Response:
    """M1 (and M2, M9, M11, C6)."""
    tenant = tenant_for(request)
    query(request, ())
    body = await read_json(request, MessageBody)
    ctx = context(request)
    forced = request.headers.get(SCENARIO_HEADER) if ctx.control else None
    scenario = ctx.scenarios.choose(body.message, forced)
    start = tenant.start_turn(
        request.path_params["session_id"],
        body.message,
        scenario.name,
        lambda effects: ScenarioRun(scenario, effects),
        idempotency_key=request.headers.get("idempotency-key"),
        body_hash=_body_hash(body),
    )
    if start.turn is None:
        return JSONResponse(
            {
                "response_id": start.response_id,
                "status": "replayed",
                "note": "this turn has ended and its events are no longer buffered; "
                "GET the session for its outcome",
            }
        )
    # Only the stream that started the turn honours a scenario's drop; a retry is the
    # recovery path and reads to the end.
    return TurnStream(start.turn, -1, live=start.started)


async def resume_events(request: Request) -> Response:
    """M7: replay from ``Last-Event-ID`` (or ``?last_event_id``), then follow live."""
    tenant = tenant_for(request)
    params = query(request, ("last_event_id",))
    session_id = request.path_params["session_id"]
    tenant.get_session(session_id)
    turn = tenant.turns.get(session_id, request.path_params["response_id"])
    header = request.headers.get("last-event-id")
    return TurnStream(turn, _last_event_id(header, params.get("last_event_id")), live=False)


def _last_event_id(header: str | None, param: str | None) -> int:
    for name, value in (("Last-Event-ID", header), ("last_event_id", param)):
        if value is not None:
            if not value.isascii() or not value.isdigit():
                raise InvalidRequest(f"{name}: must be a non-negative integer, not {value!r}")
            return int(value)
    return -1


async def cancel(request: Request) -> Response:
    """M8: 202 while running (the stream ends with message.cancelled), 200 after the end."""
    tenant = tenant_for(request)
    query(request, ())
    session_id = request.path_params["session_id"]
    tenant.get_session(session_id)
    turn = tenant.turns.get(session_id, request.path_params["response_id"])
    if turn.running:
        turn.end("cancelled")
        return JSONResponse({"response_id": turn.id, "status": "cancelling"}, status_code=202)
    return JSONResponse({"response_id": turn.id, "status": "already_complete"})


ENDPOINTS: dict[str, dict[str, Handler]] = {
    "/v1/sessions/{session_id}/messages": {"POST": post_message},
    "/v1/sessions/{session_id}/responses/{response_id}/events": {"GET": resume_events},
    "/v1/sessions/{session_id}/responses/{response_id}/cancel": {"POST": cancel},
}
