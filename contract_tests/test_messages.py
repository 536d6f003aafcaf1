"""Section M: messages and turns over Server-Sent Events, over real sockets."""

from __future__ import annotations

import re
import secrets
from itertools import pairwise

import httpx
import pytest

from .checks import (
    advance,
    all_at_once,
    assert_error,
    create,
    freeze,
    run_to_end,
    turn_windows,
)
from .sse import TERMINAL, Stream, open_stream, read, resume, send
from .target import Target, client_for

DECK = "Build a Temasek-style PPT on Q3 NVIDIA performance."


def unique(label: str) -> str:
    """An Idempotency-Key no other test or run has used: keys live 24 h per tenant (M9),
    so a fixed one would replay the last run's turn on a deployment."""
    return f"{label}-{secrets.token_hex(6)}"


def session(api: httpx.Client, **fields: object) -> str:
    return str(create(api, persistent=True, **fields)["id"])


def scoped_session(api: httpx.Client, folder: str) -> str:
    """A session whose turns may write only in the test's own folder (F8). The tests that
    start a long turn (the deck) cancel it long before it writes; should the target get
    that far anyway (a fast clock, a real agent), it still cannot replace a file of the
    tenant's."""
    return session(api, file_access={"read": [folder], "write": [folder]})


def complete(
    api: httpx.Client, control: httpx.Client, sid: str, message: str, scenario: str
) -> Stream:
    """Run a turn to its end on the virtual clock and read its whole stream (M7)."""
    freeze(control)
    rid = send(api, sid, message, scenario=scenario, stop_after=0).headers["x-response-id"]
    run_to_end(api, control, sid)
    return resume(api, sid, rid, None)


def test_m1_a_message_streams_a_turn(api: httpx.Client) -> None:
    """M1: 200, text/event-stream, X-Response-Id (msg_…) = data.id of message.created and
    of the terminal event."""
    sid = session(api)
    stream = send(api, sid, "hello there")
    assert stream.status == 200
    assert stream.headers["content-type"].startswith("text/event-stream")
    response_id = stream.headers["x-response-id"]
    assert response_id.startswith("msg_")
    first = stream.frames[0]
    assert first.type == "message.created"
    assert first.data["id"] == response_id
    assert first.data["session_id"] == sid
    assert first.data["status"] == "in_progress"
    assert stream.terminal.data["id"] == response_id
    assert not stream.cut


@pytest.mark.inferred
def test_m1_a_response_id_is_msg_and_24_hex_digits(api: httpx.Client) -> None:
    """M1 [C]: the response id is msg_ followed by 24 lowercase hex digits."""
    stream = send(api, session(api), "hello")
    assert stream.status == 200
    assert re.fullmatch(r"msg_[0-9a-f]{24}", stream.headers["x-response-id"])


@pytest.mark.parametrize(
    ("body", "status", "error", "mention"),
    [
        (b'{"message": ""}', 400, "invalid_request", "message"),
        (b"{}", 400, "invalid_request", "message"),
        (b"", 400, "invalid_request", "body"),
        (b"not json", 400, "invalid_request", "JSON"),
        (b'{"message": 5}', 400, "invalid_request", "message"),
        pytest.param(  # A8 [C]: an unknown field is refused, not ignored
            *(b'{"message": "hi", "stream": true}', 400, "invalid_request", "stream"),
            marks=pytest.mark.inferred,
        ),
    ],
)
def test_m1_bad_messages_are_400(
    api: httpx.Client, body: bytes, status: int, error: str, mention: str
) -> None:
    """M1 with A5/A8: empty, missing, non-JSON or unknown fields → 400 naming the problem."""
    sid = session(api)
    response = api.post(f"/v1/sessions/{sid}/messages", content=body)
    assert_error(response, status, error, mention)
    assert api.get(f"/v1/sessions/{sid}").json()["busy"] is False


def test_m1_unknown_session_is_404(api: httpx.Client) -> None:
    """M1: a message to an unknown session → 404."""
    response = api.post("/v1/sessions/sess_000000000000/messages", json={"message": "hi"})
    assert_error(response, 404, "not_found", "sess_000000000000")


