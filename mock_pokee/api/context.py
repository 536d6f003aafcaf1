"""What every route needs from the running server, and how a request finds its tenant."""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.requests import Request

from mock_pokee.domain.keys import KeyPolicy, tenant_of
from mock_pokee.domain.tenants import Tenant, TenantRegistry
from mock_pokee.scenarios.loader import ScenarioBook

# The ASGI scope key under which a route leaves the clock whose time the Date header shows.
CLOCK_SCOPE_KEY = "mock_pokee.clock"


# How many distinct Authorization headers `ServerContext` remembers the tenant of.
_HEADER_CACHE_SIZE = 4096


@dataclass
class ServerContext:
    tenants: TenantRegistry
    keys: KeyPolicy
    scenarios: ScenarioBook
    control: bool
    upload_limit: int
    # Unexpected exceptions (500s), kept so the test harness can fail the test that caused one.
    errors: list[BaseException] = field(default_factory=list)
    _tenant_ids: dict[str, str] = field(default_factory=dict)

    def tenant_id_for(self, header: str | None) -> str:
        """The tenant an Authorization header names. Accepted headers are remembered: the
        same few keys arrive on every request, and parsing them is a hot path."""
        if header is not None and (tenant_id := self._tenant_ids.get(header)) is not None:
            return tenant_id
        tenant_id = tenant_of(self.keys.key_from_header(header))
        if len(self._tenant_ids) >= _HEADER_CACHE_SIZE:
            self._tenant_ids.clear()
        self._tenant_ids[header or ""] = tenant_id
        return tenant_id


def context(request: Request) -> ServerContext:
    ctx: ServerContext = request.app.state.mock
    return ctx


def tenant_for(request: Request) -> Tenant:
    """A2/A3: the caller's tenant, or `Unauthorized` naming what is wrong with the header."""
    ctx = context(request)
    tenant_id = ctx.tenant_id_for(request.headers.get("authorization"))
    return _enter(request, ctx.tenants.get(tenant_id))


def optional_tenant_for(request: Request) -> Tenant | None:
    """C2: a control request with a key acts on that tenant; without one, on the server."""
    if "authorization" not in request.headers:
        return None
    return tenant_for(request)


def _enter(request: Request, tenant: Tenant) -> Tenant:
    request.scope[CLOCK_SCOPE_KEY] = tenant.clock
    return tenant
