"""Routes declared once (routing.Endpoint): the dispatcher checks the key, the query
parameters and the faults in that order, answers 405 with a complete Allow, and HEAD as
GET. Driven through a small app on the mock's own middleware, without sockets."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mock_pokee.api.context import optional_tenant_for, params, tenant_for
from mock_pokee.api.routing import Endpoint, route
from mock_pokee.app import create_app
from mock_pokee.settings import Settings


async def whoami(request: Request) -> Response:
    tenant = optional_tenant_for(request)
    return JSONResponse({"tenant": tenant.id if tenant else None, "params": params(request)})


async def mine(request: Request) -> Response:
    return JSONResponse({"tenant": tenant_for(request).id})


def call(method: str, path: str, **kwargs: object) -> httpx.Response:
    app = create_app(Settings())
    app.router.routes[:0] = [
        route("/t/optional", {"GET": Endpoint(whoami, query=("a",), auth="optional")}),
        route("/t/key", {"GET": Endpoint(mine), "DELETE": Endpoint(mine, faults="never")}),
    ]

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            return await client.request(method, path, **kwargs)  # type: ignore[arg-type]

    return asyncio.run(go())


def test_an_optional_key_names_a_tenant_or_the_whole_server() -> None:
    assert call("GET", "/t/optional").json() == {"tenant": None, "params": {}}
    keyed = call("GET", "/t/optional?a=1", headers={"Authorization": "Bearer pk_acme_k"})
    assert keyed.json() == {"tenant": "acme", "params": {"a": "1"}}


def test_a_required_key_comes_before_the_query_check() -> None:
    response = call("GET", "/t/key?zz=1")
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"
    response = call("GET", "/t/key?zz=1", headers={"Authorization": "Bearer pk_acme_k"})
    assert response.status_code == 400
    assert "zz" in response.json()["message"]


def test_405_names_every_method_and_head_answers_as_get() -> None:
    response = call("POST", "/t/key", headers={"Authorization": "Bearer pk_acme_k"})
    assert response.status_code == 405
    assert set(response.headers["allow"].split(", ")) == {"GET", "DELETE", "HEAD"}
    head = call("HEAD", "/t/key", headers={"Authorization": "Bearer pk_acme_k"})
    assert head.status_code == 200
    assert head.content == b""


@pytest.mark.parametrize(("method", "faulted"), [("GET", True), ("DELETE", False)])
def test_faults_apply_where_the_endpoint_says(method: str, faulted: bool) -> None:
    fault = json.dumps({"type": "status", "status": 503})
    headers = {"Authorization": "Bearer pk_acme_k", "X-Mock-Fault": fault}
    status = call(method, "/t/key", headers=headers).status_code
    assert status == (503 if faulted else 200)
