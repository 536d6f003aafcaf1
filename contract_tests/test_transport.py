"""Section A: transport, auth, tenants, errors."""

from __future__ import annotations

import httpx
import pytest

from mock_pokee.app import openapi_document  # the operations the mock says it serves

from .checks import assert_error, create, exists, session_ids
from .target import Target, client_for, new_key

HTTP_METHODS = ("get", "post", "put", "delete", "patch")

V1_ENDPOINTS = [
    ("POST", "/v1/sessions"),
    ("GET", "/v1/sessions"),
    ("DELETE", "/v1/sessions?status=any"),
    ("GET", "/v1/sessions/sess_000000000000"),
    ("DELETE", "/v1/sessions/sess_000000000000"),
    ("GET", "/v1/usage"),
]


def test_a1_paths_live_under_v1_except_health(api: httpx.Client, anon: httpx.Client) -> None:
    """A1: the API is under /v1; /health is not."""
    assert api.get("/v1/sessions").status_code == 200
    assert anon.get("/health").status_code == 200
    assert_error(api.get("/sessions"), 404, "not_found", "/sessions")


@pytest.mark.parametrize(("method", "path"), V1_ENDPOINTS)
@pytest.mark.parametrize(
    "header",
    [None, "", "Bearer", "Basic dXNlcjpwYXNz", "Bearer two words", "pk_acme_x"],
)
def test_a2_every_v1_endpoint_needs_a_bearer_key(
    anon: httpx.Client, method: str, path: str, header: str | None
) -> None:
    """A2: a missing, empty or malformed Authorization header is 401 (in the A5 shape)."""
    headers = {} if header is None else {"Authorization": header}
    response = anon.request(method, path, headers=headers)
    assert_error(response, 401, "unauthorized", "Authorization")


def test_a2_health_needs_no_key(anon: httpx.Client) -> None:
    """A2/A6: /health is the one endpoint without auth."""
    response = anon.get("/health")
    assert response.status_code == 200


@pytest.mark.inferred
def test_a6_health_body(anon: httpx.Client) -> None:
    """A6 [C]: the body is {"status": "ok"}."""
    assert anon.get("/health").json() == {"status": "ok"}


@pytest.mark.mock_only
@pytest.mark.inferred
def test_a3_any_key_works_and_its_shape_names_the_tenant(target: Target) -> None:
    """A3 [C]: by default any non-empty key is accepted; pk_<tenant>_<token> keys of one
    tenant share its sessions; a key of another shape is a tenant of its own."""
    tenant = new_key().split("_")[1]
    with (
        client_for(target, f"pk_{tenant}_first") as first,
        client_for(target, f"pk_{tenant}_second") as second,
        client_for(target, "anything-at-all") as odd,
    ):
        session = create(first)
        assert exists(second, session["id"])
        assert not exists(odd, session["id"])
        assert odd.get("/v1/sessions").status_code == 200


@pytest.mark.mock_only
@pytest.mark.inferred
def test_a4_tenants_are_isolated(target: Target) -> None:
    """A4 [C]: another tenant's session is 404 for every verb, invisible in lists, and never
    touched by a bulk delete."""
    with client_for(target, new_key()) as owner, client_for(target, new_key()) as other:
        session = create(owner)
        sid = session["id"]
        assert_error(other.get(f"/v1/sessions/{sid}"), 404, "not_found", str(sid))
        assert_error(other.delete(f"/v1/sessions/{sid}"), 404, "not_found", str(sid))
        assert other.get("/v1/sessions").json() == []
        assert other.delete("/v1/sessions", params={"status": "any"}).json() == {"deleted": 0}
        assert exists(owner, sid)


BAD_REQUESTS = [
    # (method, path, body bytes or None, status, short name, words the message must name)
    ("POST", "/v1/sessions", b"{not json", 400, "invalid_request", "invalid JSON"),
    ("POST", "/v1/sessions", b"[1, 2]", 400, "invalid_request", "JSON object"),
    ("POST", "/v1/sessions", b'"text"', 400, "invalid_request", "JSON object"),
    ("POST", "/v1/sessions", b"\xff\xfe\x00", 400, "invalid_request", "invalid JSON"),
    ("POST", "/v1/sessions", b'{"ttl": NaN}', 400, "invalid_request", "NaN"),
    ("POST", "/v1/sessions", b'{"persistant": true}', 400, "invalid_request", "persistant"),
    ("POST", "/v1/sessions", b'{"file_access": {"reed": []}}', 400, "invalid_request", "reed"),
    ("POST", "/v1/sessions", b'{"ttl": "60"}', 400, "invalid_request", "ttl"),
    ("POST", "/v1/sessions", b'{"ttl": 0}', 400, "invalid_request", "ttl"),
    ("POST", "/v1/sessions", b'{"ttl": 604801}', 400, "invalid_request", "ttl"),
    ("POST", "/v1/sessions", b'{"persistent": "yes"}', 400, "invalid_request", "persistent"),
    ("POST", "/v1/sessions", b'{"metadata": []}', 400, "invalid_request", "metadata"),
    ("POST", "/v1/sessions?debug=1", b"{}", 400, "invalid_request", "debug"),
    ("GET", "/v1/sessions/sess_ffffffffffff", None, 404, "not_found", "sess_ffffffffffff"),
    ("DELETE", "/v1/sessions/nope", None, 404, "not_found", "nope"),
    *(
        # A server that accepted one of these would delete sessions the test did not make.
        pytest.param(*row, marks=pytest.mark.destructive)
        for row in [
            ("DELETE", "/v1/sessions", None, 400, "invalid_request", "older_than"),
            ("DELETE", "/v1/sessions?older_than=1d", None, 400, "invalid_request", "older_than"),
            ("DELETE", "/v1/sessions?status=sleeping", None, 400, "invalid_request", "status"),
            (
                *("DELETE", "/v1/sessions?status=idle&olderthan=1h", None, 400),
                *("invalid_request", "olderthan"),
            ),
            (
                "DELETE",
                "/v1/sessions?status=idle&status=busy",
                None,
                400,
                "invalid_request",
                "status",
            ),
        ]
    ),
    ("GET", "/v1/nothing-here", None, 404, "not_found", "/v1/nothing-here"),
    ("GET", "/v1/sessions/", None, 404, "not_found", "/v1/sessions/"),
    ("PATCH", "/v1/sessions", None, 405, "method_not_allowed", "PATCH"),
    ("PUT", "/v1/sessions/sess_000000000000", None, 405, "method_not_allowed", "PUT"),
    ("POST", "/v1/usage", None, 405, "method_not_allowed", "POST"),
]


