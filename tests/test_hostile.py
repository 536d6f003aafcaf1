"""Hostile input, races and slow clients, over real sockets (issue 9): one test per class.

Every test checks the same four things: no 5xx; the A5 shape, with a message naming the
field; the server still serves another tenant promptly (``/health`` and a session list,
each within a client timeout of 1 s); and nothing the attacked tenant stored changed.
The file-path and download classes live with the files tests.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import socket
import tempfile
import threading
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from contract_tests.bundles import Entry, bundle, skill_md
from mock_pokee.cli import main
from mock_pokee.clock import Clock
from mock_pokee.domain import inputs
from mock_pokee.domain.errors import InvalidRequest, NoPendingToolCall
from mock_pokee.domain.faults import Attempt, FaultBook, RuleSpec, fault_json
from mock_pokee.domain.inputs import whole_number
from mock_pokee.domain.sessions import SessionSpec
from mock_pokee.domain.tenants import Tenant, TenantRules
from mock_pokee.domain.toolcalls import TOOL_RESULT_TIMEOUT, ToolResult
from mock_pokee.domain.workspace import Workspace
from mock_pokee.limits import MAX_ARGUMENTS, MAX_BOOK_FLOATING, MAX_ITEMS, MAX_PROBLEMS, MAX_STRING
from mock_pokee.scenarios.arguments import arguments_for
from mock_pokee.scenarios.loader import ScenarioBook
from mock_pokee.scenarios.runner import ScenarioRun
from mock_pokee.server import ThreadedServer
from mock_pokee.settings import Settings
from mock_pokee.testing import new_key

HEADER_TIMEOUT = 0.5  # this module's server bounds a request head to half a second

# A turn that pauses on the clock, then paces 40 deltas (4 s of real time at scale 10).
PACED_SCENARIO = """
name: paced-after-pause
steps:
  - pause: 60s
  - text: {content: "0123456789012345678901234567890123456789", chunk: 1, pace: 1}
"""

# Turns that cost $3.30 each (U2) when they end, after a pause on the clock.
COSTLY_SCENARIO = """
name: costly-{pause}
steps:
  - pause: {pause}s
  - usage: {{input_tokens: 100000, output_tokens: 200000}}
  - text: "done"
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedServer]:
    scenarios = tmp_path_factory.mktemp("scenarios")
    (scenarios / "paced.yaml").write_text(PACED_SCENARIO)
    for pause in (60, 600):
        (scenarios / f"costly-{pause}.yaml").write_text(COSTLY_SCENARIO.format(pause=pause))
    settings = Settings(
        port=0,
        clock_mode="virtual",
        header_timeout=HEADER_TIMEOUT,
        keep_alive_timeout=1,
        scenario_folders=(scenarios,),
    )
    with ThreadedServer(settings) as running:
        yield running
        assert running.errors == []


@pytest.fixture
def api(server: ThreadedServer) -> Iterator[httpx.Client]:
    """A fresh tenant."""
    headers = {"Authorization": f"Bearer {new_key('hostile')}"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=10) as client:
        yield client


def assert_refused(response: httpx.Response, status: int, *mentions: str) -> None:
    """A5, never a 5xx: the status, the JSON shape, and the culprit named."""
    assert response.status_code < 500, response.text
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error", "message"}, body
    for mention in mentions:
        assert mention in body["message"], body


def assert_still_serving(url: str) -> None:
    """Another tenant is served promptly: a 1 s client timeout, not a timing assertion."""
    headers = {"Authorization": f"Bearer {new_key('bystander')}"}
    with httpx.Client(base_url=url, timeout=1.0, headers=headers) as bystander:
        assert bystander.get("/health").json() == {"status": "ok"}
        assert bystander.get("/v1/sessions").json() == []


def stored(api: httpx.Client) -> dict[str, Any]:
    """What the tenant holds (C3), for before/after comparisons."""
    state: dict[str, Any] = api.get("/_mock/state").json()
    return state


def session_with_paused_turn(api: httpx.Client, scenario: str = "slow-stream") -> tuple[str, str]:
    """A session whose turn waits on the virtual clock; the stream is left at once."""
    sid = api.post("/v1/sessions", json={"persistent": True}).json()["id"]
    with api.stream(
        "POST",
        f"/v1/sessions/{sid}/messages",
        json={"message": "hi"},
        headers={"X-Mock-Scenario": scenario},
    ) as response:
        assert response.status_code == 200, response.read()
        response_id = response.headers["x-response-id"]
    return sid, response_id