def test_m3_framing(api: httpx.Client) -> None:
    """M3: three field lines per event, id / event / data in that order; seq starts at 0,
    grows with every event and is repeated as data.sequence_number."""
    stream = send(api, session(api), "hello")
    assert stream.seqs[0] == 0
    for frame in stream.frames:
        assert [line.split(":", 1)[0] for line in frame.lines] == ["id", "event", "data"]
        assert frame.seq == frame.data["sequence_number"]
    assert all(a < b for a, b in pairwise(stream.seqs))


@pytest.mark.inferred
def test_m3_seq_goes_up_by_one_and_there_is_no_retry_field(api: httpx.Client) -> None:
    """M3 [C]: seq goes up by exactly one per event, and no event has a retry: field."""
    stream = send(api, session(api), "hello")
    assert stream.seqs == list(range(len(stream.frames)))
    assert not [line for frame in stream.frames for line in frame.lines if line.startswith("retry")]


@pytest.mark.mock_only
def test_m3_pings_follow_the_clock(api: httpx.Client, control: httpx.Client) -> None:
    """M3 [C] and C1: a comment line per 15 s of clock time without events; advancing the
    virtual clock past a pause lets the stream continue at once."""
    freeze(control)
    sid = session(api)
    with open_stream(
        api,
        "POST",
        f"/v1/sessions/{sid}/messages",
        json={"message": "slow"},
        headers={"X-Mock-Scenario": "slow-stream"},
    ) as live:
        for frame in live.events():  # read up to the first text.stop: the turn is now paused
            if frame.type == "text.stop":
                break
        assert live.stream.pings == 0
        advance(control, 40)
        rest = [frame.type for frame in live.events()]
    assert live.stream.pings == 2
    assert rest[-1] == "message.completed"


def test_m4_one_terminal_event_last_and_usage(api: httpx.Client) -> None:
    """M4: message.created first, exactly one terminal event, last; message.completed
    carries its status and usage."""
    stream = send(api, session(api), "hello")
    assert stream.types[0] == "message.created"
    assert sum(t in TERMINAL for t in stream.types) == 1
    terminal = stream.terminal
    assert terminal.type == "message.completed"
    assert terminal.data["status"] == "completed"
    assert "usage" in terminal.data
    assert stream.types[1:-1] == [
        "text.start",
        *["text.delta"] * (len(stream.types) - 4),
        "text.stop",
    ]


@pytest.mark.inferred
def test_m4_usage_is_input_and_output_tokens(api: httpx.Client) -> None:
    """M4 [C]: usage is {input_tokens, output_tokens}, each a non-negative integer."""
    usage = send(api, session(api), "hello").terminal.data["usage"]
    assert set(usage) == {"input_tokens", "output_tokens"}
    assert all(isinstance(v, int) and v >= 0 for v in usage.values())


@pytest.mark.mock_only
def test_m4_tool_events(api: httpx.Client, control: httpx.Client) -> None:
    """M4: tool_use.start/input_delta/executing/stop and tool_result with is_error."""
    stream = complete(api, control, session(api), "x", "tool-error")
    assert stream.types[1:6] == [
        "tool_use.start",
        "tool_use.input_delta",
        "tool_use.executing",
        "tool_use.stop",
        "tool_result",
    ]
    start, _, executing, _, result = stream.frames[1:6]
    assert start.data["name"] == executing.data["name"] == "fetch_url"
    assert start.data["id"] == executing.data["id"] == result.data["id"]
    assert executing.data["input"] == {"url": "https://example.invalid/data"}
    assert result.data["is_error"] is True
    assert stream.terminal.type == "message.completed"


@pytest.mark.mock_only
def test_m4_a_failing_turn_ends_with_message_error(
    api: httpx.Client, control: httpx.Client
) -> None:
    """M4: message.error {id, error}; the session stays usable."""
    sid = session(api)
    stream = complete(api, control, sid, "x", "turn-error")
    response_id = stream.frames[0].data["id"]
    assert stream.terminal.type == "message.error"
    assert stream.terminal.data == {
        "id": response_id,
        "error": "upstream_model_error",
        "sequence_number": stream.terminal.seq,
    }
    assert send(api, sid, "again").terminal.type == "message.completed"