@pytest.mark.inferred
@pytest.mark.parametrize(("method", "path", "body", "status", "error", "mention"), BAD_REQUESTS)
def test_a5_bad_requests_get_the_error_shape_naming_the_problem(
    api: httpx.Client,
    method: str,
    path: str,
    body: bytes | None,
    status: int,
    error: str,
    mention: str,
) -> None:
    """A5 (and A8): JSON {"error", "message"}, the [C] short name, the culprit named,
    never a 500 and nothing stored."""
    before = session_ids(api)
    response = api.request(method, path, content=body)
    assert_error(response, status, error, mention)
    assert session_ids(api) == before


@pytest.mark.inferred
def test_a5_method_not_allowed_lists_the_allowed_methods(api: httpx.Client) -> None:
    """A5 [C]: a 405 keeps its Allow header."""
    response = api.patch("/v1/sessions/sess_000000000000")
    assert set(response.headers["allow"].split(", ")) >= {"GET", "DELETE"}


@pytest.mark.inferred
def test_a8_a_typo_never_creates_a_short_lived_session(api: httpx.Client) -> None:
    """A8 [C]: `persistant` fails loudly instead of being ignored."""
    before = session_ids(api)
    response = api.post("/v1/sessions", json={"persistant": True, "ttl": 14400})
    assert_error(response, 400, "invalid_request", "persistant", "unknown field")
    assert session_ids(api) == before


@pytest.mark.inferred
def test_a8_unknown_fields_are_refused_at_any_depth(api: httpx.Client) -> None:
    """A8 [C]: an unknown key inside file_access names its whole path."""
    response = api.post("/v1/sessions", json={"file_access": {"read": [""], "wirte": [""]}})
    assert_error(response, 400, "invalid_request", "file_access.wirte")


def test_a8_metadata_is_free_form(api: httpx.Client) -> None:
    """A8 concerns fields of the API; metadata's own keys are the caller's (M6)."""
    record = create(api, metadata={"anything": {"nested": [1, 2]}, "temasek_status": "queued"})
    assert record["metadata"] == {"anything": {"nested": [1, 2]}, "temasek_status": "queued"}


def _operations() -> list[tuple[str, str]]:
    paths = openapi_document()["paths"]
    return [
        (method.upper(), path)
        for path, item in paths.items()
        if path.startswith("/v1")
        for method in ("get", "post", "put", "delete")
        if method in item
    ]


def _operation_params() -> list[object]:
    """A bulk delete that ignored the unknown parameter would delete others' sessions."""
    return [
        pytest.param(method, path, marks=pytest.mark.destructive)
        if (method, path) == ("DELETE", "/v1/sessions")
        else (method, path)
        for method, path in _operations()
    ]


def _concrete(path: str, sid: str, folder: str) -> str:
    """An operation's path with its parameters filled in; a file is one in the test's own
    folder and a skill one no tenant has, so that a server that did the request anyway
    touched nothing of the tenant's."""
    return (
        path.replace("{session_id}", sid)
        .replace("{response_id}", "msg_000000000000000000000000")
        .replace("{file_path}", f"{folder}notes/x.txt")
        .replace("{name}", "ct-no-such-skill")
    )


@pytest.mark.inferred
@pytest.mark.parametrize(("method", "path"), _operation_params())
def test_a8_every_operation_refuses_an_unknown_query_parameter(
    api: httpx.Client, folder: str, method: str, path: str
) -> None:
    """A8 [C]: a misspelt parameter fails loudly on every /v1 operation, before anything
    is done."""
    sid = create(api, persistent=True)["id"]
    response = api.request(method, _concrete(path, str(sid), folder), params={"zz_unknown": "1"})
    assert_error(response, 400, "invalid_request", "zz_unknown")
    assert sid in session_ids(api)


@pytest.mark.inferred
@pytest.mark.parametrize("path", sorted({path for _, path in _operations()}))
def test_a5_a_method_a_path_does_not_serve_is_405_naming_what_it_does(
    api: httpx.Client, folder: str, path: str
) -> None:
    """A5 [C]: 405 in the A5 shape; Allow lists exactly the documented methods (and HEAD
    wherever GET is served)."""
    documented = {m.upper() for m in openapi_document()["paths"][path] if m in HTTP_METHODS}
    unused = next(m for m in ("PATCH", "PUT", "POST", "DELETE") if m not in documented)
    response = api.request(unused, _concrete(path, "sess_000000000000", folder))
    assert_error(response, 405, "method_not_allowed", unused)
    allowed = set(response.headers["allow"].split(", "))
    assert allowed == documented | ({"HEAD"} if "GET" in documented else set())