def raw_exchange(url: str, data: bytes, timeout: float = 5.0) -> bytes:
    """Send ``data`` on a new connection; everything the server sends until it closes."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as connection:
        if data:
            connection.sendall(data)
        received = b""
        while chunk := connection.recv(65_536):
            received += chunk
    return received


def a5_of(raw: bytes) -> tuple[int, dict[str, Any]]:
    head, _, body = raw.partition(b"\r\n\r\n")
    assert b"content-type: application/json" in head.lower(), raw
    return int(head.split()[1]), json.loads(body)


# -- 2: clock values -----------------------------------------------------------------------


def test_c1_non_finite_and_out_of_range_clock_values_are_400_naming_the_field(
    server: ThreadedServer, api: httpx.Client
) -> None:
    """C1: 1e400, 10^401, 1e12, NaN, negatives, a scale of 1e300 are refused, for a tenant
    and for the whole server, and no clock is poisoned: every request still answers."""
    with httpx.Client(base_url=server.url, timeout=10) as anon:
        check_clock_values(api, anon)
    assert_still_serving(server.url)


def check_clock_values(api: httpx.Client, anon: httpx.Client) -> None:
    before, server_clock = api.get("/_mock/clock").json(), anon.get("/_mock/clock").json()
    cases = [
        ("POST", "/_mock/clock/advance", b'{"seconds": 1e400}', "seconds"),
        ("POST", "/_mock/clock/advance", b'{"seconds": 1e12}', "seconds"),
        ("POST", "/_mock/clock/advance", b'{"seconds": ' + b"9" * 401 + b"}", "seconds"),
        ("POST", "/_mock/clock/advance", b'{"seconds": -1}', "seconds"),
        ("POST", "/_mock/clock/advance", b'{"seconds": NaN}', "NaN"),
        ("PUT", "/_mock/clock", b'{"now": 1e400}', "now"),
        ("PUT", "/_mock/clock", b'{"now": 1e300}', "now"),
        ("PUT", "/_mock/clock", b'{"now": -5}', "now"),
        ("PUT", "/_mock/clock", b'{"mode": "scaled", "scale": 1e300}', "scale"),
        ("PUT", "/_mock/clock", b'{"scale": 0}', "scale"),
        ("PUT", "/_mock/clock", b'{"scale": ' + b"9" * 401 + b"}", "scale"),
    ]
    for method, path, body, field in cases:
        for client in (api, anon):
            assert_refused(client.request(method, path, content=body), 400, field)
    assert api.get("/_mock/clock").json() == before
    assert anon.get("/_mock/clock").json() == server_clock
    assert api.get("/v1/sessions").status_code == 200
    assert anon.get("/_mock/state").status_code == 200


# -- 3: whatever is stored can be served ---------------------------------------------------


def test_a5_bodies_that_could_not_be_served_back_are_refused_naming_the_field(
    server: ThreadedServer, api: httpx.Client
) -> None:
    """A5/S1: lone surrogates in metadata values and keys, model, scope entries and tools,
    metadata nested past the limit, and a fault rule or header holding one: each a 400
    naming the field. What is accepted is served back unchanged, by the tenant's listing
    and by the keyless state."""
    deep = "[" * 70 + "]" * 70  # past MAX_JSON_DEPTH (64)
    cases = [
        ('{"metadata": {"a": "\\ud800"}}', "metadata.a: the text holds a lone surrogate"),
        ('["\\ud800"]', "0: the text holds a lone surrogate"),  # named before the type
        ('{"metadata": {"\\udfff": 1}}', "metadata: the key"),
        ('{"model": "x\\ud800"}', "model"),
        ('{"file_access": {"read": ["out/\\udc00"]}}', "file_access.read.0"),
        ('{"tools": [{"name": "\\ud83d"}]}', "tools.0.name"),
        (f'{{"metadata": {{"a": {deep}}}}}', "metadata.a"),
        ('{"metadata": {"a": 1e999}}', "out of range"),
        ('{"metadata": {"a": ' + "1" * 200 + "}}", "digits"),
    ]
    before = stored(api)
    for body, field in cases:
        assert_refused(api.post("/v1/sessions", content=body), 400, field)
    rule = '{"fault": {"type": "status", "status": 503}, "match": {"session": "\\ud800"}}'
    assert_refused(api.post("/_mock/faults", content=rule), 400, "match.session")
    header = {"X-Mock-Fault": '{"type": "status", "status": 503, "message": "\\ud800"}'}
    assert_refused(api.get("/v1/sessions", headers=header), 400, "X-Mock-Fault")
    root_array = api.post("/v1/sessions", content='["\\ud800"]').json()["message"]
    assert root_array.startswith("0: ")  # the element, named from the root
    assert stored(api) == before

    kept = {"emoji": "\U0001f600", "nested": json.loads("[" * 30 + "]" * 30)}
    escaped = '{"metadata": {"emoji": "\\ud83d\\ude00", "nested": ' + "[" * 30 + "]" * 30 + "}}"
    created = api.post("/v1/sessions", content=escaped).json()
    assert created["metadata"] == kept
    assert api.get("/v1/sessions").json()[0]["metadata"] == kept
    assert httpx.get(f"{server.url}/_mock/state", timeout=10).status_code == 200
    assert_still_serving(server.url)


# -- 5: deep bodies and huge numbers --------------------------------------------------------


def test_a5_deep_bodies_and_huge_or_odd_numbers_are_400(
    server: ThreadedServer, api: httpx.Client
) -> None:
    """A5: a body nested 50,000 deep, and 4,300+ digit or non-ASCII numbers in older_than
    (S6), Last-Event-ID and ?last_event_id (M7) and ?since (C4)."""
    sid, response_id = session_with_paused_turn(api)
    before = stored(api)
    events = f"/v1/sessions/{sid}/responses/{response_id}/events"
    huge = "9" * 5000
    assert_refused(api.post("/v1/sessions", content=b"[" * 50_000), 400, "nested")
    assert_refused(api.post("/v1/sessions", content=b'{"a":' * 50_000), 400, "nested")
    for value in (huge, "1h" + huge + "m", "²", "٣"):
        assert_refused(api.delete("/v1/sessions", params={"older_than": value}), 400, "older_than")
    for value in (huge, "²", "-1"):
        headers = {b"Last-Event-ID": value.encode()}
        assert_refused(api.get(events, headers=headers), 400, "Last-Event-ID")
        assert api.get(events, headers=headers).json()["message"].startswith("Last-Event-ID:")
        assert_refused(api.get(events, params={"last_event_id": value}), 400, "last_event_id")
        assert_refused(api.get("/_mock/journal", params={"since": value}), 400, "since")
    assert stored(api) == before
    assert_still_serving(server.url)


# -- 7 and 8: tenant names -----------------------------------------------------------------


def test_a3_a_shaped_key_cannot_spell_the_tenant_of_another_key(
    server: ThreadedServer,
) -> None:
    """A3/A4: the tenant of an unshaped key is ``key_<hash>``, a name no ``pk_<tenant>_…``
    key can spell, so neither the old ``key-<hash>`` spelling nor any other reaches it."""
    plain = f"plain-{new_key()}"
    digest = hashlib.sha256(plain.encode()).hexdigest()[:12]
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {plain}"}) as owner:
        sid = owner.post("/v1/sessions").json()["id"]
        before = stored(owner)
        assert before["tenant"] == f"key_{digest}"
        for spelled in (f"pk_key-{digest}_x", f"pk_key_{digest}_x", f"pk_key{digest}_x"):
            intruder = {"Authorization": f"Bearer {spelled}"}
            assert httpx.get(f"{server.url}/v1/sessions", headers=intruder).json() == []
            response = httpx.get(f"{server.url}/v1/sessions/{sid}", headers=intruder)
            assert_refused(response, 404, sid)
        assert stored(owner) == before
    assert_still_serving(server.url)


def test_a3_tenant_names_are_bounded_and_their_folders_never_collide(
    server: ThreadedServer,
) -> None:
    """A3/F1: a 300-character tenant name is a 401 naming the limit; 64 characters work,
    files included; tenants differing only in case get separate folders (a disk that
    ignores case would otherwise merge them), and the keyless state still answers."""
    long_key = {"Authorization": f"Bearer pk_{'a' * 300}_x"}
    assert_refused(httpx.get(f"{server.url}/v1/sessions", headers=long_key), 401, "64")
    names = ("t" * 64, "CaseTenant", "casetenant")
    sessions = {}
    for name in names:
        headers = {"Authorization": f"Bearer pk_{name}_x"}
        sid = httpx.post(f"{server.url}/v1/sessions", headers=headers).json()["id"]
        url = f"{server.url}/v1/sessions/{sid}/files/who.txt"
        assert httpx.put(url, headers=headers, content=name.encode()).status_code == 201
        sessions[name] = url
    for name, url in sessions.items():
        headers = {"Authorization": f"Bearer pk_{name}_x"}
        assert httpx.get(url, headers=headers).content == name.encode()
    root = server.app.state.mock.tenants.workspace_root
    folders = {path.name.lower() for path in root.iterdir()}
    assert {"casetenant", "t" * 64} <= folders
    assert any(folder.startswith("casetenant_") for folder in folders)
    assert httpx.get(f"{server.url}/_mock/state", timeout=10).status_code == 200
    assert_still_serving(server.url)


# -- 9 and 19: advancing the clock -----------------------------------------------------------


def test_c1_concurrent_advances_of_one_clock_add_up(
    server: ThreadedServer, api: httpx.Client
) -> None:
    """C1: ten concurrent advances of 100 s, while turns pause on the clock again and
    again, move it exactly 1,000 s; each answers ``advanced: 100``."""
    for _ in range(5):
        session_with_paused_turn(api, "presentation")
    start = api.get("/_mock/clock").json()["now"]
    answers: list[dict[str, Any]] = []

    def advance() -> None:
        answers.append(api.post("/_mock/clock/advance", json={"seconds": 100}).json())

    threads = [threading.Thread(target=advance) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert [answer["advanced"] for answer in answers] == [100] * 10
    assert api.get("/_mock/clock").json()["now"] == start + 1000
    assert sorted(answer["now"] for answer in answers) == [start + 100 * n for n in range(1, 11)]
    assert_still_serving(server.url)


def test_c1_a_scaled_advance_does_not_wait_out_cosmetic_pacing(
    server: ThreadedServer, api: httpx.Client
) -> None:
    """C1: under a scaled clock, an advance that wakes a turn into paced text answers at
    once (a 2 s client timeout; the pacing takes 4 s, the old settle wait 5 s)."""
    api.put("/_mock/clock", json={"mode": "scaled", "scale": 10})
    sid, _ = session_with_paused_turn(api, "paced-after-pause")
    with httpx.Client(base_url=server.url, headers=api.headers, timeout=2.0) as hurried:
        answer = hurried.post("/_mock/clock/advance", json={"seconds": 60})
    assert answer.status_code == 200
    assert api.get(f"/v1/sessions/{sid}").json()["busy"]  # still pacing, in real time
    api.post("/_mock/reset")
    assert_still_serving(server.url)


# -- 15: the command line -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "environment", "complaint"),
    [
        (["--port", "70000"], {}, "--port"),
        (["--scale", "inf"], {}, "--scale"),
        (["--keys", "{binary}"], {}, "UTF-8"),
        (["--keys", "{folder}"], {}, "--keys"),
        (["--workspace", "{binary}"], {}, "not a folder"),
        (["--header-timeout", "nan"], {}, "--header-timeout"),
        ([], {"MOCK_POKEE_KEYS": " , "}, "MOCK_POKEE_KEYS"),
    ],
)
def test_cli_refuses_what_it_cannot_serve_on_one_line(
    argv: list[str],
    environment: dict[str, str],
    complaint: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """One clear line and exit status 2, never a traceback or a surprise (an empty key
    list meaning "any key")."""
    binary = tmp_path / "keys.bin"
    binary.write_bytes(b"\xff\xfe pk_a_b\n")
    filled = [arg.format(binary=binary, folder=tmp_path) for arg in argv]
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as exited:
        main(["serve", *filled])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert complaint in err


# -- 16: what uvicorn answers itself ----------------------------------------------------------


@pytest.mark.parametrize(
    ("request_bytes", "mention"),
    [
        (b"G\x01T /health HTTP/1.1\r\nHost: x\r\n\r\n", "method"),
        ("GET /h\u00e9alth HTTP/1.1\r\nHost: x\r\n\r\n".encode(), "percent-encode"),
        (b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", "longer than"),
        (b"POST /v1/sessions HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n", "Content-Length"),
        (
            b"POST /v1/sessions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            "chunk size",
        ),
        (
            b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
            "WebSocket",
        ),
    ],
)
def test_a5_even_requests_the_server_cannot_parse_get_the_error_shape(
    server: ThreadedServer, request_bytes: bytes, mention: str
) -> None:
    """A5: a bad method, raw non-ASCII in the path, a 70 KB URL, a bad Content-Length or
    chunk size, a WebSocket upgrade: 400 with an A5 body naming the problem."""
    status, body = a5_of(raw_exchange(server.url, request_bytes))
    assert status == 400
    assert body["error"] == "invalid_request"
    assert mention in body["message"], body
    assert_still_serving(server.url)


# -- 17: slow clients and shutdown ----------------------------------------------------------


def test_slow_clients_are_timed_out(server: ThreadedServer) -> None:
    """A connection that sends nothing is closed; one whose headers trickle in gets a
    408 in the A5 shape, then is closed (both within the header bound, plus slack)."""
    assert raw_exchange(server.url, b"") == b""
    status, body = a5_of(raw_exchange(server.url, b"GET /health HTTP/1.1\r\nHost: x\r\n"))
    assert status == 408
    assert body["error"] == "request_timeout"
    assert_still_serving(server.url)


def test_shutdown_ends_open_streams_with_a_terminal_event() -> None:
    """M5 at shutdown: a stream of a turn paused on the clock ends with message.error
    (server_shutdown) rather than a cut, and the server stops well within its bound."""
    running = ThreadedServer(Settings(port=0, clock_mode="virtual", shutdown_timeout=2)).start()
    headers = {"Authorization": f"Bearer {new_key()}"}
    lines: list[str] = []
    with httpx.Client(base_url=running.url, headers=headers, timeout=10) as client:
        sid = client.post("/v1/sessions").json()["id"]
        message = {"message": "hi"}
        forced = {"X-Mock-Scenario": "slow-stream"}
        with client.stream(
            "POST", f"/v1/sessions/{sid}/messages", json=message, headers=forced
        ) as stream:
            stopper = threading.Thread(target=running.stop)
            started = time.monotonic()
            for line in stream.iter_lines():
                lines.append(line)
                if line == "event: message.created":
                    stopper.start()
            stopper.join(timeout=10)
    assert time.monotonic() - started < 2
    assert "event: message.error" in lines
    assert any("server_shutdown" in line for line in lines)
    assert running.errors == []


def test_a_trickling_upload_holds_up_a_stop_no_longer_than_the_bound() -> None:
    """A body that trickles in is cut when the server stops, after --shutdown-timeout."""
    running = ThreadedServer(Settings(port=0, clock_mode="virtual", shutdown_timeout=1)).start()
    key = new_key()
    sid = httpx.post(f"{running.url}/v1/sessions", headers={"Authorization": f"Bearer {key}"})
    head = (
        f"PUT /v1/sessions/{sid.json()['id']}/files/slow.bin HTTP/1.1\r\nHost: x\r\n"
        f"Authorization: Bearer {key}\r\nContent-Length: 1000000\r\n\r\n"
    )
    host, port = running.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as connection:
        connection.sendall(head.encode() + b"x" * 1000)
        started = time.monotonic()
        running.stop()
    assert time.monotonic() - started < 3
    assert running.errors == []


@pytest.mark.parametrize("declared", ["0" * 40 + str(10**15), "999999999"])
def test_f3_an_upload_that_declares_too_much_is_413_before_its_body_is_sent(
    server: ThreadedServer, api: httpx.Client, declared: str
) -> None:
    """A Content-Length over the limit is answered at once: a client that waits for an
    answer before sending (or one sending terabytes) is not left waiting, and the body
    is never read."""
    sid = api.post("/v1/sessions", json={"persistent": True}).json()["id"]
    head = (
        f"PUT /v1/sessions/{sid}/files/huge.bin HTTP/1.1\r\nHost: x\r\n"
        f"Authorization: {api.headers['authorization']}\r\n"
        f"Content-Length: {declared}\r\n\r\n"  # more digits than the limit, or as many
    )
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as connection:
        connection.sendall(head.encode())
        answer = connection.recv(65536)  # no byte of the body sent: a timeout fails this
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
    assert b'"payload_too_large"' in answer
    assert api.get(f"/v1/sessions/{sid}/files/").json() == []


# -- 18: idle tenants are forgotten --------------------------------------------------------
# (driven without HTTP: see tests/test_tenants.py)


# -- 20: duplicates and nulls -----------------------------------------------------------------


def test_a5_repeated_headers_and_explicit_nulls_are_refused(
    server: ThreadedServer, api: httpx.Client
) -> None:
    """A2: two Authorization headers are a 401; two X-Mock-Fault, Idempotency-Key or
    X-Mock-Scenario headers a 400; an invalid ?last_event_id is a 400 even beside a valid
    Last-Event-ID header (M7); ``{"mode": null}`` is refused like session fields are."""
    sid, response_id = session_with_paused_turn(api)
    before = stored(api)
    key = api.headers["authorization"]
    twice = [("Authorization", key), ("Authorization", "Bearer pk_other_x")]
    assert_refused(httpx.get(f"{server.url}/v1/sessions", headers=twice), 401, "more than once")
    fault = json.dumps({"type": "status", "status": 503})
    two_faults = [("Authorization", key), ("X-Mock-Fault", fault), ("X-Mock-Fault", fault)]
    response = httpx.get(f"{server.url}/v1/sessions", headers=two_faults)
    assert_refused(response, 400, "X-Mock-Fault")
    message = f"/v1/sessions/{sid}/messages"
    for name, value in (("Idempotency-Key", "k"), ("X-Mock-Scenario", "quick-answer")):
        headers = [("Authorization", key), (name, value), (name, value)]
        response = httpx.post(f"{server.url}{message}", json={"message": "x"}, headers=headers)
        assert_refused(response, 400, name)
    events = f"/v1/sessions/{sid}/responses/{response_id}/events"
    response = api.get(events, headers={"Last-Event-ID": "1"}, params={"last_event_id": "x"})
    assert_refused(response, 400, "last_event_id")
    assert_refused(api.put("/_mock/clock", json={"mode": None}), 400, "mode", "null")
    no_times = {"fault": {"type": "status", "status": 503}, "schedule": {"times": None}}
    assert_refused(api.post("/_mock/faults", json=no_times), 400, "schedule.times")
    assert_refused(api.post("/v1/sessions", json={"metadata": None}), 400, "metadata")
    assert stored(api) == before
    assert_still_serving(server.url)


def test_a5_limits_hold_exactly_at_their_bound(api: httpx.Client) -> None:
    """Objects count toward the nesting limit like arrays; 18 digits are a whole number,
    19 are not; a refused value is quoted whole up to 40 characters."""
    nested = '{"metadata": ' + '{"a": ' * 70 + "1" + "}" * 70 + "}"
    assert_refused(api.post("/v1/sessions", content=nested), 400, "nested")
    assert whole_number("9" * 18, "n") == 10**18 - 1
    with pytest.raises(InvalidRequest):
        whole_number("9" * 19, "n")
    assert inputs.shown("x" * 40) == repr("x" * 40)
    assert inputs.shown("x" * 41) == repr("x" * 40) + "… (41 characters)"


# -- 21: a body's field paths are spelled only for the field refused --------------------------


def wide_and_deep(name: str) -> tuple[bytes, str]:
    """``{name: …}`` holding ten 5 KB keys deep over a 10,000-item array whose last item
    is a lone surrogate (68 KB), and the field its refusal must name."""
    keys = [f"{index}" + "k" * 5_000 for index in range(10)]
    value = "[" + "[]," * 9_999 + '"\\ud800"]'
    for key in reversed(keys):
        value = f'{{"{key}": {value}}}'
    return f'{{"{name}": {value}}}'.encode(), ".".join([name, *keys, "9999"])


def test_a5_checking_a_wide_deep_body_costs_its_size_not_its_square() -> None:
    """A5: the walk over a body keeps each child's place as a link to its parent's, so
    the 68 KB body that took RSS from 51 to 504 MB (a 50 KB path string built for each of
    its 10,000 items) now peaks at a few MB, and its refusal names the same field."""
    body, field = wide_and_deep("metadata")
    tracemalloc.start()
    try:
        with pytest.raises(InvalidRequest) as refused:
            inputs.parse_json(body, "body")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert refused.value.message.startswith(f"{field}: the text holds a lone surrogate")
    assert peak < 20_000_000, peak


def test_a5_a_wide_deep_body_is_refused_at_once_on_every_route(
    server: ThreadedServer, api: httpx.Client
) -> None:
    """A5 with C2: the same body to a tenant's session create and to a keyless control
    request, each answered within a 1 s client timeout, naming the field."""
    before = stored(api)
    with httpx.Client(base_url=server.url, timeout=1.0) as anon:
        body, field = wide_and_deep("seconds")
        assert_refused(anon.post("/_mock/clock/advance", content=body), 400, field)
        body, field = wide_and_deep("metadata")
        keyed = anon.post("/v1/sessions", content=body, headers=api.headers)
        assert_refused(keyed, 400, field)
    assert stored(api) == before
    assert_still_serving(server.url)


def test_a5_a_body_with_thousands_of_problems_names_the_first_ones(api: httpx.Client) -> None:
    """A5: every problem used to be spelled out (a 1 MiB body: 300,000 of them, 18 MB of
    message); the first `MAX_PROBLEMS` are, each naming its field, then how many more."""
    unknown = {f"field{n:04d}": 1 for n in range(1_000)}
    response = api.post("/v1/sessions", json=unknown)
    assert_refused(response, 400, "field0000", "field0019")
    message = response.json()["message"]
    assert "field0020" not in message
    assert message.endswith(f"; and {1_000 - MAX_PROBLEMS} more problems")


@pytest.mark.parametrize(
    ("path", "body", "mention"),
    [
        ("/v1/sessions", {"file_access": {"read": [1] * 200_000}}, "file_access.read.0"),
        ("/v1/sessions/{sid}/tool_results", {"results": [{"x": 1}] * 50_000}, "results.0"),
    ],
)
def test_a5_a_long_list_of_bad_items_is_refused_at_its_first(
    api: httpx.Client, path: str, body: dict[str, object], mention: str
) -> None:
    """A5: pydantic would collect an error for each of 200,000 bad items (seconds of the
    event loop, every tenant waiting); the list stops at its first bad item."""
    sid = api.post("/v1/sessions", json={}).json()["id"]
    started = time.monotonic()
    response = api.post(path.format(sid=sid), json=body)
    assert_refused(response, 400, mention)
    assert "more problems" not in response.json()["message"]
    assert time.monotonic() - started < 2.0  # real time: the event loop is not held


# -- 22: path globs --------------------------------------------------------------------------


def searched_glob(depth: int = 90) -> str:
    """A 470-character glob that only a search can place: ``a`` segments at both ends
    and 31 stars then ``x`` between two ``**`` (the most a pattern may have there)."""
    floating = "/".join(["*"] * 31 + ["x"])
    tail = "/".join(["a"] * depth)
    return f"/v1/sessions/*/files/{'a/' * depth}**/{floating}/**/{tail}"


def files_path(sid: str) -> str:
    return f"/v1/sessions/{sid}/files/" + "/".join(["a"] * 2_000)  # 4 KB, no ``x``


def test_c5_fault_rule_globs_cost_a_request_linear_time(
    server: ThreadedServer, api: httpx.Client
) -> None:
    """C5: 100 rules with a 470-character glob made one 4 KB request take seconds, every
    tenant waiting. Such rules are taken up to the book's bound on searches (the rest are
    400 naming match.path), a pattern past a pattern's bound is refused, and the request
    answers within a 1 s client timeout."""
    sid = api.post("/v1/sessions", json={"persistent": True}).json()["id"]
    rule = {"match": {"path": searched_glob()}, "fault": {"type": "status", "status": 503}}
    answers = [api.post("/_mock/faults", json=rule) for _ in range(100)]
    assert sum(answer.status_code == 201 for answer in answers) == MAX_BOOK_FLOATING // 64
    for answer in answers[MAX_BOOK_FLOATING // 64 :]:
        assert_refused(answer, 400, "match.path", str(MAX_BOOK_FLOATING))
    too_wide = {**rule, "match": {"path": "/**/" + "*/" * 40 + "x/**"}}
    assert_refused(api.post("/_mock/faults", json=too_wide), 400, "match: path:", "at most 64")
    with httpx.Client(base_url=server.url, headers=api.headers, timeout=1.0) as hurried:
        assert_refused(hurried.get(files_path(sid)), 403, "longer than")  # no rule fired
    assert api.delete("/_mock/faults").status_code < 300
    assert_still_serving(server.url)


def test_c4_a_journal_path_filter_costs_linear_time(
    server: ThreadedServer, api: httpx.Client
) -> None:
    """C4: a 470-character ``?path=`` over a journal of 4 KB paths answers within a 1 s
    client timeout (it stalled every tenant for seconds); one past the bound is 400."""
    sid = api.post("/v1/sessions", json={"persistent": True}).json()["id"]
    for _ in range(100):
        api.get(files_path(sid))
    with httpx.Client(base_url=server.url, headers=api.headers, timeout=1.0) as hurried:
        found = hurried.get("/_mock/journal", params={"path": searched_glob()})
    assert found.status_code == 200, found.text
    assert found.json()["entries"] == []
    wide = api.get("/_mock/journal", params={"path": "/**/" + "*/" * 40 + "x/**"})
    assert_refused(wide, 400, "path: ", "at most 64")
    assert_still_serving(server.url)


# -- 23: generated tool arguments ----------------------------------------------------------


def requested_call(lines: Iterator[str]) -> dict[str, Any]:
    """The data of the ``tool_call.requested`` event of a stream's ``lines``."""
    for line in lines:
        if line == "event: tool_call.requested":
            data: dict[str, Any] = json.loads(next(lines).removeprefix("data: "))
            return data
    raise AssertionError("no tool_call.requested event")


