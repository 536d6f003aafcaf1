"""Section R, streamed: ``stream: true`` in OpenAI's event vocabulary over the M3 framing
(R5), and a response's resume, cancel and idempotent retry (R6), over real sockets.

Every stream goes through the suite's checker (`contract_tests.sse`, with the response
vocabulary) and every whole one through `responses.assemble`, which holds it to OpenAI's
order and shapes. The tests that need a response still running when they act on it use
the mock's clock and a scenario with a pause, so they are ``mock_only``.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from .checks import advance, all_at_once, assert_error, freeze
from .responses import (
    ASK,
    HELLO,
    PATH,
    TOOLS,
    WEATHER,
    answer,
    assemble,
    balance,
    buckets,
    check_response,
    events,
    items,
    normalised,
    rid_of,
    stream,
    unique,
    user,
)
from .sse import RESPONSE_TERMINAL, read
from .target import Target, client_for, new_key

NAMED = {"type": "function", "name": "get_weather"}
PAUSED = {"X-Mock-Scenario": "slow-stream"}  # text, then 40 s of clock time, then text


def test_r5_a_stream_starts_with_response_created_and_ends_once(api: httpx.Client) -> None:
    """R5: 200 text/event-stream with X-Response-Id; the first event is response.created
    whose data.id and data.response.id are that id; exactly one terminal event, last."""
    found = stream(api, {"input": HELLO})
    assert found.status == 200, found.body
    assert found.headers["content-type"].startswith("text/event-stream")
    rid = rid_of(found)
    first = found.frames[0]
    assert (first.seq, first.type) == (0, "response.created")
    assert first.data["id"] == rid
    assert first.data["response"]["id"] == rid
    assert [t for t in found.types if t in RESPONSE_TERMINAL] == [found.types[-1]], found.types
    assert found.terminal.type == "response.completed"


def test_r5_a_text_answer_streams_in_openai_order(api: httpx.Client) -> None:
    """R5: a text answer's events in OpenAI's order and shapes, the deltas adding up to
    the text, and the completed response (R3) holding what the stream built."""
    found = stream(api, {"input": HELLO})
    final = assemble(found.frames)
    check_response(final)
    assert [item["type"] for item in final["output"]] == ["message"]
    deltas = [f for f in found.frames if f.type == "response.output_text.delta"]
    assert deltas, found.types
    assert "".join(f.data["delta"] for f in deltas) == final["output"][0]["content"][0]["text"]


def test_r5_a_tool_call_streams_its_arguments(api: httpx.Client) -> None:
    """R5: a function call streams as an output item whose argument deltas add up to the
    arguments of function_call_arguments.done and of the item done."""
    found = stream(api, {"input": [user(ASK)], "tools": TOOLS, "tool_choice": NAMED})
    final = assemble(found.frames)
    check_response(final)
    calls = items(final, "function_call")
    assert [c["name"] for c in calls] == ["get_weather"], final["output"]
    assert "response.function_call_arguments.done" in found.types
    assert isinstance(json.loads(calls[0]["arguments"]), dict)


def test_r3_r5_reasoning_streams_its_summary_first(api: httpx.Client) -> None:
    """R5 with R3: with reasoning effort, the reasoning item comes first in the stream,
    its summary's text in reasoning_summary_text deltas."""
    found = stream(api, {"input": HELLO, "reasoning": {"effort": "medium"}})
    final = assemble(found.frames)
    check_response(final)
    assert final["output"][0]["type"] == "reasoning", final["output"]
    assert "response.reasoning_summary_text.delta" in found.types
    assert final["output"][0]["summary"][0]["text"].strip()


STREAMED_LIKE_JSON = [
    pytest.param({"input": HELLO}, id="text"),
    pytest.param({"input": [user(ASK)], "tools": TOOLS}, id="tool-call"),
    pytest.param({"input": HELLO, "reasoning": {"effort": "high"}}, id="reasoning"),
]