def test_m2_one_turn_at_a_time(api: httpx.Client, target: Target, folder: str) -> None:
    """M2: a message to a busy session → 409 session_busy; a 409 starts no turn (U1)."""
    sid = scoped_session(api, folder)
    turns = turn_windows(api)["hour"]["turns"]  # the tenant's turns so far, whatever they are
    first = send(api, sid, DECK, stop_after=1)
    assert api.get(f"/v1/sessions/{sid}").json()["busy"] is True
    response = api.post(f"/v1/sessions/{sid}/messages", json={"message": "another"})
    assert_error(response, 409, "session_busy", sid)
    if target.is_mock:
        assert turn_windows(api)["hour"]["turns"] == turns + 1
    api.post(f"/v1/sessions/{sid}/responses/{first.headers['x-response-id']}/cancel")


BUILT_IN = [
    "quick-answer",
    "presentation",
    "report",
    "tool-error",
    "turn-error",
    "dropped-stream",
    "slow-stream",
]


@pytest.mark.mock_only
def test_m5_effects_are_visible_before_the_terminal_event(
    api: httpx.Client, control: httpx.Client
) -> None:
    """M5 [C]: once a reader sees the terminal event, GET shows busy false, the final
    metadata and the files."""
    freeze(control)
    sid = session(api)
    live = send(api, sid, DECK, stop_after=1)
    run_to_end(api, control, sid)
    stream = resume(api, sid, live.headers["x-response-id"], 0)
    assert stream.terminal.type == "message.completed"
    record = api.get(f"/v1/sessions/{sid}").json()
    assert record["busy"] is False
    assert record["metadata"]["temasek_status"] == "completed"
    files = [f["path"] for f in control.get("/_mock/state").json()["files"]]
    assert "output/q3-nvidia-performance.pptx" in files


@pytest.mark.mock_only
def test_m6_metadata_moves_through_stages_and_keeps_create_time_keys(
    api: httpx.Client, control: httpx.Client
) -> None:
    """M6: the presentation flow writes metadata.temasek_status while it runs; metadata
    given at create is kept."""
    freeze(control)
    sid = session(api, metadata={"project": "q3"})
    send(api, sid, DECK, stop_after=1)
    stages: list[str | None] = []
    for _ in range(12):
        status = api.get(f"/v1/sessions/{sid}").json()["metadata"].get("temasek_status")
        if not stages or stages[-1] != status:
            stages.append(status)
        advance(control, 20)
    assert stages[0] in ("queued", "researching")
    assert stages[-1] == "completed"
    assert len(stages) >= 4
    assert api.get(f"/v1/sessions/{sid}").json()["metadata"]["project"] == "q3"


def test_m7_resume_by_header_or_query(api: httpx.Client) -> None:
    """M7: Last-Event-ID or ?last_event_id replays seq > n."""
    sid = session(api)
    full = send(api, sid, "hello")
    rid = full.headers["x-response-id"]
    path = f"/v1/sessions/{sid}/responses/{rid}/events"
    assert resume(api, sid, rid, 2).seqs == [s for s in full.seqs if s > 2]
    assert read(api, "GET", path, params={"last_event_id": "1"}).seqs == [
        s for s in full.seqs if s > 1
    ]


@pytest.mark.inferred
def test_m7_without_a_position_the_replay_starts_at_0(api: httpx.Client) -> None:
    """M7 [C]: with neither Last-Event-ID nor ?last_event_id, the whole turn is replayed."""
    sid = session(api)
    full = send(api, sid, "hello")
    replay = resume(api, sid, full.headers["x-response-id"], None)
    assert [f.data for f in replay.frames] == [f.data for f in full.frames]