def test_m12_generated_arguments_are_bounded_whatever_the_schema_asks(
    server: ThreadedServer, api: httpx.Client
) -> None:
    """D/M12: a tool whose schema asks ``minLength: 100000000`` (a 147-byte body) made
    100 MB of arguments; it gets a string of `MAX_STRING` characters, and the turn goes on
    to use the answer."""
    schema = {"type": "object", "properties": {"q": {"type": "string", "minLength": 10**8}}}
    tool = {"type": "function", "name": "t", "parameters": schema}
    sid = api.post("/v1/sessions", json={"persistent": True, "tools": [tool]}).json()["id"]
    message = {"message": "hi"}
    with api.stream(
        "POST",
        f"/v1/sessions/{sid}/messages",
        json=message,
        headers={"X-Mock-Scenario": "client-tool"},
        timeout=5,
    ) as stream:
        lines = stream.iter_lines()
        call = requested_call(lines)
        assert json.loads(call["arguments"]) == {"q": "sample q" + "x" * (MAX_STRING - 8)}
        results = {"results": [{"call_id": call["call_id"], "output": "fine"}]}
        assert api.post(f"/v1/sessions/{sid}/tool_results", json=results).status_code == 202
        assert "event: message.completed" in list(lines)
    assert_still_serving(server.url)


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "array", "minItems": 10**6, "items": {"type": "array", "minItems": 10**6}},
        {"type": "array", "minItems": 16, "items": {"const": "x" * 500_000}},
        {"type": "object", "properties": {f"k{i}": {"minLength": 900} for i in range(5_000)}},
        {"type": "array", "minItems": 16, "items": {"type": "integer", "minimum": 1e300}},
        {"type": "string", "maxLength": 10**9, "minLength": 10**9, "format": "uuid"},
    ],
)
def test_d_generated_arguments_stay_within_their_bounds(schema: dict[str, Any]) -> None:
    """D: nested item counts, a large ``const`` reused, thousands of long properties and
    huge numbers: the arguments' JSON stays within `MAX_ARGUMENTS` (and a few hundred
    characters for the brackets still open when it was reached)."""
    arguments = arguments_for({"type": "object", "properties": {"p": schema}})
    assert len(json.dumps(arguments, separators=(",", ":"))) <= MAX_ARGUMENTS + 400


