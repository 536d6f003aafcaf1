"""``/_mock/faults`` (C5): add, list, delete fault rules.

With a key, the caller's tenant's rules; without one, the server's own rules, which apply
to every request, and the listing and deletion reach every tenant's rules too (C2).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from mock_pokee.api.answers import JSONResponse
from mock_pokee.api.bodies import read_json
from mock_pokee.api.context import context, optional_tenant_for
from mock_pokee.domain.errors import InvalidRequest, NotFound
from mock_pokee.domain.faults import FaultBook, RuleSpec
from mock_pokee.scenarios.model import MODEL_ANSWER


def _books(request: Request) -> list[tuple[str | None, FaultBook]]:
    """The books a request acts on: its tenant's, or (keyless) the server's and all."""
    tenant = optional_tenant_for(request)
    if tenant is not None:
        return [(tenant.id, tenant.faults)]
    tenants = context(request).tenants
    return [(None, tenants.faults), *((t.id, t.faults) for t in tenants)]


async def add(request: Request) -> Response:
    tenant = optional_tenant_for(request)
    spec = await read_json(request, RuleSpec)
    scenarios = context(request).scenarios
    wanted = spec.match.scenario
    # R8: a response no scenario scripts runs as the fake model, under its own name.
    if wanted is not None and wanted not in scenarios and wanted != MODEL_ANSWER:
        raise InvalidRequest(
            f"match.scenario: unknown scenario {wanted!r}; known: {scenarios.names()}, "
            f"{MODEL_ANSWER}"
        )
    book = tenant.faults if tenant is not None else context(request).tenants.faults
    return JSONResponse(book.add(spec).describe(), status_code=201)


async def list_rules(request: Request) -> Response:
    keyless = optional_tenant_for(request) is None
    rules: list[dict[str, Any]] = []
    for tenant_id, book in _books(request):
        for rule in book:
            described = rule.describe()
            if keyless:
                described["tenant"] = tenant_id
            rules.append(described)
    return JSONResponse(rules)


async def delete_all(request: Request) -> Response:
    return JSONResponse({"deleted": sum(book.clear() for _, book in _books(request))})


async def delete_one(request: Request) -> Response:
    rule_id = request.path_params["rule_id"]
    for _, book in _books(request):
        if book.get(rule_id) is not None:
            book.remove(rule_id)
            return Response(status_code=204)
    raise NotFound(f"fault rule {rule_id}: not found")
