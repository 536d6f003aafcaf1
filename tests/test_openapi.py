"""The OpenAPI document: valid 3.1, in step with the routes, served as-is, and fuzzed by
Schemathesis against a running mock with every check on."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from openapi_spec_validator import validate

from contract_tests.observed import operation
from mock_pokee.api import control, v1
from mock_pokee.api.control_openapi import control_openapi_document
from mock_pokee.app import create_app, openapi_document
from mock_pokee.scenarios.model import MODEL_ANSWER
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
# A stateless call (R6) is like a message: a streamed call's Idempotency-Key used again
# with another body is 422, and a tenant's response bucket can fill (429, R7).
# A skill bundle is a zip, which no schema can generate: bytes of the right type are
# refused (400) or past a limit (413), K2; a name with the reserved prefix is 400 (K1).
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
include-operation-id = "installSkill"
checks.positive_data_acceptance.expected-statuses = [
  "2xx", "3xx", "400", "401", "403", "404", "409", "413", "429", "5xx",
]

[[operations]]
include-operation-id = "createResponse"
checks.positive_data_acceptance.expected-statuses = [
  "2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx",
]
checks.negative_data_rejection.expected-statuses = [
  "400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429", "5xx",
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


def test_the_control_document_is_valid_and_describes_every_control_route() -> None:
    document = control_openapi_document()
    validate(document)
    served = {
        (method.lower(), path)
        for path, handlers in control.ENDPOINTS.items()
        for method in handlers
    }
    described = {
        (m, path) for path, item in document["paths"].items() for m in HTTP_METHODS if m in item
    }
    assert served - {("get", "/_mock/openapi.json")} == described


def test_the_server_serves_the_control_document_with_its_scenarios() -> None:
    with ThreadedServer() as server:
        response = httpx.get(f"{server.url}/_mock/openapi.json")
        names = {s["name"] for s in httpx.get(f"{server.url}/_mock/scenarios").json()["scenarios"]}
    assert response.status_code == 200
    served = response.json()
    assert served["paths"] == control_openapi_document()["paths"]
    scenario = served["components"]["schemas"]["Match"]["properties"]["scenario"]
    # R8: a rule may also match the stateless model's own answers, which no scenario holds.
    assert set(scenario["enum"]) == names | {MODEL_ANSWER}
    # The bodies are the models' own schemas, with null refused as the server refuses it.
    for body in ("ClockUpdate", "ClockAdvance", "CreditsUpdate", "RuleSpec", "StatusFault"):
        assert "null" not in json.dumps(served["components"]["schemas"][body]), body


def schemathesis(
    tmp_path: Path, url: str, key: str, config: str, *options: str
) -> subprocess.CompletedProcess[str]:
    st = Path(sys.executable).with_name("st")
    config_file = tmp_path / "schemathesis.toml"
    config_file.write_text(config)
    return subprocess.run(
        [
            str(st),
            "--config-file",
            str(config_file),
            "run",
            url,
            "--header",
            f"Authorization: Bearer {key}",
            "--no-color",
            "--request-timeout",
            "30",
            # No example database: it would live in tmp_path and be thrown away unread,
            # and keeping one makes Hypothesis spend a third of the run's CPU on the
            # Pareto front of its targets, for that database only (docs/testing.md).
            "--generation-database",
            "none",
            *options,
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def operations_in(har: Path) -> set[tuple[str, str]]:
    """The documented operations the requests of a HAR report called."""
    called = set()
    for entry in json.loads(har.read_text())["log"]["entries"]:
        url = httpx.URL(entry["request"]["url"])
        found = operation(entry["request"]["method"], url.path)
        if found is not None:
            called.add(found)
    return called


@pytest.mark.timeout(300)  # its own subprocess timeout (240 s a run) bounds it
def test_the_stateful_phase_reaches_every_operation(tmp_path: Path) -> None:
    """The links (createSession → the session's operations, sendMessage's X-Response-Id →
    resume and cancel, createResponse's X-Response-Id → the stateless resume and cancel
    (R6), uploadFile's path → download and delete, and on to usage, bulk deletion and
    health) let Schemathesis chain calls with real ids, with every check on.
    Its stateful phase draws its sequences at random, and what it draws next depends on
    what came back (a session busy or not yet, on a clock that runs), so seeded runs are
    made until every operation has been called, at most eight; none may find a failure.
    The first run does not reach every operation and the second usually does, but on a
    loaded machine (the whole suite on 2 cores) four seeds sometimes all missed bulk
    deletion, which about half of all seeds reach: the last four are there for that."""
    settings = Settings(
        port=0, keys=frozenset({SCHEMATHESIS_KEY}), clock_mode="scaled", clock_scale=1000
    )
    hooks = Path(__file__).with_name("schemathesis_hooks.py")
    called: set[tuple[str, str]] = set()
    with ThreadedServer(settings) as server:
        for seed in ("20261128", "4", "7", "11", "1", "6", "12", "13"):
            reports = tmp_path / seed
            run = schemathesis(
                tmp_path,
                f"{server.url}/openapi.json",
                SCHEMATHESIS_KEY,
                SCHEMATHESIS_CONFIG.format(hooks=hooks),
                "--phases",
                "stateful",
                "--checks",
                "all",
                "--exclude-checks",
                "ensure_resource_availability",
                "--max-examples",
                "100",
                "--seed",
                seed,
                "--report",
                "har",
                "--report-dir",
                str(reports),
            )
            assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
            (har,) = reports.glob("*.json")
            called |= operations_in(har)
            if called == documented_operations():
                break
        assert server.errors == []
    assert called == documented_operations()


# A control request valid by the schema can still be refused for what came before it: an
# advance past the clock's end (year 9999), `now` moved back while timers are pending.
CONTROL_CONFIG = """
[[operations]]
include-operation-id = "advanceClock"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400"]