def test_d_arguments_fit_the_schema_where_the_bounds_allow() -> None:
    """D: ``minItems: 5`` gets five items (the old cap gave three), a ``const`` that fits
    is used, and an unsatisfiable ``minItems: 50`` gets `MAX_ITEMS`."""
    properties = {
        "five": {"type": "array", "minItems": 5, "items": {"type": "integer"}},
        "kept": {"const": {"a": [1, 2]}},
        "many": {"type": "array", "minItems": 50, "items": {"type": "boolean"}},
    }
    arguments = arguments_for({"type": "object", "properties": properties})
    assert arguments == {"five": [1] * 5, "kept": {"a": [1, 2]}, "many": [True] * MAX_ITEMS}


# -- 24: numbers, nulls, lengths and lists in control bodies -------------------------------


STATUS_FAULT = {"type": "status", "status": 503}
STUB = {"type": "respond", "status": 200}


@pytest.mark.parametrize(
    ("method", "path", "body", "named"),
    [
        ("PUT", "/_mock/clock", {"scale": True}, "scale: must be a number"),
        ("PUT", "/_mock/clock", {"now": "1800000000"}, "now: must be a number"),
        ("POST", "/_mock/clock/advance", {"seconds": "1"}, "seconds: must be a number"),
        ("POST", "/_mock/clock/advance", {"seconds": False}, "seconds: must be a number"),
        ("PUT", "/_mock/credits", {"balance": True}, "balance: must be a number"),
        ("PUT", "/_mock/credits", {"balance": "5"}, "balance: must be a number"),
        ("PUT", "/_mock/credits", {"enabled": 1}, "enabled: input should be a valid boolean"),
        (
            "POST",
            "/_mock/faults",
            {"fault": STATUS_FAULT, "schedule": {"nth": [True] * 200_000}},
            "schedule.nth.0: must be an integer",
        ),
        (
            "POST",
            "/_mock/faults",
            {"fault": STATUS_FAULT, "schedule": {"nth": [1] * 10_001}},
            "at most 10000",
        ),
        (
            "POST",
            "/_mock/faults",
            {"fault": {**STATUS_FAULT, "retry_after": "2"}},
            "fault.status.retry_after: must be a number",
        ),
        (
            "POST",
            "/_mock/faults",
            {"fault": {**STUB, "headers": {f"h{index}": 1 for index in range(80_000)}}},
            "fault.respond.headers: at most 50 headers, not 80000",
        ),
    ],
)
def test_a5_control_bodies_read_numbers_and_lists_strictly_and_at_once(
    server: ThreadedServer,
    api: httpx.Client,
    method: str,
    path: str,
    body: dict[str, Any],
    named: str,
) -> None:
    """A5/C1/U2/C5: strings and booleans are not numbers (refused under the field's own
    name, not ``scale.int: …; scale.float: …``), and a schedule of 200,000 wrong items is
    refused at its first (it took seconds to describe each), as are 80,000 stub headers,
    with a key and without; the clock, credits and rules stay as they were."""
    before = stored(api)
    keyed_and_keyless: list[dict[str, str]] = [dict(api.headers), {}]
    with httpx.Client(base_url=server.url, timeout=2.0) as anon:
        for headers in keyed_and_keyless:
            compact = json.dumps(body, separators=(",", ":"))  # 200,000 items fit in 1 MiB
            response = anon.request(method, path, content=compact, headers=headers)
            assert_refused(response, 400, named)
            assert len(response.json()["message"]) < 1_000
    assert stored(api) == before
    assert_still_serving(server.url)


