"""The skills routes (K1–K4): install from a zip body, list, uninstall. Tenant-wide: no
session in the path, a key required (A2).

The name is checked before a byte of the body is read, and a ``Content-Length`` over the
bundle limit is refused at once, as an upload's is (F3); the body itself is read with the
same bounds as an upload (`files.without_stalls`), then unpacked off the event loop
(`mock_pokee.domain.skills`).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from mock_pokee.api.answers import JSONResponse
from mock_pokee.api.context import context, tenant_for
from mock_pokee.api.files import declares_more_than, without_stalls
from mock_pokee.api.routing import Endpoint
from mock_pokee.domain.errors import PayloadTooLarge
from mock_pokee.domain.skills import check_skill_name
from mock_pokee.limits import MAX_BUNDLE_BYTES


async def install_skill(request: Request) -> Response:
    """K1, K2: ``201 {"name", "files", "total_bytes", "skill_md_size"}``."""
    tenant = tenant_for(request)
    name = check_skill_name(request.path_params["name"])
    tenant.skills.check_room(name)
    if declares_more_than(request.headers.get("content-length"), MAX_BUNDLE_BYTES):
        raise PayloadTooLarge(
            f"body: Content-Length is over the limit of {MAX_BUNDLE_BYTES:,} bytes for a "
            "skill bundle (the zip as sent)"
        )
    body = without_stalls(request.stream(), context(request).body_timeout)
    record = await tenant.install_skill(name, body)
    return JSONResponse(record.installed(), status_code=201)


async def list_skills(request: Request) -> Response:
    """K3: the installed skills, sorted by name."""
    tenant = tenant_for(request)
    return JSONResponse([record.listed() for record in tenant.skills.listing()])


async def delete_skill(request: Request) -> Response:
    """K3: 204, or 404 for a skill that is not installed."""
    tenant = tenant_for(request)
    await tenant.delete_skill(request.path_params["name"])
    return Response(status_code=204)


ENDPOINTS: dict[str, dict[str, Endpoint]] = {
    "/v1/skills": {"GET": Endpoint(list_skills)},
    "/v1/skills/{name}": {
        "POST": Endpoint(install_skill),
        "DELETE": Endpoint(delete_skill),
    },
}
