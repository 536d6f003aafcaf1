"""The middleware every HTTP request passes through, outermost (even outside Starlette's
own error handling, so that it holds the server's real ``send``):

- the ``Date`` header, from the caller's clock (C1, C2); uvicorn's own is switched off;
- the journal's request entry (C4), recorded when the answer starts, completed when it
  ends; requests to the control plane are not journaled (they would drown the rest);
- the faults that shape a response's bytes (C5, see `delivery`), and the cut of a
  connection that a fault or a scenario's ``drop`` step asked for;
- the terminal's request line, when there is a request log.
"""

from __future__ import annotations

import time
from email.utils import formatdate
from functools import lru_cache
from typing import TYPE_CHECKING

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mock_pokee.api.connection import Connection, Cut
from mock_pokee.api.context import RESPONSE_ID_SCOPE_KEY, SESSION_SCOPE_KEY, scope_tenant
from mock_pokee.api.delivery import Delivery, delivery_for
from mock_pokee.api.injection import chosen_fault
from mock_pokee.domain.journal import RequestRecord

if TYPE_CHECKING:
    from mock_pokee.api.context import ServerContext


@lru_cache(maxsize=256)
def http_date(second: int) -> bytes:
    """The header value for one whole second; cached, as formatting costs more than the
    rest of a small response's headers together."""
    return formatdate(second, usegmt=True).encode()


class MockMiddleware:
    def __init__(self, app: ASGIApp, ctx: ServerContext):
        self.app = app
        self.ctx = ctx

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        ctx = self.ctx
        started = time.perf_counter()
        connection = Connection(send)
        journaled = not scope["path"].startswith("/_mock")
        record = RequestRecord(scope["method"], scope["path"], scope["headers"])
        delivery: Delivery | None = None

        async def counting_receive() -> Message:
            message = await receive()
            record.body_size += len(message.get("body", b""))
            return message

        async def send_with_effects(message: Message) -> None:
            nonlocal delivery
            if message["type"] == "http.response.start":
                tenant = scope_tenant(scope)
                clock = tenant.clock if tenant is not None else ctx.tenants.clock
                date = http_date(int(clock.now()))
                message["headers"] = [*message.get("headers", ()), (b"date", date)]
                hit = chosen_fault(scope)
                if hit is not None:
                    record.fault = hit.rule
                    delivery = delivery_for(hit, message, connection, receive)
                if delivery is not None:
                    await delivery.send(message, send)  # a lost response raises `Cut` here
                else:
                    await send(message)
                record.status = message["status"]
                if journaled:
                    self._journal(scope, record)
                return
            if delivery is not None:
                await delivery.send(message, send)
            else:
                await send(message)
            if not message.get("more_body"):
                record.outcome = "complete"

        try:
            await self.app(scope, counting_receive if journaled else receive, send_with_effects)
        except Cut:
            record.outcome = "cut" if record.status is not None else "no_response"
            if journaled and record.status is None:
                self._journal(scope, record)  # it never got an answer to record it by
            await connection.cut(receive)
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

    def _journal(self, scope: Scope, record: RequestRecord) -> None:
        tenant = scope_tenant(scope)
        record.response_id = scope.get(RESPONSE_ID_SCOPE_KEY)
        session = scope.get("path_params", {}).get("session_id") or scope.get(SESSION_SCOPE_KEY)
        if tenant is not None:
            tenant.journal.record_lazy(tenant.clock.now(), "request", session, record)
        else:
            tenants = self.ctx.tenants
            tenants.journal.record_lazy(tenants.clock.now(), "request", session, record)