@pytest.mark.parametrize("bad", ["-1", "abc", "1.5", "", "+3", "٣"])
def test_m7_malformed_last_event_id_is_400(api: httpx.Client, bad: str) -> None:
    """M7 with A5: Last-Event-ID (header or query) must be a non-negative integer."""
    sid = session(api)
    rid = send(api, sid, "hello").headers["x-response-id"]
    path = f"/v1/sessions/{sid}/responses/{rid}/events"
    by_query = api.get(path, params={"last_event_id": bad})
    assert_error(by_query, 400, "invalid_request", "last_event_id")
    if bad.isascii() and bad:
        by_header = api.get(path, headers={"Last-Event-ID": bad})
        assert_error(by_header, 400, "invalid_request", "Last-Event-ID")


def test_m7_unknown_response_is_404(api: httpx.Client) -> None:
    sid = session(api)
    path = f"/v1/sessions/{sid}/responses/msg_{'0' * 24}/events"
    assert_error(api.get(path), 404, "not_found", "msg_")


@pytest.mark.mock_only
def test_m7_a_finished_turn_is_replayable_for_120_seconds(
    api: httpx.Client, control: httpx.Client
) -> None:
    """M7: retained 120 s after it ended, then 404 (M8: cancel is 404 too)."""
    freeze(control)
    sid = session(api)
    rid = send(api, sid, "hello").headers["x-response-id"]
    advance(control, 119.999)
    assert resume(api, sid, rid, None).terminal.type == "message.completed"
    advance(control, 0.001)
    assert_error(api.get(f"/v1/sessions/{sid}/responses/{rid}/events"), 404, "not_found", rid)
    assert_error(api.post(f"/v1/sessions/{sid}/responses/{rid}/cancel"), 404, "not_found")


def test_m8_cancel_while_running_and_after(api: httpx.Client, folder: str) -> None:
    """M8: 202 cancelling while running, the stream ends with message.cancelled and busy
    is false; 200 already_complete after; 404 for an unknown rid."""
    sid = scoped_session(api, folder)
    rid = send(api, sid, DECK, stop_after=1).headers["x-response-id"]
    response = api.post(f"/v1/sessions/{sid}/responses/{rid}/cancel")
    assert response.status_code == 202
    assert response.json() == {"response_id": rid, "status": "cancelling"}
    stream = resume(api, sid, rid, 0)  # after message.created, the one event read
    assert stream.terminal.type == "message.cancelled"
    assert api.get(f"/v1/sessions/{sid}").json()["busy"] is False
    again = api.post(f"/v1/sessions/{sid}/responses/{rid}/cancel")
    assert again.status_code == 200
    assert again.json()["status"] == "already_complete"
    unknown = api.post(f"/v1/sessions/{sid}/responses/msg_{'1' * 24}/cancel")
    assert_error(unknown, 404, "not_found")


@pytest.mark.inferred
def test_m4_message_cancelled_carries_the_id_and_status_cancelled(
    api: httpx.Client, folder: str
) -> None:
    """M4 [C] with M8: the data of message.cancelled is {id, status: "cancelled"}."""
    sid = scoped_session(api, folder)
    rid = send(api, sid, DECK, stop_after=1).headers["x-response-id"]
    assert api.post(f"/v1/sessions/{sid}/responses/{rid}/cancel").status_code == 202
    terminal = resume(api, sid, rid, 0).terminal
    assert terminal.type == "message.cancelled"
    assert (terminal.data["id"], terminal.data["status"]) == (rid, "cancelled")


def test_m9_a_retry_during_the_turn_replays_it(api: httpx.Client, folder: str) -> None:
    """M9: same key, same body, same session while the turn runs → the original response
    id and its stream from seq 0, no new turn and no 409."""
    sid = scoped_session(api, folder)
    key = unique("retry")
    first = send(api, sid, DECK, key=key, stop_after=2)
    retry = send(api, sid, DECK, key=key, stop_after=2)
    assert retry.status == 200
    assert retry.headers["x-response-id"] == first.headers["x-response-id"]
    assert [f.data for f in retry.frames] == [f.data for f in first.frames]
    api.post(f"/v1/sessions/{sid}/responses/{first.headers['x-response-id']}/cancel")


