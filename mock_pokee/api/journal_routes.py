"""``/_mock/journal`` (C4): read with filters, incrementally with ``since``; clear.

With a key, the caller's tenant's journal; without one, the server's own and every
tenant's, merged in the order things happened (C2).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from mock_pokee.api.answers import JSONResponse
from mock_pokee.api.context import context, optional_tenant_for, params
from mock_pokee.domain.journal import JournalQuery, read_merged

FILTERS = ("kind", "method", "path", "session", "since")


async def read(request: Request) -> Response:
    tenant = optional_tenant_for(request)
    query = JournalQuery.parse(params(request))
    if tenant is not None:
        return JSONResponse(tenant.journal.read(query))
    tenants = context(request).tenants
    journals = [(None, tenants.journal), *((t.id, t.journal) for t in tenants)]
    return JSONResponse(read_merged(journals, query))


async def clear(request: Request) -> Response:
    tenant = optional_tenant_for(request)
    if tenant is not None:
        tenant.journal.clear()
    else:
        tenants = context(request).tenants
        tenants.journal.clear()
        for each in tenants:
            each.journal.clear()
    return Response(status_code=204)
