"""Routes declared once: per path, per method, a handler and what is checked before it.

Each `Endpoint` says whether it needs a key (A2), which query parameters it accepts (A8)
and where its faults are decided (C5); the dispatcher does those checks, in that order,
so no handler repeats them and none can forget one.

One route per path dispatches on the method itself: Starlette's per-route ``methods``
would split a path over several routes, and a 405 would then name only the first route's
methods; here the Allow header is always complete (A5). It is also lighter than a
class-based endpoint on the hot path (a session poll).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from mock_pokee.api.bodies import query
from mock_pokee.api.context import PARAMS_SCOPE_KEY, optional_tenant_for, tenant_for
from mock_pokee.api.injection import act, decide
from mock_pokee.domain.errors import InvalidRequest

Handler = Callable[[Request], Awaitable[Response]]
# "key": a tenant's key is required (A2); "optional": with a key the request acts on
# that tenant, without one on the whole server (C2); "none": no key is looked at (A6).
Auth = Literal["key", "optional", "none"]
# "before": faults are decided before the handler runs; "handler": the handler decides
# them once it knows the scenario (M1, M7); "never": the control plane is never faulted.
FaultPoint = Literal["before", "handler", "never"]


@dataclass(frozen=True)
class Endpoint:
    handler: Handler
    query: tuple[str, ...] | None = ()  # None: the query string is not looked at
    auth: Auth = "key"
    faults: FaultPoint = "before"
    # The control plane changes the whole server without a key: a page of another site
    # open in the user's browser must not be able to (see `refuse_other_sites`).
    same_site: bool = False


class _ByMethod:
    """An ASGI app (so Starlette's Route lets every method through to it).

    It calls its handler itself rather than through Starlette's ``request_response``: that
    wrapper catches exceptions with the same app-wide handlers as the app's own
    ``ExceptionMiddleware`` does one layer out, and the second layer cost about 5% of a
    session read.
    """

    def __init__(self, endpoints: Mapping[str, Endpoint]):
        self.endpoints = dict(endpoints)
        methods = [*endpoints, "HEAD"] if "GET" in endpoints else list(endpoints)
        self.allowed = ", ".join(methods)

    async def dispatch(self, request: Request) -> Response:
        endpoint = self.endpoints.get("GET" if request.method == "HEAD" else request.method)
        if endpoint is None:
            raise HTTPException(405, headers={"Allow": self.allowed})
        if endpoint.same_site and request.method not in ("GET", "HEAD"):
            refuse_other_sites(request)
        if endpoint.auth == "key":
            tenant_for(request)
        elif endpoint.auth == "optional":
            optional_tenant_for(request)
        if endpoint.query is not None:
            given = query(request, endpoint.query) if request.scope["query_string"] else {}
            request.scope[PARAMS_SCOPE_KEY] = given
        if endpoint.faults == "before" and (hit := decide(request)) is not None:
            answer = await act(request, hit)
            if answer is not None:
                return answer
        return await endpoint.handler(request)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self.dispatch(Request(scope, receive))  # no handler pushes
        await response(scope, receive, send)


def refuse_other_sites(request: Request) -> None:
    """A browser names the page a request comes from in ``Origin``; programs (curl, httpx,
    the test harness) send none. Only the mock's own pages (the inspector) may change it."""
    origin = request.headers.get("origin")
    if origin is None:
        return
    if urlsplit(origin).netloc != request.headers.get("host"):
        raise InvalidRequest(
            f"Origin: a page of {origin} may not change the mock; the control plane takes "
            "requests from programs and from the mock's own pages only"
        )


def route(path: str, endpoints: Mapping[str, Endpoint]) -> Route:
    """A route serving ``endpoints`` by method (HEAD answers as GET does)."""
    return Route(path, _ByMethod(endpoints))
