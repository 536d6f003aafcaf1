"""The middleware every HTTP request passes through, outermost (even outside Starlette's
own error handling, so that it holds the server's real ``send``):

- the ``Date`` header, from the caller's clock (C1, C2); uvicorn's own is switched off;
- the journal's request entry (C4), recorded when the answer starts, completed when it
  ends; requests to the control plane are not journaled (they would drown the rest);
- the faults that shape a response's bytes (C5, see `delivery`), and the cut of a
  connection that a fault or a scenario's ``drop`` step asked for;
- the terminal's request line, when there is a request log;
- a WebSocket upgrade, answered here in the A5 shape (the API has none; see
  `refuse_websocket`).
"""

from __future__ import annotations

import json
import time
from email.utils import formatdate
from functools import lru_cache
from typing import TYPE_CHECKING

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mock_pokee.api.connection import Connection, Cut
from mock_pokee.api.context import (
    CONTEXT_SCOPE_KEY,
    HEADERS_SCOPE_KEY,
    REPEATED_HEADER,
    RESPONSE_ID_SCOPE_KEY,
    SESSION_SCOPE_KEY,
    TENANT_SCOPE_KEY,
)
from mock_pokee.api.delivery import Delivery, delivery_for
from mock_pokee.api.injection import chosen_fault
from mock_pokee.domain.journal import RequestRecord, kept_headers, kept_path
from mock_pokee.limits import MAX_TIME

if TYPE_CHECKING:
    from mock_pokee.api.context import ServerContext


# Only these carry a body whose size the journal counts; others skip the receive wrapper.
_METHODS_WITH_BODIES = frozenset({"POST", "PUT", "PATCH"})


_NO_PARAMS: dict[str, str] = {}


@lru_cache(maxsize=256)
def http_date(second: int) -> bytes:
    """The header value for one whole second; cached, as formatting costs more than the
    rest of a small response's headers together. A scaled clock may run past the last
    date HTTP can show; the header then stays at that date."""
    return formatdate(min(second, MAX_TIME), usegmt=True).encode()


class MockMiddleware:
    def __init__(self, app: ASGIApp, ctx: ServerContext):
        self.app = app
        self.ctx = ctx

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "websocket":
                await self.refuse_websocket(scope, receive, send)
            else:
                await self.app(scope, receive, send)
            return
        ctx = self.ctx
        scope[CONTEXT_SCOPE_KEY] = ctx
        authorization = fault = None
        for name, value in scope["headers"]:  # servers give header names in lower case
            if name == b"authorization":
                authorization = value if authorization is None else REPEATED_HEADER
            elif name == b"x-mock-fault":
                fault = value if fault is None else REPEATED_HEADER
        scope[HEADERS_SCOPE_KEY] = (authorization, fault)
        started = time.perf_counter()
        path = scope["path"]
        journaled = not path.startswith("/_mock")
        record = RequestRecord(scope["method"], kept_path(path), kept_headers(scope["headers"]))
        delivery: Delivery | None = None

        async def counting_receive() -> Message:
            message = await receive()
            record.body_size += len(message.get("body", b""))
            return message

        async def send_with_effects(message: Message) -> None:
            nonlocal delivery
            if message["type"] == "http.response.start":
                tenant = scope.get(TENANT_SCOPE_KEY)
                clock = tenant.clock if tenant is not None else ctx.tenants.clock
                now = clock.now()
                message["headers"] = [*message.get("headers", ()), (b"date", http_date(int(now)))]
                hit = chosen_fault(scope)
                if hit is not None:
                    record.fault = hit.rule
                    delivery = delivery_for(hit, message, Connection(send), receive)
                if delivery is not None:
                    await delivery.send(message, send)  # a lost response raises `Cut` here
                else:
                    await send(message)
                record.status = message["status"]
                record.first_byte_ms = round((time.perf_counter() - started) * 1000, 3)
                if journaled:
                    self._journal(scope, record, now)
                return
            if delivery is not None:
                await delivery.send(message, send)
            else:
                await send(message)
            if not message.get("more_body"):
                record.outcome = "complete"

        with_body = journaled and scope["method"] in _METHODS_WITH_BODIES
        try:
            await self.app(scope, counting_receive if with_body else receive, send_with_effects)
        except Cut:
            record.outcome = "cut" if record.status is not None else "no_response"
            if journaled and record.status is None:  # no answer to record it by
                tenant = scope.get(TENANT_SCOPE_KEY)
                clock = tenant.clock if tenant is not None else ctx.tenants.clock
                self._journal(scope, record, clock.now())
            await Connection(send).cut(receive)
        except Exception:
            # Starlette's error handler has answered 500 and kept the error for the test
            # harness; uvicorn need not log it a second time.
            if record.outcome != "complete":
                raise
        finally:
            record.duration_ms = round((time.perf_counter() - started) * 1000, 3)
            if record.outcome == "in_progress":
                record.outcome = "incomplete"
            if ctx.request_log is not None:
                ctx.request_log.add(
                    record.method, record.path, record.status, record.duration_ms, record.outcome
                )

    async def refuse_websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The API is plain HTTP (SSE for streams): an upgrade gets a 400 in the A5 shape,
        through the ASGI extension for answering an upgrade with an HTTP response. A server
        without that extension can only refuse it bare (uvicorn's 403)."""
        await receive()  # websocket.connect
        if "websocket.http.response" not in scope.get("extensions", {}):
            await send({"type": "websocket.close"})
            return
        message = f"GET {scope['path']}: WebSocket is not served; the API is HTTP, SSE for streams"
        body = json.dumps({"error": "invalid_request", "message": message}).encode()
        now = self.ctx.tenants.clock.now()
        await send(
            {
                "type": "websocket.http.response.start",
                "status": 400,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"date", http_date(int(now))),
                ],
            }
        )
        await send({"type": "websocket.http.response.body", "body": body})

    def _journal(self, scope: Scope, record: RequestRecord, now: float) -> None:
        tenant = scope.get(TENANT_SCOPE_KEY)
        record.response_id = scope.get(RESPONSE_ID_SCOPE_KEY)
        session = scope.get("path_params", _NO_PARAMS).get("session_id") or scope.get(
            SESSION_SCOPE_KEY
        )
        journal = tenant.journal if tenant is not None else self.ctx.tenants.journal
        journal.record_lazy(now, "request", session, record)
