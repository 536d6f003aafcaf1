"""The ``/v1`` routes: sessions (S1–S6), usage (U1) and ``/health`` (A6); the turns,
files, skills and stateless responses routes come from their own modules."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from mock_pokee.api import files, responses, skills, turns
from mock_pokee.api.answers import JSONResponse
from mock_pokee.api.bodies import read_json
from mock_pokee.api.context import SESSION_SCOPE_KEY, params, tenant_for
from mock_pokee.api.routing import Endpoint, route
from mock_pokee.domain.filters import SessionFilter
from mock_pokee.domain.sessions import SessionSpec


async def health(request: Request) -> Response:
    """A6: no auth, ever."""
    return JSONResponse({"status": "ok"})


async def create_session(request: Request) -> Response:
    """S1/S2."""
    tenant = tenant_for(request)
    spec = await read_json(request, SessionSpec, optional=True)
    session = tenant.create_session(spec)
    request.scope[SESSION_SCOPE_KEY] = session.id  # the journal files the create under it
    return JSONResponse(session.record(), status_code=201)


async def list_sessions(request: Request) -> Response:
    """S3: the tenant's sessions, oldest first."""
    tenant = tenant_for(request)
    return JSONResponse([s.record() for s in tenant.list_sessions()])


async def delete_sessions(request: Request) -> Response:
    """S6: bulk delete by filter; never without one."""
    tenant = tenant_for(request)
    given = params(request)
    selection = SessionFilter.parse(given.get("status"), given.get("older_than"))
    return JSONResponse({"deleted": tenant.delete_sessions(selection)})


async def get_session(request: Request) -> Response:
    """S4."""
    tenant = tenant_for(request)
    return JSONResponse((await tenant.poll_session(request.path_params["session_id"])).record())


async def delete_session(request: Request) -> Response:
    """S5."""
    tenant = tenant_for(request)
    tenant.delete_session(request.path_params["session_id"])
    return Response(status_code=204)


async def usage(request: Request) -> Response:
    """U1."""
    tenant = tenant_for(request)
    return JSONResponse(tenant.usage_report())


# Path → method → handler; the OpenAPI document lists exactly these (a test checks it).
# Session polling is the hot path, so its route is matched first.
ENDPOINTS: dict[str, dict[str, Endpoint]] = {
    "/v1/sessions/{session_id}": {
        "GET": Endpoint(get_session),
        "DELETE": Endpoint(delete_session),
    },
    "/v1/sessions": {
        "POST": Endpoint(create_session),
        "GET": Endpoint(list_sessions),
        "DELETE": Endpoint(delete_sessions, query=("status", "older_than")),
    },
    "/v1/usage": {"GET": Endpoint(usage)},
    "/health": {"GET": Endpoint(health, auth="none", query=None)},
}

ENDPOINTS.update(turns.ENDPOINTS)
ENDPOINTS.update(files.ENDPOINTS)
ENDPOINTS.update(skills.ENDPOINTS)
ENDPOINTS.update(responses.ENDPOINTS)

routes = [route(path, handlers) for path, handlers in ENDPOINTS.items()]