@pytest.mark.inferred
@pytest.mark.parametrize("body", STREAMED_LIKE_JSON)
def test_r5_r8_the_stream_puts_together_the_json_answer(
    api: httpx.Client, body: dict[str, Any]
) -> None:
    """R5 with R8 [C]: what a stream builds is the answer the same request gets as JSON,
    apart from ids and time (the fake model answers one request the same way twice)."""
    json_answer = answer(api, body)
    streamed = assemble(stream(api, body).frames)
    assert normalised(streamed) == normalised(json_answer)


def test_r5_the_response_goes_on_after_a_disconnect(api: httpx.Client) -> None:
    """R5 with M5: a client that leaves after response.created does not stop the response;
    its events are all there to resume, up to response.completed."""
    cut = stream(api, {"input": HELLO}, stop_after=1)
    assert cut.types == ["response.created"]
    rest = events(api, rid_of(cut), 0)
    final = assemble(cut.frames + rest.frames)
    assert final["status"] == "completed"


@pytest.mark.mock_only
def test_r5_r8_a_dropped_stream_goes_on_and_a_resume_gets_the_rest(
    api: httpx.Client, control: httpx.Client
) -> None:
    """R8 with C5, M5 and C4: a drop fault cuts the stream after 3 events; the response
    goes on, the journal shows the events after the drop unheard until a resume from
    seq 2 delivers them, and the two put together the whole answer."""
    freeze(control)
    fault = json.dumps({"type": "drop", "after_events": 3})
    cut = stream(api, {"input": HELLO}, headers={"X-Mock-Fault": fault})
    assert cut.cut, cut.types
    assert cut.seqs == [0, 1, 2]
    rid = rid_of(cut)

    def heard() -> dict[int, bool]:
        journal = control.get("/_mock/journal", params={"kind": "event"}).json()["entries"]
        return {e["event_seq"]: e["heard"] for e in journal if e["response_id"] == rid}

    before = heard()
    assert [before.get(seq) for seq in range(3)] == [True, True, True], before
    assert not any(before[seq] for seq in before if seq >= 3), before
    rest = events(api, rid, 2)
    assert rest.seqs[0] == 3
    final = assemble(cut.frames + rest.frames)
    assert final == assemble(events(api, rid).frames)
    after = heard()
    assert sorted(after) == list(range(rest.seqs[-1] + 1)), after
    assert all(after.values()), after


@pytest.mark.mock_only
def test_r5_r8_a_cut_frame_ends_the_socket_mid_event_and_a_resume_gets_the_rest(
    api: httpx.Client, control: httpx.Client
) -> None:
    """R8 with C5 and R6: a cut_frame fault sends 2 whole events and half of the third,
    then cuts; the half event is dropped (as a browser would), the response goes on, and
    a resume after seq 1 gets the rest, ending with response.completed."""
    freeze(control)
    fault = json.dumps({"type": "cut_frame", "after_events": 2})
    cut = stream(api, {"input": HELLO}, headers={"X-Mock-Fault": fault}, check=False)
    assert cut.cut, cut.types
    assert cut.seqs == [0, 1], cut.types
    rest = events(api, rid_of(cut), 1)
    assert rest.seqs[0] == 2
    assert assemble(cut.frames + rest.frames)["status"] == "completed"


@pytest.mark.mock_only
def test_r8_a_status_fault_rule_refuses_a_call_and_the_journal_shows_it(
    api: httpx.Client, control: httpx.Client
) -> None:
    """R8 with C5, C4 and A7: a rule matching POST /v1/responses answers its first call
    503 service_unavailable with Retry-After; the next call runs; the journal holds both
    requests with their status, and the answered one's events."""
    freeze(control)
    rule = {
        "match": {"method": "POST", "path": PATH},
        "fault": {"type": "status", "status": 503, "retry_after": 2},
        "schedule": {"times": 1},
    }
    assert control.post("/_mock/faults", json=rule).status_code == 201
    refused = api.post(PATH, json={"input": HELLO})
    assert_error(refused, 503, "service_unavailable")
    assert refused.headers["retry-after"] == "2"
    found = stream(api, {"input": HELLO})
    rid = rid_of(found)
    journal = control.get("/_mock/journal", params={"path": PATH}).json()["entries"]
    requests = [(e["method"], e["status"]) for e in journal if e["kind"] == "request"]
    assert requests == [("POST", 503), ("POST", 200)], journal
    sent = control.get("/_mock/journal", params={"kind": "event"}).json()["entries"]
    assert [e["type"] for e in sent if e.get("response_id") == rid] == found.types


