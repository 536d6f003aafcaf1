"""A run's events as an SSE response, for both surfaces (a turn, M; a response, R).

Every stream is a reader of the run's log (see `mock_pokee.domain.events`); closing it
never touches the run. The headers both surfaces read the same way are here too: the
scenario a call forces (C6), its ``Idempotency-Key`` (M9, R6) and the position a resume
starts after (M7, R6).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import aclosing

from sse_starlette import EventSourceResponse
from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from mock_pokee.api.bodies import single_header
from mock_pokee.api.connection import Cut
from mock_pokee.api.context import RESPONSE_ID_SCOPE_KEY, context, params
from mock_pokee.domain.errors import InvalidRequest
from mock_pokee.domain.events import Drop, Event, Ping
from mock_pokee.domain.faults import (
    CutFrameFault,
    DropFault,
    EventFault,
    MalformedFault,
    StallFault,
)
from mock_pokee.domain.inputs import whole_number
from mock_pokee.domain.runbook import check_idempotency_key
from mock_pokee.domain.runs import Run

SCENARIO_HEADER = "X-Mock-Scenario"
PING_FRAME = b": ping\n\n"
SHUTDOWN_GRACE = 1.0  # seconds a stream has at shutdown to send its run's last event


def frame(event: Event) -> bytes:
    """M3: ``id``, ``event``, ``data`` (one line of JSON) and a blank line; no ``retry``."""
    return f"id: {event.seq}\nevent: {event.type}\ndata: {event.data}\n\n".encode()


def malformed_frame(event: Event) -> bytes:
    """The frame of ``event`` with its data cut in half: not JSON (C5 ``malformed``)."""
    half = event.data[: len(event.data) // 2]
    return f"id: {event.seq}\nevent: {event.type}\ndata: {half}\n\n".encode()


class RunStream(EventSourceResponse):
    """One reader of a run's log, as an SSE response (M3), with ``X-Response-Id``.

    Pings come from the log reader on the mock's clock, so the library's own are off.
    When the server stops it ends every running run first; the library, which notices a
    stop on its own, gives the stream `SHUTDOWN_GRACE` to send that terminal event.
    The connection is cut (see `Cut`) at a scenario's ``drop`` step and where a fault
    that counts this stream's events says so; events are framed here, as bytes, because
    a ``cut_frame`` fault needs half of one.
    """

    def __init__(self, run: Run, after: int, *, live: bool, fault: EventFault | None = None):
        super().__init__(
            self._frames(run, after, live, fault),
            ping=0,
            sep="\n",
            shutdown_grace_period=SHUTDOWN_GRACE,
            headers={"X-Response-Id": run.id},
        )
        self.response_id = run.id

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope[RESPONSE_ID_SCOPE_KEY] = self.response_id
        await super().__call__(scope, receive, send)

    @staticmethod
    async def _frames(
        run: Run, after: int, live: bool, fault: EventFault | None
    ) -> AsyncIterator[bytes]:
        sent = 0
        async with aclosing(run.log.read(after, live=live)) as items:
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


def forced_scenario(request: Request) -> str | None:
    """C6: the scenario ``X-Mock-Scenario`` names (only with the control plane on), which
    must be one of those loaded."""
    ctx = context(request)
    forced = single_header(request, SCENARIO_HEADER) if ctx.control else None
    if forced is not None and forced not in ctx.scenarios:
        raise InvalidRequest(
            f"{SCENARIO_HEADER}: unknown scenario {forced!r}; known: {ctx.scenarios.names()}"
        )
    return forced


def idempotency_key(request: Request) -> str | None:
    """M9, R6: the request's ``Idempotency-Key``, checked, or None."""
    key = single_header(request, "Idempotency-Key")
    return None if key is None else check_idempotency_key(key)


def last_event_id(request: Request) -> int:
    """M7, R6: where a resume starts after: ``Last-Event-ID``, else ``?last_event_id``,
    else -1 (from the start). The header wins, but both must be well formed."""
    header = single_header(request, "Last-Event-ID")
    after = -1
    for name, value in (
        ("last_event_id", params(request).get("last_event_id")),
        ("Last-Event-ID", header),
    ):
        if value is not None:
            after = whole_number(value, name)
    return after
