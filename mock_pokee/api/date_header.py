"""The ``Date`` header follows the caller's clock (C1, C2), not the host's.

uvicorn's own Date header is switched off where the server is started; this pure ASGI
middleware adds the header from the clock the route left in the scope (the tenant's), or
from the server clock for requests that named no tenant.
"""

from __future__ import annotations

from email.utils import formatdate
from functools import lru_cache

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mock_pokee.api.context import CLOCK_SCOPE_KEY
from mock_pokee.clock import Clock


@lru_cache(maxsize=256)
def http_date(second: int) -> bytes:
    """The header value for one whole second; cached, as formatting costs more than the
    rest of a small response's headers together."""
    return formatdate(second, usegmt=True).encode()


class DateHeaderMiddleware:
    def __init__(self, app: ASGIApp, server_clock: Clock):
        self.app = app
        self.server_clock = server_clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_date(message: Message) -> None:
            if message["type"] == "http.response.start":
                clock = scope.get(CLOCK_SCOPE_KEY) or self.server_clock
                date = http_date(int(clock.now()))
                message["headers"] = [*message.get("headers", []), (b"date", date)]
            await send(message)

        await self.app(scope, receive, send_with_date)
