"""C5: fault injection, each kind observed from a real client over real sockets — httpx,
httpx-sse, and a raw socket where the bytes matter. Every test is mock-only and inferred.

Each test has a tenant of its own, so the rules it adds touch nobody else (C2).
"""

from __future__ import annotations

import json
import socket
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from httpx_sse import connect_sse

from .checks import assert_error, create, freeze, run_to_end
from .sse import read, resume, send
from .target import Target, client_for, new_key

pytestmark = [pytest.mark.mock_only, pytest.mark.inferred]

MESSAGES = "/v1/sessions/*/messages"


def add_rule(
    control: httpx.Client,
    fault: dict[str, Any],
    match: dict[str, Any] | None = None,
    schedule: dict[str, Any] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {"fault": fault}
    if match is not None:
        body["match"] = match
    if schedule is not None:
        body["schedule"] = schedule
    response = control.post("/_mock/faults", json=body)
    assert response.status_code == 201, response.text
    rule: dict[str, Any] = response.json()
    return rule


def rules(control: httpx.Client) -> dict[str, dict[str, Any]]:
    return {rule["id"]: rule for rule in control.get("/_mock/faults").json()}


def one_fault(fault: dict[str, Any]) -> dict[str, str]:
    return {"X-Mock-Fault": json.dumps(fault)}


def session(api: httpx.Client) -> str:
    return str(create(api, persistent=True)["id"])


def full_log(api: httpx.Client, sid: str, rid: str) -> list[int]:
    return resume(api, sid, rid, None).seqs


# -- rules: add, list, delete, schedules ------------------------------------------------


def test_c5_a_rule_is_created_listed_counted_and_deleted(
    api: httpx.Client, control: httpx.Client
) -> None:
    rule = add_rule(control, {"type": "status", "status": 503}, {"path": "/v1/sessions/*"})
    assert rule["id"].startswith("flt_")
    assert rule["hits"] == 0
    assert rule["fault"] == {"type": "status", "status": 503}
    assert rule["match"] == {"path": "/v1/sessions/*"}
    sid = session(api)  # POST /v1/sessions does not match the pattern
    assert api.get(f"/v1/sessions/{sid}").status_code == 503
    assert rules(control)[rule["id"]]["hits"] == 1
    assert control.delete(f"/_mock/faults/{rule['id']}").status_code == 204
    assert api.get(f"/v1/sessions/{sid}").status_code == 200
    assert control.delete(f"/_mock/faults/{rule['id']}").status_code == 404
    add_rule(control, {"type": "delay", "seconds": 0})
    add_rule(control, {"type": "delay", "seconds": 0})
    assert control.delete("/_mock/faults").json() == {"deleted": 2}
    assert control.get("/_mock/faults").json() == []


def test_c5_status_fault_answers_a5_with_retry_after_and_processes_nothing(
    api: httpx.Client, control: httpx.Client
) -> None:
    add_rule(control, {"type": "status", "status": 429, "retry_after": 7}, {"method": "POST"})
    response = api.post("/v1/sessions", json={})
    assert_error(response, 429, "rate_limited", "injected")
    assert response.headers["retry-after"] == "7"
    control.delete("/_mock/faults")
    assert api.get("/v1/sessions").json() == []  # the refused create made nothing
    add_rule(control, {"type": "status", "status": 502}, {"path": "/v1/sessions"})
    assert_error(api.get("/v1/sessions"), 502, "bad_gateway")


def test_c5_503_always_carries_retry_after(api: httpx.Client, control: httpx.Client) -> None:
    """A7: a status fault of 503 without retry_after still says when to retry."""
    response = api.get("/v1/sessions", headers=one_fault({"type": "status", "status": 503}))
    assert_error(response, 503, "service_unavailable")
    assert response.headers["retry-after"] == "1"  # the mock's choice: retry at once


@pytest.mark.parametrize(
    ("schedule", "hits"),
    [
        ({"nth": [1, 3]}, [True, False, True, False, False]),
        ({"times": 2}, [True, True, False, False, False]),
        ({"every": 2}, [False, True, False, True, False]),
        ({}, [True, True, True, True, True]),
    ],
)
def test_c5_schedules_pick_the_matching_attempts(
    api: httpx.Client, control: httpx.Client, schedule: dict[str, Any], hits: list[bool]
) -> None:
    add_rule(control, {"type": "status", "status": 503}, {"path": "/v1/usage"}, schedule)
    seen = [api.get("/v1/usage").status_code == 503 for _ in hits]
    assert seen == hits


def test_c5_a_seeded_probability_replays_the_same_hits(target: Target) -> None:
    """Two tenants with the same seed see the same hit sequence; the rule reports it."""
    sequences = []
    for _ in range(2):
        with client_for(target, new_key()) as client:
            rule = add_rule(
                client,
                {"type": "status", "status": 503},
                {"path": "/v1/usage"},
                {"probability": 0.5, "seed": 42},
            )
            assert rule["schedule"] == {"probability": 0.5, "seed": 42}
            sequences.append([client.get("/v1/usage").status_code for _ in range(40)])
    assert sequences[0] == sequences[1]
    assert 5 < sequences[0].count(503) < 35  # it is a probability, not always or never


def test_c5_a_probability_without_a_seed_shows_the_seed_it_drew(
    control: httpx.Client,
) -> None:
    rule = add_rule(control, {"type": "delay", "seconds": 0}, schedule={"probability": 0.1})
    assert isinstance(rule["schedule"]["seed"], int)


def test_c5_the_oldest_rule_that_hits_fires_and_every_rule_counts(
    api: httpx.Client, control: httpx.Client
) -> None:
    first = add_rule(control, {"type": "status", "status": 503}, schedule={"nth": [2]})
    second = add_rule(control, {"type": "status", "status": 502}, schedule={"nth": [1, 2]})
    assert [api.get("/v1/usage").status_code for _ in range(3)] == [502, 503, 200]
    listed = rules(control)
    assert (listed[first["id"]]["hits"], listed[first["id"]]["matched"]) == (1, 3)
    assert (listed[second["id"]]["hits"], listed[second["id"]]["matched"]) == (1, 3)


def test_c5_match_by_method_path_session_and_scenario(
    api: httpx.Client, control: httpx.Client
) -> None:
    freeze(control)
    one, other = session(api), session(api)
    add_rule(control, {"type": "status", "status": 503}, {"session": one, "method": "GET"})
    assert api.get(f"/v1/sessions/{one}").status_code == 503
    assert api.get(f"/v1/sessions/{other}").status_code == 200
    assert api.delete(f"/v1/sessions/{one}").status_code == 204  # DELETE is not GET
    control.delete("/_mock/faults")
    add_rule(control, {"type": "status", "status": 503}, {"scenario": "turn-error"})
    assert send(api, other, "hi", scenario="quick-answer").status == 200
    assert send(api, other, "hi", scenario="turn-error").status == 503


# -- faults on streams -------------------------------------------------------------------


def test_c5_drop_cuts_the_stream_after_n_events_and_the_turn_goes_on(
    api: httpx.Client, control: httpx.Client
) -> None:
    """M5 under a fault: the cut stream sees 3 events; the turn completes; the journal
    shows the events sent after the drop as unheard."""
    freeze(control)
    sid = session(api)
    add_rule(control, {"type": "drop", "after_events": 3}, {"path": MESSAGES})
    cut = send(api, sid, "Build a deck on tides", scenario="presentation")
    assert cut.cut
    assert cut.seqs == [0, 1, 2]
    rid = cut.headers["x-response-id"]
    assert api.get(f"/v1/sessions/{sid}").json()["busy"] is True
    run_to_end(api, control, sid)
    events = control.get("/_mock/journal", params={"kind": "event"}).json()["entries"]
    heard = {e["event_seq"]: e["heard"] for e in events if e["response_id"] == rid}
    assert [heard[seq] for seq in range(3)] == [True, True, True]
    assert len(heard) > 3
    assert not any(heard[seq] for seq in heard if seq >= 3)
    assert full_log(api, sid, rid)[-1] == len(heard) - 1  # the resume replays them all


@pytest.mark.parametrize("after", [0, 1, 5])
def test_c5_cut_frame_sends_half_a_frame_then_cuts(
    target: Target, api: httpx.Client, control: httpx.Client, after: int
) -> None:
    """Seen on a raw socket: the bytes end inside frame ``after``."""
    freeze(control)
    sid = session(api)
    raw = raw_request(
        target,
        "POST",
        f"/v1/sessions/{sid}/messages",
        {"Authorization": api.headers["authorization"], "Content-Type": "application/json"},
        {
            "X-Mock-Fault": json.dumps({"type": "cut_frame", "after_events": after}),
            "X-Mock-Scenario": "quick-answer",
        },
        b'{"message": "hi"}',
    )
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    text = decode_chunks(body)
    frames = text.split("\n\n")
    assert len(frames) == after + 1  # ``after`` whole frames and a piece of the next
    piece = frames[-1]
    assert piece.startswith(f"id: {after}\n")
    assert not piece.endswith("}")  # half a frame: its data is cut
    assert b"0\r\n\r\n" not in body  # the chunked body never ended


def test_c5_lost_response_the_request_is_processed_but_no_byte_comes_back(
    target: Target, api: httpx.Client, control: httpx.Client
) -> None:
    freeze(control)
    sid = session(api)
    add_rule(control, {"type": "drop"}, {"path": MESSAGES}, {"times": 1})
    raw = raw_request(
        target,
        "POST",
        f"/v1/sessions/{sid}/messages",
        {"Authorization": api.headers["authorization"], "Content-Type": "application/json"},
        {},
        b'{"message": "hi"}',
    )
    assert raw == b""
    turns = api.get("/_mock/state").json()["turns"]
    assert [t["session_id"] for t in turns] == [sid]  # the turn started all the same
    with pytest.raises(httpx.RemoteProtocolError):
        api.post("/v1/sessions", json={}, headers=one_fault({"type": "drop"}))
    assert len(api.get("/v1/sessions").json()) == 2  # that create happened too


def test_c5_stall_keeps_the_stream_open_and_silent_until_the_client_gives_up(
    target: Target, api: httpx.Client, control: httpx.Client
) -> None:
    freeze(control)
    sid = session(api)
    add_rule(control, {"type": "stall", "after_events": 2}, {"path": MESSAGES})
    seqs: list[int] = []

    def listen() -> None:
        with (
            client_for(target, None) as client,
            client.stream(
                "POST",
                f"/v1/sessions/{sid}/messages",
                json={"message": "hi"},
                headers={**api.headers, "X-Mock-Scenario": "quick-answer"},
                timeout=httpx.Timeout(5.0, read=0.4),
            ) as response,
        ):
            seqs.extend(int(line[4:]) for line in response.iter_lines() if line.startswith("id: "))

    with pytest.raises(httpx.ReadTimeout):
        listen()
    assert seqs == [0, 1]
    assert api.get(f"/v1/sessions/{sid}").json()["busy"] is False  # the turn completed


def test_c5_stall_on_a_plain_request_withholds_the_answer(
    api: httpx.Client, control: httpx.Client
) -> None:
    with pytest.raises(httpx.ReadTimeout):
        api.get(
            "/v1/usage",
            headers=one_fault({"type": "stall"}),
            timeout=httpx.Timeout(5.0, read=0.3),
        )
    assert api.get("/v1/usage").status_code == 200


def test_c5_malformed_replaces_one_event_and_the_stream_goes_on(
    api: httpx.Client, control: httpx.Client
) -> None:
    """httpx-sse hands over the bad frame as it came: its data is not JSON."""
    freeze(control)
    sid = session(api)
    headers = {
        **one_fault({"type": "malformed", "after_events": 2}),
        "X-Mock-Scenario": "quick-answer",
    }
    parsed: list[tuple[str, bool]] = []
    with connect_sse(
        api, "POST", f"/v1/sessions/{sid}/messages", json={"message": "hi"}, headers=headers
    ) as source:
        for event in source.iter_sse():
            try:
                json.loads(event.data)
                parsed.append((event.id, True))
            except ValueError:
                parsed.append((event.id, False))
    assert parsed[:3] == [("0", True), ("1", True), ("2", False)]
    assert all(ok for _, ok in parsed[3:])
    assert [int(i) for i, _ in parsed] == list(range(len(parsed)))


def test_c5_m3_the_stream_checker_names_the_malformed_frame_and_nothing_else(
    api: httpx.Client, control: httpx.Client
) -> None:
    """M3 under a fault: the suite's event-stream checker reports exactly the frame whose
    data is not JSON (proof that it reads every frame it is given)."""
    freeze(control)
    sid = session(api)
    headers = {
        **one_fault({"type": "malformed", "after_events": 2}),
        "X-Mock-Scenario": "quick-answer",
    }
    stream = read(
        api,
        "POST",
        f"/v1/sessions/{sid}/messages",
        json={"message": "hi"},
        headers=headers,
        check=False,
    )
    assert stream.problems == ["M3: the data of seq 2 is not JSON"]
    assert stream.ended


def test_c5_a_fault_applies_to_a_resume_counting_its_own_events(
    api: httpx.Client, control: httpx.Client
) -> None:
    """M7 under a fault: the resume from seq 2 is dropped after 2 of its own events."""
    freeze(control)
    sid = session(api)
    rid = send(api, sid, "hi", scenario="quick-answer").headers["x-response-id"]
    add_rule(control, {"type": "drop", "after_events": 2}, {"path": "/v1/sessions/*/responses/**"})
    cut = read(
        api,
        "GET",
        f"/v1/sessions/{sid}/responses/{rid}/events",
        headers={"Last-Event-ID": "2"},
    )
    assert cut.cut
    assert cut.seqs == [3, 4]


def test_c5_drip_sends_the_body_slowly_and_whole(api: httpx.Client, control: httpx.Client) -> None:
    sid = session(api)
    content = bytes(range(256)) * 4
    assert api.put(f"/v1/sessions/{sid}/files/drip.bin", content=content).status_code == 201
    pieces: list[bytes] = []
    with api.stream(
        "GET",
        f"/v1/sessions/{sid}/files/drip.bin",
        headers=one_fault({"type": "drip", "bytes_per_second": 8192}),
    ) as response:
        pieces.extend(response.iter_raw())
    assert b"".join(pieces) == content
    assert len(pieces) >= 2  # 410-byte pieces, 50 ms apart


def test_c5_abort_download_sends_the_full_length_then_cuts(
    api: httpx.Client, control: httpx.Client
) -> None:
    sid = session(api)
    content = b"x" * 100_000
    api.put(f"/v1/sessions/{sid}/files/big.bin", content=content)
    add_rule(control, {"type": "abort_download", "after_bytes": 65536}, {"method": "GET"})
    received = bytearray()
    declared: list[str] = []

    def download() -> None:
        with api.stream("GET", f"/v1/sessions/{sid}/files/big.bin") as response:
            declared.append(response.headers["content-length"])
            for chunk in response.iter_raw():
                received.extend(chunk)

    with pytest.raises(httpx.RemoteProtocolError):
        download()
    assert declared == ["100000"]
    assert len(received) == 65536
    control.delete("/_mock/faults")
    ranged = api.get(f"/v1/sessions/{sid}/files/big.bin", headers={"Range": "bytes=65536-"})
    assert bytes(received) + ranged.content == content  # resumable byte-exact


def test_c5_faults_on_plain_responses_cut_or_mangle_the_body(
    api: httpx.Client, control: httpx.Client
) -> None:
    sid = session(api)
    with pytest.raises(httpx.RemoteProtocolError):
        api.get(f"/v1/sessions/{sid}", headers=one_fault({"type": "cut_frame"}))
    mangled = api.get(f"/v1/sessions/{sid}", headers=one_fault({"type": "malformed"}))
    assert mangled.status_code == 200
    with pytest.raises(ValueError, match=r"Expecting|Unterminated|delimiter"):
        json.loads(mangled.content)
    whole = api.get(f"/v1/sessions/{sid}").content
    assert whole.startswith(mangled.content)
    assert len(mangled.content) == len(whole) // 2


def test_c5_cut_frame_and_malformed_on_a_download_send_half_of_a_long_body(
    api: httpx.Client,
) -> None:
    """A body sent in many chunks is halved as a whole, not per chunk: ``malformed`` ends
    it after half the declared length (and declares that), ``cut_frame`` sends the same
    half and then cuts the connection."""
    sid = session(api)
    content = bytes(range(256)) * 4096 * 3  # 3 MiB: several chunks
    api.put(f"/v1/sessions/{sid}/files/long.bin", content=content)
    url = f"/v1/sessions/{sid}/files/long.bin"
    half = api.get(url, headers=one_fault({"type": "malformed"}))
    assert (half.status_code, half.headers["content-length"]) == (200, str(len(content) // 2))
    assert half.content == content[: len(content) // 2]
    received = bytearray()

    def download() -> None:
        with api.stream("GET", url, headers=one_fault({"type": "cut_frame"})) as response:
            for chunk in response.iter_raw():
                received.extend(chunk)

    with pytest.raises(httpx.RemoteProtocolError):
        download()
    assert bytes(received) == content[: len(content) // 2]


def test_c5_delay_holds_the_answer_in_real_time(api: httpx.Client) -> None:
    with pytest.raises(httpx.ReadTimeout):
        api.get(
            "/v1/usage",
            headers=one_fault({"type": "delay", "seconds": 1}),
            timeout=httpx.Timeout(5.0, read=0.2),
        )
    late = api.get("/v1/usage", headers=one_fault({"type": "delay", "seconds": 0.05}))
    assert late.status_code == 200


# -- scope and isolation (C2) ------------------------------------------------------------


def unobserved(api: httpx.Client) -> httpx.Client:
    """``api`` without the hook that holds every answer to the OpenAPI document: a stub
    answers what the test wrote, not what the mock does."""
    return httpx.Client(base_url=api.base_url, headers=api.headers, timeout=api.timeout)


def test_c5_respond_stubs_an_answer_with_its_status_headers_and_json(
    api: httpx.Client, control: httpx.Client
) -> None:
    """A one-off stub for an answer no scenario gives; the request is not processed."""
    stub = {"id": "sess_stubbed", "busy": True, "metadata": {"é": ["ü", 1.5]}}
    rule = add_rule(
        control,
        {"type": "respond", "status": 200, "headers": {"X-Stub": "yes"}, "json": stub},
        match={"method": "POST", "path": "/v1/sessions"},
        schedule={"times": 1},
    )
    with unobserved(api) as plain:
        answer = plain.post("/v1/sessions", json={})
    assert (answer.status_code, answer.json(), answer.headers["x-stub"]) == (200, stub, "yes")
    assert answer.headers["content-type"] == "application/json"
    assert api.get("/v1/sessions").json() == []  # nothing was created
    assert api.post("/v1/sessions", json={}).status_code == 201  # times: 1
    assert rules(control)[rule["id"]]["fault"]["json"] == stub  # listed as written
    entries = control.get("/_mock/journal", params={"kind": "request"}).json()["entries"]
    assert [e.get("fault") for e in entries[:2]] == [rule["id"], None]


@pytest.mark.parametrize(
    ("fault", "content_type", "body"),
    [
        (
            {"type": "respond", "status": 418, "body": "teapot"},
            "text/plain; charset=utf-8",
            b"teapot",
        ),
        (
            {
                "type": "respond",
                "status": 502,
                "body": "<h1>Bad gateway</h1>",
                "headers": {"Content-Type": "text/html"},
            },
            "text/html",
            b"<h1>Bad gateway</h1>",
        ),
        ({"type": "respond", "status": 204}, None, b""),
    ],
)
def test_c5_respond_with_text_or_nothing(
    api: httpx.Client, fault: dict[str, Any], content_type: str | None, body: bytes
) -> None:
    with unobserved(api) as plain:
        answer = plain.get("/v1/usage", headers=one_fault(fault))
    assert answer.status_code == fault["status"]
    assert answer.headers.get("content-type") == content_type
    assert answer.content == body


def test_c5_rules_belong_to_their_tenant(target: Target, api: httpx.Client) -> None:
    with client_for(target, new_key()) as other:
        add_rule(other, {"type": "status", "status": 503})
        assert other.get("/v1/usage").status_code == 503
        assert api.get("/v1/usage").status_code == 200
        assert api.get("/_mock/faults").json() == []
        assert api.delete("/_mock/faults").json() == {"deleted": 0}
        assert other.get("/v1/usage").status_code == 503


def test_c5_the_control_plane_is_never_faulted(api: httpx.Client, control: httpx.Client) -> None:
    """A catch-all rule must not lock the test out of deleting it."""
    add_rule(control, {"type": "status", "status": 503})
    assert control.get("/_mock/faults").status_code == 200
    assert control.get("/_mock/journal").status_code == 200
    assert control.delete("/_mock/faults").json() == {"deleted": 1}


def test_c5_a_reset_removes_the_tenants_rules(api: httpx.Client, control: httpx.Client) -> None:
    add_rule(control, {"type": "status", "status": 503})
    control.post("/_mock/reset")
    assert control.get("/_mock/faults").json() == []
    assert api.get("/v1/usage").status_code == 200


# -- bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "mention"),
    [
        ({"fault": {"type": "explode"}}, "fault"),
        ({"fault": {"type": "status", "status": 200}}, "fault.status.status"),
        ({"fault": {"type": "status", "status": 503}, "schedule": {"nth": [0]}}, "nth"),
        ({"fault": {"type": "drop"}, "schedule": {"probability": 2}}, "probability"),
        ({"fault": {"type": "drop"}, "schedule": {"times": 1, "every": 2}}, "schedule"),
        ({"fault": {"type": "drop"}, "schedule": {"seed": 3}}, "seed"),
        ({"fault": {"type": "delay", "seconds": 1e9}}, "seconds"),
        ({"fault": {"type": "drop", "after_events": -1}}, "after_events"),
        ({"fault": {"type": "drip", "bytes_per_second": 0}}, "bytes_per_second"),
        ({"fault": {"type": "drop"}, "match": {"path": "v1/x"}}, "path"),
        ({"fault": {"type": "drop"}, "match": {"verb": "GET"}}, "match.verb"),
        ({"fault": {"type": "drop"}, "match": {"scenario": "nope"}}, "nope"),
        ({"fault": {"type": "drop", "extra": 1}}, "extra"),
        ({"match": {}}, "fault"),
        ({"fault": {"type": "respond", "status": 200, "json": 1, "body": "x"}}, "not both"),
        ({"fault": {"type": "respond", "status": 204, "body": "x"}}, "has no body"),
        ({"fault": {"type": "respond", "status": 101}}, "status"),
        ({"fault": {"type": "respond", "status": 200, "headers": {"a b": "c"}}}, "headers"),
        ({"fault": {"type": "respond", "status": 200, "headers": {"X": "a\r\nB: c"}}}, "X"),
        (
            {"fault": {"type": "respond", "status": 200, "headers": {"Content-Length": "9"}}},
            "Content-Length",
        ),
        ({"fault": {"type": "respond", "status": 200, "json": None}}, "json"),
    ],
)
def test_c5_malformed_rules_are_400_naming_the_problem(
    control: httpx.Client, body: dict[str, Any], mention: str
) -> None:
    assert_error(control.post("/_mock/faults", json=body), 400, "invalid_request", mention)
    assert control.get("/_mock/faults").json() == []


@pytest.mark.parametrize(
    ("header", "mention"),
    [
        ("not json", "X-Mock-Fault"),
        ('{"type": "nope"}', "X-Mock-Fault"),
        ('{"type": "status", "status": 99}', "status"),
        ('{"type": "delay", "seconds": NaN}', "X-Mock-Fault"),
        ("[1]", "X-Mock-Fault"),
    ],
)
def test_c5_a_bad_fault_header_is_400(api: httpx.Client, header: str, mention: str) -> None:
    response = api.get("/v1/usage", headers={"X-Mock-Fault": header})
    assert_error(response, 400, "invalid_request", mention)


# -- raw sockets ------------------------------------------------------------------------


def raw_request(
    target: Target,
    method: str,
    path: str,
    headers: dict[str, str],
    extra: dict[str, str],
    body: bytes,
) -> bytes:
    """Send one request on a fresh socket and return every byte until the server closes."""
    address = urlsplit(target.url)
    lines = [f"{method} {path} HTTP/1.1", f"Host: {address.netloc}"]
    lines += [f"{k}: {v}" for k, v in {**headers, **extra}.items()]
    lines += [f"Content-Length: {len(body)}", "", ""]
    with socket.create_connection((address.hostname, address.port), timeout=5) as sock:
        sock.sendall("\r\n".join(lines).encode() + body)
        received = bytearray()
        while chunk := sock.recv(65536):
            received += chunk
    return bytes(received)


def decode_chunks(body: bytes) -> str:
    """A chunked body as far as it got (the last chunk may be cut short)."""
    out = bytearray()
    while body:
        size_line, sep, rest = body.partition(b"\r\n")
        if not sep:
            break
        size = int(size_line, 16)
        out += rest[:size]
        body = rest[size + 2 :]
    return out.decode()