def test_m9_a_retry_after_the_turn_replays_it(api: httpx.Client) -> None:
    sid = session(api)
    key = unique("retry")
    first = send(api, sid, "hello", key=key)
    retry = send(api, sid, "hello", key=key)
    assert retry.headers["x-response-id"] == first.headers["x-response-id"]
    assert [f.data for f in retry.frames] == [f.data for f in first.frames]


def test_m9_the_same_key_with_another_body_or_session_is_422(api: httpx.Client) -> None:
    sid, other = session(api), session(api)
    key = unique("retry")
    send(api, sid, "hello", key=key)
    changed = api.post(
        f"/v1/sessions/{sid}/messages",
        json={"message": "bye"},
        headers={"Idempotency-Key": key},
    )
    assert_error(changed, 422, "idempotency_mismatch", "Idempotency-Key")
    elsewhere = api.post(
        f"/v1/sessions/{other}/messages",
        json={"message": "hello"},
        headers={"Idempotency-Key": key},
    )
    assert_error(elsewhere, 422, "idempotency_mismatch", "Idempotency-Key")


@pytest.mark.inferred
@pytest.mark.parametrize(("given", "mention"), [("", "empty"), ("k" * 256, "255")])
def test_m9_an_empty_or_overlong_key_is_400(api: httpx.Client, given: str, mention: str) -> None:
    """M9 [C]: a blank key would make every client that sends the header blank share one
    turn; a key is kept a day, so it is bounded. Nothing starts."""
    sid = session(api)
    before = turn_windows(api)["hour"]["turns"]  # the tenant's turns so far, whatever they are
    response = api.post(
        f"/v1/sessions/{sid}/messages", json={"message": "hi"}, headers={"Idempotency-Key": given}
    )
    assert_error(response, 400, "invalid_request", "Idempotency-Key", mention)
    assert api.get(f"/v1/sessions/{sid}").json()["busy"] is False
    assert turn_windows(api)["hour"]["turns"] == before


@pytest.mark.mock_only
def test_m9_concurrent_retries_start_exactly_one_turn(
    api: httpx.Client, control: httpx.Client, target: Target, key: str
) -> None:
    """M9: retries racing with one key are serialised; one turn starts (U1 counts one)."""
    freeze(control)
    sid = session(api)
    race = unique("race")

    def retry() -> str:
        with client_for(target, key) as client:
            found = send(client, sid, DECK, key=race, stop_after=1)
            return str(found.headers["x-response-id"])

    ids = all_at_once(8, retry)
    assert len(set(ids)) == 1
    assert turn_windows(api)["hour"]["turns"] == 1


@pytest.mark.mock_only
def test_m9_a_retry_after_eviction_gets_the_replay_note(
    api: httpx.Client, control: httpx.Client
) -> None:
    """M9: once the turn's buffer is evicted → 200 JSON {response_id, status, note}, the
    note saying it was evicted (M9 [C]: in the word "evicted", and the X-Response-Id
    header on this answer too)."""
    freeze(control)
    sid = session(api)
    first = send(api, sid, "hello", key="late")
    advance(control, 121)
    retry = send(api, sid, "hello", key="late")
    assert retry.status == 200
    body = retry.json()
    assert body["response_id"] == first.headers["x-response-id"]
    assert retry.headers["x-response-id"] == first.headers["x-response-id"]
    assert body["status"] == "replayed"
    assert "evicted" in body["note"]


@pytest.mark.mock_only
def test_s5_deleting_a_busy_session_cancels_its_turn(api: httpx.Client) -> None:
    """S5 [C]: the open stream ends with message.cancelled, then the session is gone."""
    sid = session(api)
    with open_stream(api, "POST", f"/v1/sessions/{sid}/messages", json={"message": DECK}) as live:
        next(live.events())
        assert api.delete(f"/v1/sessions/{sid}").status_code == 204
        rest = [frame.type for frame in live.events()]
    assert rest[-1] == "message.cancelled"
    assert api.get(f"/v1/sessions/{sid}").status_code == 404