# -- R6: resume ----------------------------------------------------------------------


def test_r6_resume_by_header_or_query(api: httpx.Client) -> None:
    """R6 as M7: Last-Event-ID: n, or ?last_event_id=n, replays the events after n."""
    full = stream(api, {"input": HELLO})
    rid = rid_of(full)
    by_header = events(api, rid, 2)
    assert [f.data for f in by_header.frames] == [f.data for f in full.frames if f.seq > 2]
    by_query = read(api, "GET", f"{PATH}/{rid}/events", params={"last_event_id": "1"})
    assert by_query.status == 200, by_query.body
    assert [f.data for f in by_query.frames] == [f.data for f in full.frames if f.seq > 1]


@pytest.mark.inferred
def test_r6_without_a_position_the_replay_starts_at_0(api: httpx.Client) -> None:
    """R6 with M7 [C]: with neither Last-Event-ID nor ?last_event_id, every event."""
    full = stream(api, {"input": HELLO})
    replay = events(api, rid_of(full))
    assert [f.data for f in replay.frames] == [f.data for f in full.frames]


@pytest.mark.parametrize("bad", ["-1", "abc", "1.5"])
def test_r6_a_malformed_last_event_id_is_400(api: httpx.Client, bad: str) -> None:
    """R6 as M7, with A5: the position must be a non-negative integer."""
    rid = rid_of(stream(api, {"input": HELLO}))
    path = f"{PATH}/{rid}/events"
    assert_error(
        api.get(path, params={"last_event_id": bad}), 400, "invalid_request", "last_event_id"
    )
    assert_error(
        api.get(path, headers={"Last-Event-ID": bad}), 400, "invalid_request", "Last-Event-ID"
    )


def test_r6_an_unknown_response_is_404(api: httpx.Client) -> None:
    """R6: resume and cancel of a response id never given → 404."""
    rid = "resp_" + "0" * 24
    assert_error(api.get(f"{PATH}/{rid}/events"), 404, "not_found", rid)
    assert_error(api.post(f"{PATH}/{rid}/cancel"), 404, "not_found", rid)


@pytest.mark.mock_only
def test_r6_another_tenants_response_is_404(api: httpx.Client, target: Target) -> None:
    """R6 with A4: only the caller's tenant sees its responses: to a second tenant's key
    the resume and the cancel are 404, as for an id never given."""
    rid = rid_of(stream(api, {"input": HELLO}))
    with client_for(target, new_key()) as other:
        assert_error(other.get(f"{PATH}/{rid}/events"), 404, "not_found", rid)
        assert_error(other.post(f"{PATH}/{rid}/cancel"), 404, "not_found", rid)
    assert events(api, rid).terminal.type == "response.completed"


@pytest.mark.mock_only
def test_r6_a_finished_response_is_replayable_for_120_seconds(
    api: httpx.Client, control: httpx.Client
) -> None:
    """R6: kept 120 s of clock time after its end, then 404 to resume and cancel."""
    freeze(control)
    rid = rid_of(stream(api, {"input": HELLO}))
    advance(control, 119.999)
    assert events(api, rid).terminal.type == "response.completed"
    advance(control, 0.001)
    assert_error(api.get(f"{PATH}/{rid}/events"), 404, "not_found", rid)
    assert_error(api.post(f"{PATH}/{rid}/cancel"), 404, "not_found", rid)


# -- R6: cancel ----------------------------------------------------------------------


