"""The OpenAPI document: valid 3.1, in step with the routes, served as-is, and fuzzed by
Schemathesis against a running mock with every check on."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from openapi_spec_validator import validate

from mock_pokee.api import control, v1
from mock_pokee.app import create_app, openapi_document
from mock_pokee.server import ThreadedServer
from mock_pokee.settings import Settings

HTTP_METHODS = ("get", "post", "put", "patch", "delete")
SCHEMATHESIS_KEY = "pk_schemathesis_key"
# M9: an Idempotency-Key used again on another session is 422, whatever the schema says of
# the key; the stateful phase sends generated keys ('' the likeliest) to several sessions.
# Hooks: the one S1b rule JSON Schema cannot say (see schemathesis_hooks.py). Statuses a
# well-formed request can get because of what came before it: an Idempotency-Key used on
# another session (422, M9), a range past the end of a file uploaded earlier (416, F5);
# and a body over the 1 MiB limit, schema-valid or not (413: tools with long descriptions).
SCHEMATHESIS_CONFIG = """
hooks = "{hooks}"

[[operations]]
include-operation-id = "sendMessage"
checks.positive_data_acceptance.expected-statuses = [
  "2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx",
]

[[operations]]
include-operation-id = "downloadFile"
checks.positive_data_acceptance.expected-statuses = [
  "2xx", "3xx", "401", "403", "404", "409", "416", "429", "5xx",
]

[[operations]]
include-operation-id = "createSession"
checks.negative_data_rejection.expected-statuses = [
  "400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429", "5xx",
]
"""


def test_the_document_is_valid_openapi_3_1() -> None:
    document = openapi_document()
    assert document["openapi"].startswith("3.1")
    validate(document)


def served_operations() -> set[tuple[str, str]]:
    """(method, path) of every /v1 route and /health: the table the routes are built from."""
    paths = {getattr(route, "path", "") for route in create_app().routes} - set(control.ENDPOINTS)
    assert paths - {"/openapi.json"} == set(v1.ENDPOINTS), "a route outside v1.ENDPOINTS"
    return {
        (m.lower(), path.replace(":path}", "}"))  # Starlette's converter, OpenAPI's name
        for path, handlers in v1.ENDPOINTS.items()
        for m in handlers
    }


def documented_operations() -> set[tuple[str, str]]:
    paths = openapi_document()["paths"]
    return {(m, path) for path, item in paths.items() for m in HTTP_METHODS if m in item}


def test_every_route_is_documented_and_every_documented_operation_served() -> None:
    assert served_operations() == documented_operations()


def test_every_error_response_has_the_a5_shape() -> None:
    document = openapi_document()
    for path, item in document["paths"].items():
        for method in HTTP_METHODS:
            for status, response in item.get(method, {}).get("responses", {}).items():
                if int(status) >= 400:
                    ref = response["$ref"].rsplit("/", 1)[-1]
                    content = document["components"]["responses"][ref]["content"]
                    schema = content["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Error"}, (method, path)


def test_the_server_serves_the_document() -> None:
    with ThreadedServer() as server:
        response = httpx.get(f"{server.url}/openapi.json")
    assert response.status_code == 200
    assert response.json() == openapi_document()


@pytest.mark.timeout(300)  # its own subprocess timeout (240 s) bounds it
def test_schemathesis_finds_no_failures(tmp_path: Path) -> None:
    """`st run --checks all` with the auth header set. The mock runs with a key list so
    that Schemathesis's invalid-credential probes get the 401 a real deployment gives, and
    on a 1000× clock so that a generated message that happens to ask for a deck (a turn of
    3.5 clock minutes) streams in a fraction of a second."""
    st = Path(sys.executable).with_name("st")
    config = tmp_path / "schemathesis.toml"
    config.write_text(
        SCHEMATHESIS_CONFIG.format(hooks=Path(__file__).with_name("schemathesis_hooks.py"))
    )
    settings = Settings(
        port=0, keys=frozenset({SCHEMATHESIS_KEY}), clock_mode="scaled", clock_scale=1000
    )
    with ThreadedServer(settings) as server:
        run = subprocess.run(
            [
                str(st),
                "--config-file",
                str(config),
                "run",
                f"{server.url}/openapi.json",
                "--checks",
                "all",
                # ST302 (a created resource is found again) does not hold on a 1000× clock:
                # a session with a ttl of a second is gone a millisecond later (S7).
                "--exclude-checks",
                "ensure_resource_availability",
                "--header",
                f"Authorization: Bearer {SCHEMATHESIS_KEY}",
                "--seed",
                "20261128",
                "--max-examples",
                "60",
                "--no-color",
                "--request-timeout",
                "30",
            ],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=240,
            check=False,
        )
        assert server.errors == []
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