def test_c4_a_stub_fired_again_and_again_is_journaled_without_copies() -> None:
    """C4/C5: each firing journals the fault as written; a ``respond`` stub's ``json`` of
    100,000 items was copied for every entry (a full journal of them: gigabytes). Now
    every entry shares the one form made with the rule."""
    book = FaultBook()
    stub = {**STUB, "json": list(range(100_000))}
    book.add(RuleSpec.model_validate({"fault": stub}))
    journal: list[dict[str, Any]] = []
    tracemalloc.start()
    try:
        for _ in range(100):
            hit = book.choose(Attempt("GET", "/v1/sessions"))
            assert hit is not None
            journal.append(fault_json(hit.fault))
        grown = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert journal[0]["json"] == stub["json"]
    assert grown < 5_000_000, grown  # each copy: 800 KB


# -- 25: a tool result meeting its timeout -----------------------------------------------


def tool_tenant() -> Tenant:
    unused = Workspace(Path(tempfile.gettempdir()) / "mock-pokee-hostile-never-written")
    return Tenant("t", Clock("virtual", now=1_800_000_000.0), TenantRules(), unused)


async def answer_at_the_timeout(synchronous: bool) -> tuple[str, list[str], str]:
    """A client-tool turn waiting from clock time T; the clock is advanced exactly to
    T + 10 minutes while an answer arrives at that instant: ``synchronous``, applied by a
    clock callback that runs before the timeout's; else run as the event loop next turns,
    after the timeout fired and before the turn woke (where the old code accepted it, then
    timed out anyway). Returns what the answer got and the turn's events."""
    t = tool_tenant()
    deadline = t.clock.now() + TOOL_RESULT_TIMEOUT
    got: list[str] = []
    place: dict[str, str] = {}

    def answer() -> None:
        try:
            results = [ToolResult(place["call_id"], "sunny")]
            got.append(f"accepted {t.answer_tool_calls(place['sid'], results)}")
        except NoPendingToolCall as refused:
            got.append(f"{refused.error}: {refused.message}")

    def next_loop_turn() -> None:
        asyncio.get_running_loop().call_soon(answer)

    t.clock.call_at(deadline, answer if synchronous else next_loop_turn)
    weather = {"type": "function", "name": "get_weather", "parameters": {"type": "object"}}
    session = t.create_session(SessionSpec(persistent=True, tools=[weather]))
    chosen = ScenarioBook.load().choose("weather?", "client-tool", session.tools)
    start = t.start_turn(session.id, "weather?", chosen.name, lambda e: ScenarioRun(chosen, e))
    assert start.run is not None
    await t.clock.advance(0)
    types = [event.type for event in start.run.log.events]
    call = json.loads(start.run.log.events[types.index("tool_call.requested")].data)
    place.update(sid=session.id, call_id=call["call_id"])
    await t.clock.advance(TOOL_RESULT_TIMEOUT)
    await asyncio.sleep(0)
    events = [event.type for event in start.run.log.events]
    return got[0], events, start.run.log.events[-1].data