def test_r6_cancel_after_the_end_is_already_complete(api: httpx.Client) -> None:
    """R6 as M8: cancelling a response that has ended → 200 already_complete; its stream
    still ends with response.completed."""
    full = stream(api, {"input": HELLO})
    rid = rid_of(full)
    assert full.terminal.type == "response.completed"
    response = api.post(f"{PATH}/{rid}/cancel")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "already_complete"
    assert events(api, rid).terminal.type == "response.completed"


@pytest.mark.mock_only
def test_r6_r7_cancel_while_running_ends_with_response_cancelled_and_bills_nothing(
    api: httpx.Client, control: httpx.Client
) -> None:
    """R6 with R7 and U2: a response paused on the clock is cancelled: 202 cancelling, the
    stream ends with response.cancelled (its response cancelled), the balance is as
    before, and a second cancel is already_complete."""
    freeze(control)
    before = balance(api)
    rid = rid_of(stream(api, {"input": HELLO}, stop_after=1, headers=PAUSED))
    response = api.post(f"{PATH}/{rid}/cancel")
    assert response.status_code == 202, response.text
    assert response.json() == {"response_id": rid, "status": "cancelling"}
    rest = events(api, rid, 0)
    terminal = rest.terminal
    assert terminal.type == "response.cancelled", rest.types
    assert terminal.data["response"]["id"] == rid
    assert terminal.data["response"]["status"] == "cancelled"
    assert balance(api) == before
    again = api.post(f"{PATH}/{rid}/cancel")
    assert again.status_code == 200, again.text
    assert again.json()["status"] == "already_complete"


# -- R6: idempotent retries ------------------------------------------------------------


def test_r6_a_retry_with_the_same_key_replays_the_response(
    api: httpx.Client, target: Target
) -> None:
    """R6 as M9, with U1: the same Idempotency-Key and body → the first response's id and
    its stream from seq 0; (on the mock, where the tenant is the test's) the retry is not
    a second call in the response bucket and adds no tokens."""
    key = unique("respond")
    before = buckets(api)["response"]
    first = stream(api, {"input": HELLO}, headers={"Idempotency-Key": key})
    middle = buckets(api)["response"]
    retry = stream(api, {"input": HELLO}, headers={"Idempotency-Key": key})
    assert retry.status == 200, retry.body
    assert rid_of(retry) == rid_of(first)
    assert [f.data for f in retry.frames] == [f.data for f in first.frames]
    if target.is_mock:
        assert middle.calls == before.calls + 1
        assert buckets(api)["response"] == middle


@pytest.mark.mock_only
def test_r6_a_retry_while_the_response_runs_replays_it(
    api: httpx.Client, control: httpx.Client
) -> None:
    """R6 as M9: a retry while the first call still runs joins it (same id, same events
    from seq 0), and no second call starts."""
    freeze(control)
    key = unique("running")
    first = stream(api, {"input": HELLO}, stop_after=2, headers={**PAUSED, "Idempotency-Key": key})
    retry = stream(api, {"input": HELLO}, stop_after=2, headers={**PAUSED, "Idempotency-Key": key})
    assert rid_of(retry) == rid_of(first)
    assert [f.data for f in retry.frames] == [f.data for f in first.frames]
    assert buckets(api)["response"].calls == 1
    stop(api, rid_of(first))


def stop(api: httpx.Client, rid: str) -> None:
    """Cancel a response left running (R6) and read it to its end."""
    assert api.post(f"{PATH}/{rid}/cancel").status_code == 202
    assert events(api, rid).terminal.type == "response.cancelled"


@pytest.mark.mock_only
def test_r6_concurrent_retries_with_one_key_start_exactly_one_response(
    api: httpx.Client, control: httpx.Client, target: Target, key: str
) -> None:
    """R6 as M9: retries racing with one Idempotency-Key are serialised: every one gets
    the same response id, and the response bucket counts one call (U1)."""
    freeze(control)
    race = unique("race")

    def retry() -> str:
        with client_for(target, key) as client:
            found = stream(
                client, {"input": HELLO}, headers={**PAUSED, "Idempotency-Key": race}, stop_after=1
            )
            return rid_of(found)

    ids = all_at_once(6, retry)
    assert len(set(ids)) == 1, ids
    assert buckets(api)["response"].calls == 1
    stop(api, ids[0])


