"""The stateless routes over real sockets, for what the contract suite leaves to the mock
(contract R with C1, C3–C6): every C5 fault on a response's stream and on its JSON
answer, scripts that pause on the clock or drop the stream, the journal and the state,
the body bounds, and the Idempotency-Key a JSON call ignores."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mock_pokee.limits import MAX_JSON_BODY, MAX_RESPONSE_BODY
from mock_pokee.testing import MockServer, TenantHandle

SCRIPT = """\
name: paused-answer
surface: response
match: '\\bslowly\\b'
steps:
  - text: "Thinking it over"
  - pause: 3m
  - drop: true
  - text: "Done: {message}"
"""
GIVES_UP = httpx.Timeout(5.0, read=0.3)  # a client that stops waiting on a silent stream


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MockServer]:
    folder: Path = tmp_path_factory.mktemp("scenarios")
    (folder / "paused-answer.yaml").write_text(SCRIPT)
    with MockServer(clock_mode="virtual", scenario_folders=(folder,)) as running:
        yield running
        assert running.errors == []


@pytest.fixture
def tenant(server: MockServer) -> Iterator[TenantHandle]:
    with server.tenant() as handle:
        yield handle


def frames(raw: bytes) -> list[dict[str, Any]]:
    """The complete frames of an SSE body: id, event and data (as text)."""
    found = []
    for block in raw.decode().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "event" in lines:
            found.append(lines)
    return found


def stream(tenant: TenantHandle, body: dict[str, Any], **headers: str) -> tuple[str, bytes, bool]:
    """A ``stream: true`` call read as far as it goes: its id, its bytes, and whether the
    connection was cut (or given up on) before the end."""
    raw = b""
    with tenant.http.stream(
        "POST", "/v1/responses", json={**body, "stream": True}, headers=headers, timeout=GIVES_UP
    ) as answer:
        assert answer.status_code == 200, answer.read()
        rid = answer.headers["X-Response-Id"]
        try:
            for chunk in answer.iter_raw():
                raw += chunk
        except httpx.HTTPError:
            return rid, raw, True
    return rid, raw, False


def replay(tenant: TenantHandle, rid: str) -> list[dict[str, Any]]:
    answer = tenant.http.get(f"/v1/responses/{rid}/events")
    assert answer.status_code == 200, answer.text
    return frames(answer.content)


def fault(kind: dict[str, Any]) -> str:
    return json.dumps(kind)


def test_c5_malformed_breaks_one_frames_data_and_the_stream_goes_on(tenant: TenantHandle) -> None:
    rid, raw, cut = stream(
        tenant, {"input": "hi"}, **{"X-Mock-Fault": fault({"type": "malformed", "after_events": 2})}
    )
    assert not cut
    got = frames(raw)
    with pytest.raises(json.JSONDecodeError):
        json.loads(got[2]["data"])
    whole = replay(tenant, rid)
    assert [f["event"] for f in got] == [f["event"] for f in whole]
    assert got[-1]["event"] == "response.completed"


def test_c5_stall_keeps_the_stream_silent_and_the_response_goes_on(tenant: TenantHandle) -> None:
    rid, raw, cut = stream(
        tenant, {"input": "hi"}, **{"X-Mock-Fault": fault({"type": "stall", "after_events": 1})}
    )
    assert cut
    assert [f["id"] for f in frames(raw)] == ["0"]
    assert replay(tenant, rid)[-1]["event"] == "response.completed"


def test_c5_cut_frame_and_drop_of_a_json_answer_lose_it_but_not_the_response(
    tenant: TenantHandle,
) -> None:
    for kind in ({"type": "cut_frame"}, {"type": "drop"}):
        with pytest.raises(httpx.HTTPError):
            tenant.http.post(
                "/v1/responses", json={"input": "hi"}, headers={"X-Mock-Fault": fault(kind)}
            )
    (entry, _) = tenant.journal.entries(kind="response.end")[-2:]
    assert entry["status"] == "completed"


def test_c5_drip_and_delay_deliver_the_whole_answer(tenant: TenantHandle) -> None:
    _, raw, cut = stream(
        tenant,
        {"input": "hi"},
        **{"X-Mock-Fault": fault({"type": "drip", "bytes_per_second": 1_000_000})},
    )
    assert not cut
    assert frames(raw)[-1]["event"] == "response.completed"
    delayed = tenant.http.post(
        "/v1/responses",
        json={"input": "hi"},
        headers={"X-Mock-Fault": fault({"type": "delay", "seconds": 0.01})},
    )
    assert delayed.json()["status"] == "completed"


def test_c5_a_rule_matches_a_response_by_its_scenario_and_counts_attempts(
    tenant: TenantHandle,
) -> None:
    rule = tenant.faults.add(
        {"type": "status", "status": 503, "retry_after": 2},
        match={"path": "/v1/responses", "scenario": "model-answer"},
        schedule={"nth": [2]},
    )
    assert tenant.http.post("/v1/responses", json={"input": "hi"}).status_code == 200
    refused = tenant.http.post("/v1/responses", json={"input": "hi"})
    assert (refused.status_code, refused.json()["error"]) == (503, "service_unavailable")
    assert refused.headers["Retry-After"] == "2"
    scripted = tenant.http.post(
        "/v1/responses", json={"input": "hi"}, headers={"X-Mock-Scenario": "quick-answer"}
    )
    assert scripted.status_code == 200
    assert tenant.faults.hits(rule["id"]) == 1


def test_c1_d_a_script_pauses_on_the_clock_and_drops_the_live_stream(
    tenant: TenantHandle,
) -> None:
    tenant.clock.freeze()
    with tenant.http.stream(
        "POST", "/v1/responses", json={"input": "Answer slowly", "stream": True}
    ) as answer:
        rid = answer.headers["X-Response-Id"]
        lines = answer.iter_lines()
        seen = []
        for line in lines:
            if line.startswith("event: "):
                seen.append(line[7:])
            if seen[-1:] == ["response.output_item.done"]:
                break
        assert tenant.state()["responses"][0]["status"] == "in_progress"
        tenant.clock.advance(180)
        with pytest.raises(httpx.HTTPError):
            for _ in lines:
                pass
    rest = replay(tenant, rid)
    assert rest[-1]["event"] == "response.completed"
    final = json.loads(rest[-1]["data"])["response"]
    texts = [item["content"][0]["text"] for item in final["output"]]
    assert texts == ["Thinking it over", "Done: Answer slowly"]


def test_d_a_scripts_drop_leaves_a_json_answer_whole(tenant: TenantHandle) -> None:
    tenant.clock.set(mode="autojump")
    answer = tenant.http.post("/v1/responses", json={"input": "Answer slowly"})
    assert answer.status_code == 200
    assert len(answer.json()["output"]) == 2


def test_c4_the_journal_files_requests_and_events_under_the_response(
    tenant: TenantHandle,
) -> None:
    answer = tenant.http.post("/v1/responses", json={"input": "hi"})
    rid = answer.headers["X-Response-Id"]
    (request,) = tenant.journal.requests(method="POST", path="/v1/responses")
    assert (request["status"], request["response_id"]) == (200, rid)
    events = [e for e in tenant.journal.entries(kind="event") if e["response_id"] == rid]
    assert events[0]["type"] == "response.created"
    assert events[-1]["type"] == "response.completed"
    assert not any(e["heard"] for e in events)  # a JSON answer reads no events
    (start,) = tenant.journal.entries(kind="response.start")
    assert (start["response_id"], start["scenario"]) == (rid, "model-answer")


def test_c3_the_state_lists_the_tenants_responses(tenant: TenantHandle) -> None:
    rid = tenant.http.post("/v1/responses", json={"input": "hi"}).headers["X-Response-Id"]
    (described,) = tenant.state()["responses"]
    assert described["id"] == rid
    assert described["output"] == ["message"]
    assert described["scenario"] == "model-answer"


def test_r1_a_json_call_ignores_its_idempotency_key_even_a_bad_one(tenant: TenantHandle) -> None:
    for key in ("", "k" * 1000, "same", "same"):
        answer = tenant.http.post(
            "/v1/responses", json={"input": "hi"}, headers={"Idempotency-Key": key}
        )
        assert answer.status_code == 200, answer.text
    refused = tenant.http.post(
        "/v1/responses", json={"input": "hi", "stream": True}, headers={"Idempotency-Key": ""}
    )
    assert refused.status_code == 400
    assert refused.json()["message"].startswith("Idempotency-Key: empty")


def test_r1_a_body_past_1_mib_is_read_and_one_past_the_bound_is_413(
    tenant: TenantHandle,
) -> None:
    big = "x" * (MAX_JSON_BODY + 10)
    answer = tenant.http.post("/v1/responses", json={"input": big})
    assert answer.status_code == 200
    assert answer.json()["usage"]["input_tokens"] == len(big) // 4 + 1
    refused = tenant.http.post("/v1/responses", json={"input": "x" * MAX_RESPONSE_BODY, "bad": 1})
    assert refused.status_code == 413
    assert refused.json()["error"] == "payload_too_large"
    bad = tenant.http.post("/v1/responses", json={"input": big, "colour": 1})
    assert (bad.status_code, bad.json()["message"]) == (400, "colour: unknown field")


def test_c6_a_forced_scenario_that_needs_a_session_is_400(tenant: TenantHandle) -> None:
    refused = tenant.http.post(
        "/v1/responses", json={"input": "hi"}, headers={"X-Mock-Scenario": "presentation"}
    )
    assert refused.status_code == 400
    assert "cannot script a response" in refused.json()["message"]


def test_c7_without_the_control_plane_the_scenario_header_is_not_read() -> None:
    with MockServer(clock_mode="virtual", control=False) as server, server.tenant() as tenant:
        answer = tenant.http.post(
            "/v1/responses", json={"input": "hi"}, headers={"X-Mock-Scenario": "nope"}
        )
        assert answer.status_code == 200
