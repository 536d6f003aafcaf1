"""Every endpoint, fuzzed with hostile bodies, headers and query values over a real socket
(A5, and R1/R2 for the stateless calls, whose fields are among the keys): deep nesting,
lone surrogates, huge and non-finite numbers, non-ASCII digits, raw bytes, repeated
headers. Whatever is sent, the answer is never a 5xx, and an error is
always in the A5 shape.

The generated values can never form a valid fault or clock mode (no leaf is one of those
names), so a fuzzed request cannot make later answers 5xx on purpose or stall them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mock_pokee.api import control, v1
from mock_pokee.server import ThreadedServer
from mock_pokee.settings import Settings
from mock_pokee.testing import new_key

ROUTES = [
    (method, path)
    for endpoints in (v1.ENDPOINTS, control.ENDPOINTS)
    for path, methods in endpoints.items()
    for method in methods
]

HUGE = "9" * 5000
# What a client can put in a header value: no control characters (UTF-8 bytes go as is).
PRINTABLE = st.characters(exclude_categories=["Cc", "Cs"])
NUMBERS = ["1e400", "-1e400", "1e-400", HUGE, "9" * 401, "NaN", "Infinity", "-0.0", "0", "1"]
TEXTS = ['"\\ud800"', '"\\udfff\\ud800"', '"\\ud83d\\ude00"', '"\\u00b2"', '"٣"', '"\\u0000"']
LEAVES = st.one_of(
    st.sampled_from([*NUMBERS, *TEXTS, "null", "true", '""', '"' + "x" * 3000 + '"']),
    st.integers().map(str),
    st.text(max_size=8).map(json.dumps),
)
# Field names of every body, so that fuzzing reaches the validation behind the parser.
KEYS = st.sampled_from(
    [
        "seconds",
        "now",
        "mode",
        "scale",
        "persistent",
        "ttl",
        "metadata",
        "file_access",
        "read",
        "write",
        "model",
        "tools",
        "message",
        "fault",
        "match",
        "schedule",
        "type",
        "status",
        "path",
        "session",
        "times",
        "nth",
        "every",
        "probability",
        "seed",
        # R1, R2: a stateless call's fields and its items' fields
        "input",
        "stream",
        "reasoning",
        "effort",
        "instructions",
        "tool_choice",
        "temperature",
        "top_p",
        "max_output_tokens",
        "previous_response_id",
        "role",
        "content",
        "text",
        "call_id",
        "name",
        "arguments",
        "output",
        "parameters",
        "\\ud800",
        "x\\udc00",
    ]
)


def _array(items: list[str]) -> str:
    return "[" + ",".join(items) + "]"


def _object(fields: dict[str, str]) -> str:
    return "{" + ",".join(f'"{key}":{value}' for key, value in fields.items()) + "}"


JSON_TEXT = st.recursive(
    LEAVES,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4).map(_array),
        st.dictionaries(KEYS, inner, max_size=4).map(_object),
    ),
    max_leaves=12,
)
DEEP = st.integers(30, 60_000).flatmap(
    lambda n: st.sampled_from(["[" * n + "]" * n, '{"metadata":' * n, "[" * n])
)
BODIES = st.one_of(JSON_TEXT.map(str.encode), DEEP.map(str.encode), st.binary(max_size=64))
NUMBER_TEXT = st.one_of(
    st.sampled_from([HUGE, "²", "٣", "-1", "", " 1", "1_0", "0x10", "1h" + HUGE + "m"]),
    st.integers(min_value=-5, max_value=10**20).map(str),
)
HEADERS = st.fixed_dictionaries(
    {},
    optional={
        "X-Mock-Fault": JSON_TEXT,
        "Last-Event-ID": NUMBER_TEXT,
        "Idempotency-Key": st.text(PRINTABLE, max_size=12),
        "X-Mock-Scenario": st.sampled_from(["nope", "\u00b2", HUGE[:300]]),
        "Content-Type": st.sampled_from(["text/plain", "application/json; charset=latin-1"]),
    },
)
QUERY = st.fixed_dictionaries(
    {},
    optional={
        name: NUMBER_TEXT
        for name in ("older_than", "last_event_id", "since", "status", "path", "kind")
    },
)


@dataclass
class Target:
    """A tenant with a session and a turn to aim at; the session is made again if a
    fuzzed request deleted it (or reset the tenant)."""

    client: httpx.Client
    session: str = ""
    response: str = ""
    stateless: str = ""  # a response of POST /v1/responses (R6's resume and cancel)

    def ensure(self) -> None:
        if not self.stateless:  # kept: the virtual clock never lets its 120 s pass
            answer = self.client.post("/v1/responses", json={"input": "hi"})
            self.stateless = answer.headers["x-response-id"]
        if self.session and self.client.get(f"/v1/sessions/{self.session}").status_code == 200:
            return
        self.session = self.client.post("/v1/sessions").json()["id"]
        with self.client.stream(
            "POST", f"/v1/sessions/{self.session}/messages", json={"message": "hi"}
        ) as stream:
            self.response = stream.headers["x-response-id"]

    def url(self, path: str) -> str:
        response = self.stateless if path.startswith("/v1/responses/") else self.response
        return (
            path.replace("{session_id}", self.session)
            .replace("{response_id}", response)
            .replace("{file_path:path}", "f.txt")
            .replace("{rule_id}", "flt_000000000000")
        )


@pytest.fixture(scope="module")
def server() -> Iterator[ThreadedServer]:
    with ThreadedServer(Settings(port=0, clock_mode="virtual", max_sessions=1000)) as running:
        yield running
        assert running.errors == []


@pytest.fixture(scope="module")
def target(server: ThreadedServer) -> Iterator[Target]:
    headers = {"Authorization": f"Bearer {new_key('fuzz')}"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=10) as client:
        yield Target(client)


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
@settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(body=BODIES, headers=HEADERS, query=QUERY, twice=st.booleans())
def test_a5_no_request_gets_a_5xx(
    target: Target,
    method: str,
    path: str,
    body: bytes,
    headers: dict[str, str],
    query: dict[str, str],
    twice: bool,
) -> None:
    target.ensure()
    # h11 sends no value with spaces at its edges
    sent = [(n.encode(), v.encode().strip()) for n, v in headers.items()]
    if twice:  # the key given twice (this replaces the client's one): a 401
        key = target.client.headers["authorization"].encode()
        sent += [(b"Authorization", key), (b"Authorization", key)]
    with target.client.stream(
        method, target.url(path), content=body, headers=sent, params=query
    ) as response:
        assert response.status_code < 500, (response.status_code, response.read()[:300])
        if response.status_code >= 400:
            answer = json.loads(response.read())
            assert set(answer) == {"error", "message"}, answer