def test_r6_the_same_key_with_another_body_is_422(api: httpx.Client) -> None:
    """R6 as M9: the key of an earlier call with a different body → 422."""
    key = unique("mismatch")
    stream(api, {"input": HELLO}, headers={"Idempotency-Key": key})
    response = api.post(
        PATH, json={"input": "Something else.", "stream": True}, headers={"Idempotency-Key": key}
    )
    assert_error(response, 422, "idempotency_mismatch", "Idempotency-Key")


@pytest.mark.inferred
@pytest.mark.parametrize(("given", "mention"), [("", "empty"), ("k" * 256, "255")])
def test_r6_an_empty_or_overlong_key_is_400(api: httpx.Client, given: str, mention: str) -> None:
    """R6 as M9 (M9 [C]): a blank Idempotency-Key, or one past 255 characters, on a
    streamed call → 400 naming the header; no call is counted (U1, read as a
    difference)."""
    before = buckets(api)["response"].calls
    response = api.post(
        PATH, json={"input": HELLO, "stream": True}, headers={"Idempotency-Key": given}
    )
    assert_error(response, 400, "invalid_request", "Idempotency-Key", mention)
    assert buckets(api)["response"].calls == before


@pytest.mark.mock_only
def test_r6_a_key_is_remembered_for_24_hours(api: httpx.Client, control: httpx.Client) -> None:
    """R6 as M9: a key is kept 24 hours of clock time after its call (a retry just before
    is still the first call's, its events evicted long since: the replay note), then
    forgotten: the same key starts a new response."""
    freeze(control)
    key = unique("day")
    rid = rid_of(stream(api, {"input": HELLO}, headers={"Idempotency-Key": key}))
    advance(control, 86400 - 1)
    late = api.post(PATH, json={"input": HELLO, "stream": True}, headers={"Idempotency-Key": key})
    assert late.status_code == 200, late.text
    assert late.json()["response_id"] == rid
    advance(control, 1)
    again = stream(api, {"input": HELLO}, headers={"Idempotency-Key": key})
    assert rid_of(again) != rid
    assert again.terminal.type == "response.completed"


@pytest.mark.inferred
def test_r1_an_idempotency_key_on_a_json_call_is_ignored(api: httpx.Client) -> None:
    """R1 [C]: without stream, Idempotency-Key is ignored: the same key twice makes two
    responses, and another body with it is no mismatch."""
    key = unique("ignored")
    first = answer(api, {"input": HELLO}, headers={"Idempotency-Key": key})
    second = answer(api, {"input": HELLO}, headers={"Idempotency-Key": key})
    other = answer(
        api,
        {"input": "Something else.", "tools": [WEATHER], "tool_choice": "none"},
        headers={"Idempotency-Key": key},
    )
    assert len({first["id"], second["id"], other["id"]}) == 3


@pytest.mark.mock_only
@pytest.mark.inferred
def test_r6_a_retry_after_eviction_gets_the_replay_note(
    api: httpx.Client, control: httpx.Client
) -> None:
    """R6 as M9 (and M9 [C]): once the response's events are no longer kept, a retry with
    its key → 200 JSON {response_id, status: replayed, note} saying they were evicted,
    with X-Response-Id, and no new call."""
    freeze(control)
    key = unique("late")
    rid = rid_of(stream(api, {"input": HELLO}, headers={"Idempotency-Key": key}))
    advance(control, 121)
    late = stream(api, {"input": HELLO}, headers={"Idempotency-Key": key})
    assert late.status == 200, late.body
    body = late.json()
    assert (body["response_id"], body["status"]) == (rid, "replayed")
    assert "evicted" in body["note"]
    assert late.headers["x-response-id"] == rid
    assert buckets(api)["response"].calls == 1
