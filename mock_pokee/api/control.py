"""The mock-only control plane under ``/_mock`` (C1 clock, C2 namespaces, C3 reset/state,
C6 scenarios, U2 credits; C4 and C5 live in `journal_routes`, `journal_stream` and
`fault_routes`, the inspector page in `inspector`).

Each route acts on the caller's tenant when the request carries a key, and on the whole
server when it does not (C2).
"""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import Response

from mock_pokee.api import fault_routes, inspector, journal_routes, journal_stream
from mock_pokee.api.answers import JSONResponse
from mock_pokee.api.bodies import read_json
from mock_pokee.api.context import context, optional_tenant_for
from mock_pokee.api.control_bodies import ClockAdvance, ClockUpdate, CreditsUpdate
from mock_pokee.api.control_openapi import control_openapi
from mock_pokee.api.routing import Endpoint, Handler, route


async def get_clock(request: Request) -> Response:
    """C1: ``{"mode", "scale", "now"}``."""
    tenant = optional_tenant_for(request)
    clock = tenant.clock if tenant is not None else context(request).tenants.clock
    return JSONResponse(clock.describe())


async def set_clock(request: Request) -> Response:
    """C1: any of mode, scale, now; all tenants' clocks at once without a key (C2)."""
    tenant = optional_tenant_for(request)
    update = await read_json(request, ClockUpdate)
    tenants = context(request).tenants
    if tenant is None:
        tenants.set_clocks(update.mode, update.scale, update.now)
    else:
        tenant.set_clock(update.mode, update.scale, update.now)
    return JSONResponse((tenant.clock if tenant is not None else tenants.clock).describe())


async def advance_clock(request: Request) -> Response:
    """C1: fires everything that falls due, in time order, before answering."""
    tenant = optional_tenant_for(request)
    seconds = (await read_json(request, ClockAdvance)).seconds
    if tenant is None:
        now = await context(request).tenants.advance_clocks(seconds)
    else:
        now = await tenant.advance_clock(seconds)
    return JSONResponse({"now": now, "advanced": seconds})


async def set_credits(request: Request) -> Response:
    """U2: a tenant's credits (with a key), or every tenant's and the start terms of new
    ones (without). Answers the credits as U1 reports them."""
    tenant = optional_tenant_for(request)
    update = await read_json(request, CreditsUpdate)
    fields = (update.enabled, update.mode, update.balance)
    if tenant is not None:
        tenant.credits.set(*fields)
        return JSONResponse(tenant.credits.report())
    return JSONResponse(context(request).tenants.set_credits(*fields).report())


async def reset(request: Request) -> Response:
    tenant = optional_tenant_for(request)
    if tenant is None:
        context(request).tenants.reset()
    else:
        tenant.reset()
    return JSONResponse({"reset": tenant.id if tenant is not None else "all"})


async def state(request: Request) -> Response:
    tenant = optional_tenant_for(request)
    if tenant is not None:
        return JSONResponse(tenant.state())
    tenants = context(request).tenants
    return JSONResponse(
        {
            "clock": tenants.clock.describe(),
            "tenants": [t.state() for t in tenants],
            # Running asyncio tasks of the whole server: turns, streams, requests. A
            # number that keeps growing after clients have gone is a leak.
            "tasks": len(asyncio.all_tasks()),
            # Journal entries held by every journal (each keeps its last --journal-size):
            # what a long run's memory grows with until the journals are full.
            "journal_entries": tenants.journal_entries(),
        }
    )


async def scenarios(request: Request) -> Response:
    """C6: the loaded scenarios, in matching order, which one is the default, and which
    calls each is matched against (session turns, or stateless responses, R8)."""
    book = context(request).scenarios
    return JSONResponse(
        {
            "default": book.default,
            "scenarios": [
                {
                    "name": s.name,
                    "description": s.description,
                    "match": s.match,
                    "steps": len(s.steps),
                    "expect": s.expect.model_dump() if s.expect else None,
                    "surface": s.surface,
                }
                for s in book
            ],
        }
    )


def _control(handler: Handler) -> Endpoint:
    return Endpoint(handler, auth="optional", faults="never", same_site=True)


ENDPOINTS: dict[str, dict[str, Endpoint]] = {
    "/_mock/clock": {"GET": _control(get_clock), "PUT": _control(set_clock)},
    "/_mock/clock/advance": {"POST": _control(advance_clock)},
    "/_mock/reset": {"POST": _control(reset)},
    "/_mock/credits": {"PUT": _control(set_credits)},
    "/_mock/state": {"GET": _control(state)},
    "/_mock/scenarios": {"GET": _control(scenarios)},
    "/_mock/faults": {
        "POST": _control(fault_routes.add),
        "GET": _control(fault_routes.list_rules),
        "DELETE": _control(fault_routes.delete_all),
    },
    "/_mock/faults/{rule_id}": {"DELETE": _control(fault_routes.delete_one)},
    "/_mock/journal": {
        "GET": Endpoint(
            journal_routes.read, query=journal_routes.FILTERS, auth="optional", faults="never"
        ),
        "DELETE": _control(journal_routes.clear),
    },
    "/_mock/journal/stream": {
        "GET": Endpoint(
            journal_stream.stream, query=journal_routes.FILTERS, auth="optional", faults="never"
        )
    },
    "/_mock/openapi.json": {"GET": Endpoint(control_openapi, auth="none", faults="never")},
    "/_mock/ui": {"GET": Endpoint(inspector.page, query=("key",), auth="none", faults="never")},
    "/_mock/ui/{asset}": {"GET": Endpoint(inspector.asset, auth="none", faults="never")},
}

routes = [route(path, handlers) for path, handlers in ENDPOINTS.items()]