@pytest.mark.parametrize("synchronous", [False, True])
def test_m12_an_answer_and_its_timeout_never_both_win(synchronous: bool) -> None:
    """M12: exactly one of them wins, and the client is told which: an answer applied
    first is 202 and the turn goes on with its result; one arriving once the timeout has
    fired is 409 ``no_pending_tool_call`` saying so, no ``tool_result`` is sent, and the
    turn ends with ``tool_result_timeout``."""
    got, events, last = asyncio.run(answer_at_the_timeout(synchronous))
    if synchronous:
        assert got == "accepted 1"
        assert "tool_result" in events
        assert events[-1] == "message.completed"
    else:
        assert got.startswith("no_pending_tool_call: "), got
        assert "stopped waiting" in got
        assert "tool_result_timeout" in got
        assert "tool_result" not in events
        assert (events[-1], json.loads(last)["error"]) == ("message.error", "tool_result_timeout")


# -- 26: hard credits ----------------------------------------------------------------------


def start_turns(api: httpx.Client, scenario: str, count: int) -> list[str]:
    """``count`` sessions, each with a turn of ``scenario`` started (streams left at once)."""
    return [session_with_paused_turn(api, scenario)[0] for _ in range(count)]


def test_u2_once_a_turn_leaves_hard_credits_under_the_minimum_the_next_is_402(
    server: ThreadedServer, api: httpx.Client
) -> None:
    """U2: hard mode checks the minimum when a turn starts and bills it when it ends, so
    turns started together all run and may leave the balance below zero (docs/choices.md,
    Credits); but once one has ended under the minimum, the next turn is 402, also while
    others started with it still run, and again once they have all ended."""
    api.put("/_mock/credits", json={"mode": "hard", "balance": 1.5})
    sids = start_turns(api, "costly-60", 5) + start_turns(api, "costly-600", 4)
    last = api.post("/v1/sessions", json={"persistent": True}).json()["id"]
    api.post("/_mock/clock/advance", json={"seconds": 60})
    balance = api.get("/v1/usage").json()["credits"]["balance"]
    assert balance == pytest.approx(1.5 - 5 * 3.3)
    assert sum(api.get(f"/v1/sessions/{sid}").json()["busy"] for sid in sids) == 4
    refused = api.post(f"/v1/sessions/{last}/messages", json={"message": "hi"})
    assert_refused(refused, 402, "credits", "below the per-turn minimum")
    api.post("/_mock/clock/advance", json={"seconds": 540})
    assert api.get("/v1/usage").json()["credits"]["balance"] == pytest.approx(1.5 - 9 * 3.3)
    again = api.post(f"/v1/sessions/{sids[0]}/messages", json={"message": "hi"})
    assert_refused(again, 402, "credits")
    api.post("/_mock/reset")
    assert_still_serving(server.url)


