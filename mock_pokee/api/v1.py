"""The ``/v1`` routes built so far: sessions (S1–S6) and usage (U1), plus ``/health`` (A6)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mock_pokee.api import files, turns
from mock_pokee.api.bodies import query, read_json
from mock_pokee.api.context import tenant_for
from mock_pokee.api.routing import Handler, route
from mock_pokee.domain.filters import SessionFilter
from mock_pokee.domain.sessions import SessionSpec


async def health(request: Request) -> Response:
    """A6: no auth, ever."""
    return JSONResponse({"status": "ok"})


async def create_session(request: Request) -> Response:
    """S1/S2."""
    tenant = tenant_for(request)
    query(request, ())
    spec = await read_json(request, SessionSpec, optional=True)
    return JSONResponse(tenant.create_session(spec).record(), status_code=201)


async def list_sessions(request: Request) -> Response:
    """S3: the tenant's sessions, oldest first."""
    tenant = tenant_for(request)
    query(request, ())
    return JSONResponse([s.record() for s in tenant.list_sessions()])


async def delete_sessions(request: Request) -> Response:
    """S6: bulk delete by filter; never without one."""
    tenant = tenant_for(request)
    params = query(request, ("status", "older_than"))
    selection = SessionFilter.parse(params.get("status"), params.get("older_than"))
    return JSONResponse({"deleted": tenant.delete_sessions(selection)})


async def get_session(request: Request) -> Response:
    """S4."""
    tenant = tenant_for(request)
    query(request, ())
    return JSONResponse(tenant.get_session(request.path_params["session_id"]).record())


async def delete_session(request: Request) -> Response:
    """S5."""
    tenant = tenant_for(request)
    query(request, ())
    tenant.delete_session(request.path_params["session_id"])
    return Response(status_code=204)


async def usage(request: Request) -> Response:
    """U1."""
    tenant = tenant_for(request)
    query(request, ())
    return JSONResponse(tenant.usage.report(tenant.id, tenant.clock.now()))


# Path → method → handler; the OpenAPI document lists exactly these (a test checks it).
# Session polling is the hot path, so its route is matched first.
ENDPOINTS: dict[str, dict[str, Handler]] = {
    "/v1/sessions/{session_id}": {"GET": get_session, "DELETE": delete_session},
    "/v1/sessions": {"POST": create_session, "GET": list_sessions, "DELETE": delete_sessions},
    "/v1/usage": {"GET": usage},
    "/health": {"GET": health},
}

ENDPOINTS.update(turns.ENDPOINTS)
ENDPOINTS.update(files.ENDPOINTS)

routes = [route(path, handlers) for path, handlers in ENDPOINTS.items()]
