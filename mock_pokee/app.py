"""``create_app(settings)``: wires the routes, the A5 error handlers and the clock."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import cache
from importlib import resources
from typing import Any

import yaml
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import ASGIApp

from mock_pokee.api import control, v1
from mock_pokee.api.context import ServerContext
from mock_pokee.api.errors import (
    on_client_disconnect,
    on_domain_error,
    on_http_exception,
    on_unexpected,
)
from mock_pokee.api.middleware import MockMiddleware
from mock_pokee.api.routing import Endpoint, route
from mock_pokee.domain.errors import DomainError, log_bug
from mock_pokee.domain.keys import KeyPolicy
from mock_pokee.domain.models import ModelCatalog
from mock_pokee.domain.tenants import TenantRegistry, TenantRules
from mock_pokee.domain.whole_server import WholeServerPolicy
from mock_pokee.requestlog import RequestLog
from mock_pokee.scenarios.loader import ScenarioBook
from mock_pokee.settings import Settings


@cache
def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document kept beside this module (``openapi.yaml``)."""
    text = resources.files("mock_pokee").joinpath("openapi.yaml").read_text(encoding="utf-8")
    document: dict[str, Any] = yaml.safe_load(text)
    return document


@cache
def _openapi_json() -> bytes:
    return json.dumps(openapi_document()).encode()


async def openapi(request: Request) -> Response:
    return Response(_openapi_json(), media_type="application/json")


class MockApp(Starlette):
    """Starlette, with `MockMiddleware` outside even its own error handling, so that it
    sees every answer (500s included) and holds the server's own ``send``."""

    def build_middleware_stack(self) -> ASGIApp:
        return MockMiddleware(super().build_middleware_stack(), self.state.mock)


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings()
    errors: list[BaseException] = []

    def report(exc: BaseException) -> None:
        """A bug in the mock outside any request: kept for the test harness, logged once."""
        errors.append(exc)
        log_bug(exc)

    rules = TenantRules(
        max_sessions=settings.max_sessions,
        workspace_limit=settings.workspace_limit,
        journal_size=settings.journal_size,
        limits=settings.limits,
        models=ModelCatalog(settings.models),
        credits=settings.credits,
    )
    tenants = TenantRegistry(
        rules,
        clock_mode=settings.clock_mode,
        scale=settings.clock_scale,
        workspace_root=settings.workspace,
        report=report,
    )
    ctx = ServerContext(
        tenants=tenants,
        keys=KeyPolicy(settings.keys),
        scenarios=ScenarioBook.load(settings.scenario_folders),
        control=settings.control,
        upload_limit=settings.upload_limit,
        body_timeout=settings.body_timeout,
        request_log=RequestLog() if settings.request_log else None,
        errors=errors,
        whole_server=WholeServerPolicy(
            keys_required=settings.keys is not None,
            admin_key=settings.admin_key,
            allowed_hosts=frozenset(h.lower().rstrip(".") for h in settings.allowed_hosts),
        ),
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        tenants.close()
        if ctx.request_log is not None:
            ctx.request_log.close()

    openapi_route = route("/openapi.json", {"GET": Endpoint(openapi, auth="none", faults="never")})
    routes = [*v1.routes, openapi_route]
    if settings.control:
        routes += control.routes
    app = MockApp(
        routes=routes,
        exception_handlers={
            DomainError: on_domain_error,
            HTTPException: on_http_exception,
            ClientDisconnect: on_client_disconnect,
            Exception: on_unexpected,
        },
        lifespan=lifespan,
    )
    app.router.redirect_slashes = False  # a strict fake never redirects
    app.state.mock = ctx
    return app