@pytest.mark.mock_only
@pytest.mark.inferred
def test_s6_status_busy_and_any_reach_busy_sessions(api: httpx.Client) -> None:
    """S6 [C]: status=busy selects running sessions; deleting them cancels their turns."""
    busy, idle = session(api), session(api)
    rid = send(api, busy, DECK, stop_after=1).headers["x-response-id"]
    assert api.delete("/v1/sessions", params={"status": "busy"}).json() == {"deleted": 1}
    assert api.get(f"/v1/sessions/{busy}").status_code == 404
    assert api.get(f"/v1/sessions/{idle}").status_code == 200
    assert_error(api.post(f"/v1/sessions/{busy}/responses/{rid}/cancel"), 404, "not_found")


@pytest.mark.mock_only
@pytest.mark.inferred
def test_s7_a_turn_running_at_the_ttl_ends_with_session_expired(
    api: httpx.Client, control: httpx.Client
) -> None:
    """S7 [C]: message.error session_expired, and the session is destroyed."""
    freeze(control)
    sid = str(create(api, persistent=True, ttl=60)["id"])
    rid = send(api, sid, DECK, stop_after=1).headers["x-response-id"]
    with open_stream(
        api, "GET", f"/v1/sessions/{sid}/responses/{rid}/events", headers={"Last-Event-ID": "0"}
    ) as live:
        advance(control, 60)
        rest = list(live.events())
    assert rest[-1].type == "message.error"
    assert rest[-1].data["error"] == "session_expired"
    assert api.get(f"/v1/sessions/{sid}").status_code == 404


@pytest.mark.mock_only
@pytest.mark.inferred
def test_s8_last_activity_moves_when_a_message_is_accepted_and_when_the_turn_ends(
    api: httpx.Client, control: httpx.Client
) -> None:
    """S8 [C]: accepted → last_activity = now; the end → now again; the idle 5 minutes
    count from the end of the turn."""
    start = freeze(control)
    sid = str(create(api)["id"])
    advance(control, 100)
    rid = send(api, sid, DECK, stop_after=1).headers["x-response-id"]
    assert api.get(f"/v1/sessions/{sid}").json()["last_activity"] == start + 100
    run_to_end(api, control, sid)
    assert resume(api, sid, rid, 0).terminal.type == "message.completed"
    ended = api.get(f"/v1/sessions/{sid}").json()["last_activity"]
    now = control.get("/_mock/clock").json()["now"]
    assert start + 100 < ended <= now
    advance(control, ended + 300 - now - 0.001)
    assert api.get(f"/v1/sessions/{sid}").status_code == 200
    advance(control, 0.001)
    assert api.get(f"/v1/sessions/{sid}").status_code == 404


@pytest.mark.mock_only
def test_u1_turns_count_once_each(api: httpx.Client) -> None:
    """U1 [C]: a turn counts once when it starts; replays and 409s do not count."""
    sid = session(api)
    key = unique("k")
    send(api, sid, "one", key=key)
    send(api, sid, "one", key=key)
    send(api, sid, "two")
    window = turn_windows(api)["hour"]
    assert window["turns"] == 2
    assert window["tokens"] > 0


@pytest.mark.mock_only
def test_c6_scenario_choice(api: httpx.Client, control: httpx.Client) -> None:
    """C6: X-Mock-Scenario forces; else the first matching pattern; else the default;
    an unknown name is 400 naming it; GET /_mock/scenarios lists what is loaded."""
    listed = control.get("/_mock/scenarios").json()
    assert listed["default"] == "quick-answer"
    assert set(BUILT_IN) <= {s["name"] for s in listed["scenarios"]}
    sid = session(api)
    assert "tool_use.start" in complete(api, control, sid, "hello", "tool-error").types
    assert "tool_use.start" not in send(api, sid, "hello").types
    response = api.post(
        f"/v1/sessions/{sid}/messages",
        json={"message": "hi"},
        headers={"X-Mock-Scenario": "no-such-thing"},
    )
    assert_error(response, 400, "invalid_request", "X-Mock-Scenario", "no-such-thing")
    state = control.get("/_mock/state").json()
    assert [t["scenario"] for t in state["turns"]] == ["tool-error", "quick-answer"]
