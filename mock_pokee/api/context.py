"""What every route needs from the running server, and how a request finds its tenant."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request

from mock_pokee.domain.errors import Unauthorized
from mock_pokee.domain.keys import KeyPolicy, tenant_of
from mock_pokee.domain.tenants import Tenant, TenantRegistry
from mock_pokee.domain.whole_server import WholeServerPolicy
from mock_pokee.limits import HEADER_CACHE_SIZE
from mock_pokee.requestlog import RequestLog
from mock_pokee.scenarios.loader import ScenarioBook

# ASGI scope keys: the caller's tenant once its key is checked (its clock dates the
# answer, its journal records it), and the query parameters the dispatcher accepted.
CONTEXT_SCOPE_KEY = "mock_pokee.context"  # the server's context, put there by the middleware
TENANT_SCOPE_KEY = "mock_pokee.tenant"
PARAMS_SCOPE_KEY = "mock_pokee.params"
# Left by routes for the journal (C4): the session a request made (S2), and the response
# a stream carries (M1), where the path does not name them.
SESSION_SCOPE_KEY = "mock_pokee.session"
# The two headers every request is checked for, found by the middleware in one pass over
# the raw headers: ``(authorization, x-mock-fault)``, each bytes or None.
HEADERS_SCOPE_KEY = "mock_pokee.headers"
# What the middleware puts in place of one of those two headers when a request gives it
# more than once (no real header value is a line feed): which key, which fault, is then
# ambiguous, so the request is refused (A2: 401; C5: 400).
REPEATED_HEADER = b"\n"
RESPONSE_ID_SCOPE_KEY = "mock_pokee.response_id"


@dataclass
class ServerContext:
    tenants: TenantRegistry
    keys: KeyPolicy
    scenarios: ScenarioBook
    control: bool
    upload_limit: int
    body_timeout: float = 30.0  # real seconds an upload's body may stall
    request_log: RequestLog | None = None  # the terminal's one line per request
    whole_server: WholeServerPolicy = field(default_factory=WholeServerPolicy)
    # Unexpected exceptions (500s), kept so the test harness can fail the test that caused one.
    errors: list[BaseException] = field(default_factory=list)
    _tenant_ids: dict[bytes, str] = field(default_factory=dict)

    def tenant_id_for(self, header: bytes | None) -> str:
        """The tenant an Authorization header names. Accepted headers are remembered: the
        same few keys arrive on every request, and parsing them is a hot path."""
        if header is not None and (tenant_id := self._tenant_ids.get(header)) is not None:
            return tenant_id
        if header == REPEATED_HEADER:
            raise Unauthorized("Authorization: header given more than once; send one key")
        text = None if header is None else header.decode("latin-1")
        tenant_id = tenant_of(self.keys.key_from_header(text))
        if len(self._tenant_ids) >= HEADER_CACHE_SIZE:
            self._tenant_ids.clear()
        self._tenant_ids[header or b""] = tenant_id
        return tenant_id

    def is_admin(self, header: bytes) -> bool:
        """Whether an Authorization header carries the admin key (C2)."""
        if self.whole_server.admin_key is None or header == REPEATED_HEADER:
            return False
        key = self.keys.key_from_header(header.decode("latin-1"), listed_only=False)
        return self.whole_server.is_admin(key)


def context(request: Request) -> ServerContext:
    ctx: ServerContext = request.scope[CONTEXT_SCOPE_KEY]
    return ctx


def tenant_for(request: Request) -> Tenant:
    """A2/A3: the caller's tenant, or `Unauthorized` naming what is wrong with the header."""
    tenant: Tenant | None = request.scope.get(TENANT_SCOPE_KEY)
    if tenant is not None:
        return tenant
    ctx = context(request)
    tenant_id = ctx.tenant_id_for(request.scope[HEADERS_SCOPE_KEY][0])
    tenant = ctx.tenants.get(tenant_id)
    request.scope[TENANT_SCOPE_KEY] = tenant
    return tenant


def optional_tenant_for(request: Request) -> Tenant | None:
    """C2: a control request with a key acts on that tenant; without one (or with the
    admin key), on the whole server, if `WholeServerPolicy` allows it."""
    header = request.scope[HEADERS_SCOPE_KEY][0]
    ctx = context(request)
    admin = header is not None and ctx.is_admin(header)
    if header is not None and not admin:
        return tenant_for(request)
    ctx.whole_server.check(request.headers.get("host"), admin=admin)
    return None


def params(request: Request) -> dict[str, str]:
    """The query parameters the route's declaration accepted (see `routing.Endpoint`)."""
    accepted: dict[str, str] = request.scope[PARAMS_SCOPE_KEY]
    return accepted


def scope_tenant(scope: Any) -> Tenant | None:
    """The tenant a request named, if it got that far (for the journal and Date header)."""
    tenant: Tenant | None = scope.get(TENANT_SCOPE_KEY)
    return tenant