# -- 27: skill bundles (K1, K2) --------------------------------------------------------------


class SkillsServer:
    """A server whose workspace folder the tests can look into: what a refused bundle
    leaves on disk is checked there, not only through the API."""

    def __init__(self, root: Path):
        self.root = root
        self.running = ThreadedServer(Settings(port=0, clock_mode="virtual", workspace=root))
        self.url = ""

    def client(self, key: str) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def install(self, key: str, name: str, body: bytes) -> httpx.Response:
        with self.client(key) as api:
            return api.post(
                f"/v1/skills/{name}", content=body, headers={"Content-Type": "application/zip"}
            )

    def disk(self, key: str) -> dict[str, list[str]]:
        """Every path of the key's skills and of their staging folder, on disk."""
        tenant = key.split("_")[1]
        found = {}
        for where in (self.root / ".skills" / tenant, self.root / ".staging" / f"{tenant}.skills"):
            paths = where.rglob("*") if where.exists() else iter(())
            found[where.parent.name] = sorted(p.relative_to(where).as_posix() for p in paths)
        return found


@pytest.fixture(scope="module")
def skills_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SkillsServer]:
    server = SkillsServer(tmp_path_factory.mktemp("workspaces"))
    with server.running as running:
        server.url = running.url
        yield server
        assert running.errors == []