[[operations]]
include-operation-id = "setClock"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400"]
"""


@pytest.mark.timeout(300)
def test_schemathesis_finds_the_control_document_true(tmp_path: Path) -> None:
    """Every phase against /_mock/openapi.json, with a key (one tenant) and every check:
    the document says what the control plane accepts, refuses and answers. The journal's
    stream is left out: it follows the journal until the client leaves, so every call of
    it would last the request timeout (its frames are checked in test_journal_stream.py)."""
    with ThreadedServer(Settings(port=0, clock_mode="virtual")) as server:
        run = schemathesis(
            tmp_path,
            f"{server.url}/_mock/openapi.json",
            "pk_control_schemathesis",
            CONTROL_CONFIG,
            "--checks",
            "all",
            "--exclude-checks",
            "ensure_resource_availability,ignored_auth",
            "--exclude-operation-id",
            "followJournal",
            "--max-examples",
            "15",
            "--seed",
            "20261128",
        )
        assert server.errors == []
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]


@pytest.mark.timeout(300)  # its own subprocess timeout (240 s) bounds it
def test_schemathesis_finds_no_failures(tmp_path: Path) -> None:
    """`st run --checks all` with the auth header set, every phase but the stateful one
    (its own test below, which chains calls through the links). The mock runs with a key
    list so that Schemathesis's invalid-credential probes get the 401 a real deployment
    gives, and on a 1000× clock so that a generated message that happens to ask for a
    deck (a turn of 3.5 clock minutes) streams in a fraction of a second."""
    settings = Settings(
        port=0, keys=frozenset({SCHEMATHESIS_KEY}), clock_mode="scaled", clock_scale=1000
    )
    with ThreadedServer(settings) as server:
        run = schemathesis(
            tmp_path,
            f"{server.url}/openapi.json",
            SCHEMATHESIS_KEY,
            SCHEMATHESIS_CONFIG.format(hooks=Path(__file__).with_name("schemathesis_hooks.py")),
            "--phases",
            "examples,coverage,fuzzing",
            "--checks",
            "all",
            # ST302 (a created resource is found again) does not hold on a 1000× clock:
            # a session with a ttl of a second is gone a millisecond later (S7).
            "--exclude-checks",
            "ensure_resource_availability",
            "--seed",
            "20261128",
            "--max-examples",
            "60",
        )
        assert server.errors == []
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