def test_k2_zip_bombs_stop_at_the_limit_while_another_tenant_reads_promptly(
    skills_server: SkillsServer,
) -> None:
    """60 MB of zeros in 60 KB, sent four times at once (one file past 25 MB, or three
    files past 50 MB together): each is 413 naming its limit and leaves nothing on disk,
    and another tenant's session reads stay fast throughout: the unpacking runs off the
    event loop, and its bytes stop at the limit."""
    key = new_key("bomber")
    one = bundle(("SKILL.md", skill_md("Bomb")), Entry("zeros.bin", zeros=60 * 10**6))
    three = bundle(
        ("SKILL.md", skill_md("Bombs")), *(Entry(f"z{n}.bin", zeros=20 * 10**6) for n in range(3))
    )
    assert len(one) < 100_000
    expected = {one: "25,000,000 bytes (25 MB) a file", three: "50,000,000 bytes (50 MB) in all"}
    answers: list[tuple[bytes, httpx.Response]] = []

    def bomb(body: bytes) -> None:
        answers.append((body, skills_server.install(key, "bomb", body)))

    senders = [threading.Thread(target=bomb, args=(b,)) for b in (one, three, one, three)]
    reads: list[float] = []
    with skills_server.client(new_key("reader")) as reader:
        sid = reader.post("/v1/sessions", json={"persistent": True}).json()["id"]
        for sender in senders:
            sender.start()
        while any(sender.is_alive() for sender in senders) or len(reads) < 20:
            started = time.monotonic()
            assert reader.get(f"/v1/sessions/{sid}").status_code == 200
            reads.append(time.monotonic() - started)
    for sender in senders:
        sender.join()
    assert len(answers) == 4
    for body, answer in answers:
        assert_refused(answer, 413, expected[body], "nothing was installed")
    # The module's bound for "served promptly"; tests/test_skills.py checks deterministically
    # that unpacking runs off the event loop's thread.
    assert max(reads) < 1.0, f"a session read took {max(reads):.2f} s while bombs unpacked"
    with skills_server.client(key) as bomber:
        assert bomber.get("/v1/skills").json() == []
    assert skills_server.disk(key) == {".skills": [], ".staging": []}
    assert_still_serving(skills_server.url)


@pytest.mark.parametrize(
    ("hostile", "status", "mention"),
    [
        pytest.param([Entry("../escape.txt", b"out")], 400, "traversal", id="traversal"),
        pytest.param([Entry("l", b"/etc/passwd", mode=0o120777)], 400, "link", id="symlink"),
        pytest.param([Entry("/etc/cron.d/x", b"out")], 400, "absolute", id="absolute"),
        pytest.param([Entry("docs\\..\\x", b"out")], 400, "backslash", id="backslash"),
        pytest.param([Entry("C:/Windows/x", b"out")], 400, "drive letter", id="drive-letter"),
        pytest.param([Entry("SKILL.md", b"again")], 400, "two entries", id="duplicate"),
        pytest.param([Entry("secret.txt", b"x", flags=0x1)], 400, "encrypted", id="encrypted"),
        pytest.param([Entry(f"f{n}") for n in range(1_000)], 413, "1,000", id="too-many-entries"),
    ],
)
def test_k2_a_hostile_bundle_is_refused_and_writes_nothing(
    skills_server: SkillsServer, hostile: list[Entry], status: int, mention: str
) -> None:
    """Each class once, over HTTP, over an installed skill: refused, naming what is
    wrong; on disk the installed version is as it was and no staging is left."""
    key = new_key("hostile")
    assert skills_server.install(key, "tool", bundle(("SKILL.md", b"# Kept"))).status_code == 201
    before = skills_server.disk(key)
    assert before[".staging"] == []
    body = bundle(("SKILL.md", skill_md("Hostile")), *hostile)
    assert_refused(skills_server.install(key, "tool", body), status, mention)
    assert skills_server.disk(key) == before
    with skills_server.client(key) as api:
        assert api.get("/v1/skills").json()[0]["skill_md_size"] == len(b"# Kept")
    assert not (skills_server.root / "escape.txt").exists()
    assert_still_serving(skills_server.url)


def test_k2_racing_uploads_of_one_name_install_one_whole_bundle_or_the_other(
    skills_server: SkillsServer,
) -> None:
    """Two bundles of 300 files each, and a bad one, uploaded at once to one name, round
    after round: the skill is always exactly one of the two, in the answers, the state
    and on disk, never a mix; the bad one changes nothing; one version folder is left."""
    key = new_key("racer")
    files = {
        folder: [(f"{folder}/{n:03}.txt", folder.encode()) for n in range(300)] for folder in "abc"
    }
    first = bundle(("SKILL.md", skill_md("First")), *files["a"])
    second = bundle(("SKILL.md", skill_md("Second")), *files["b"])
    bad = bundle(("SKILL.md", skill_md("Bad")), *files["c"], Entry("../x", b"x"))
    wholes = [["SKILL.md", *(path for path, _ in files[folder])] for folder in "ab"]

    def race() -> list[httpx.Response]:
        answers: list[httpx.Response] = []

        def upload(body: bytes) -> None:
            answers.append(skills_server.install(key, "raced", body))

        racers = [threading.Thread(target=upload, args=(b,)) for b in (first, second, bad)]
        for racer in racers:
            racer.start()
        for racer in racers:
            racer.join()
        return answers

    for _ in range(5):
        answers = race()
        assert sorted(a.status_code for a in answers) == [201, 201, 400]
        assert all(a.json()["files"] in wholes for a in answers if a.status_code == 201)
        with skills_server.client(key) as api:
            (skill,) = api.get("/_mock/state").json()["skills"]
        assert skill["files"] in wholes
        disk = skills_server.disk(key)
        versions = [p for p in disk[".skills"] if p.startswith(".versions/") and p.count("/") == 1]
        assert len(versions) == 1
        tenant = skills_server.root / ".skills" / key.split("_")[1]
        assert (tenant / "raced").resolve() == (tenant / versions[0]).resolve()
        assert disk[".staging"] == []
