"""C4: the timeline journal — what the client sent and what happened, in order, per
tenant. Every test is mock-only and inferred."""

from __future__ import annotations

import socket
import time
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from .checks import advance, assert_error, create, freeze
from .sse import send
from .target import Target, client_for, new_key

pytestmark = [pytest.mark.mock_only, pytest.mark.inferred]


def journal(control: httpx.Client, **filters: str | int) -> list[dict[str, Any]]:
    response = control.get("/_mock/journal", params=filters)
    assert response.status_code == 200, response.text
    entries: list[dict[str, Any]] = response.json()["entries"]
    return entries


def test_c4_requests_are_journaled_with_the_key_masked(
    api: httpx.Client, control: httpx.Client, key: str
) -> None:
    sid = create(api, persistent=True)["id"]
    started = time.perf_counter()
    api.get(f"/v1/sessions/{sid}")
    took_ms = (time.perf_counter() - started) * 1000  # the client's view, sockets included
    api.get("/v1/sessions/sess_000000000000")
    entries = journal(control, kind="request")
    assert [(e["method"], e["path"], e["status"]) for e in entries] == [
        ("POST", "/v1/sessions", 201),
        ("GET", f"/v1/sessions/{sid}", 200),
        ("GET", "/v1/sessions/sess_000000000000", 404),
    ]
    first = entries[0]
    assert first["body_size"] == len(b'{"persistent":true}')
    assert first["outcome"] == "complete"
    assert 0 <= first["first_byte_ms"] <= first["duration_ms"]
    assert entries[1]["session"] == sid
    assert 0 <= entries[1]["duration_ms"] <= took_ms  # measured by the server, inside that
    shown = first["headers"]["authorization"]
    assert shown.startswith("Bearer ")
    assert key.rsplit("_", 1)[1] not in shown  # the secret part never shows whole
    assert all(e["kind"] == "request" for e in entries)
    seqs = [e["seq"] for e in entries]
    assert seqs == sorted(seqs)


def test_c4_a_turn_appears_as_start_events_and_end(
    api: httpx.Client, control: httpx.Client
) -> None:
    freeze(control)
    sid = create(api, persistent=True)["id"]
    stream = send(api, sid, "hi", scenario="quick-answer")
    rid = stream.headers["x-response-id"]
    entries = journal(control, session=str(sid))
    places = [e["seq"] for e in entries]
    assert places == sorted(set(places))  # an event's own number never hides its place
    kinds = [e["kind"] for e in entries]
    assert kinds[0] == "request"  # the create
    assert kinds[1] == "turn.start"
    assert entries[1]["response_id"] == rid
    assert entries[1]["scenario"] == "quick-answer"
    events = [e for e in entries if e["kind"] == "event"]
    assert [e["event_seq"] for e in events] == stream.seqs
    assert [e["type"] for e in events] == stream.types
    assert all(e["heard"] for e in events)
    end = next(e for e in entries if e["kind"] == "turn.end")
    assert end["status"] == "completed"
    assert kinds.index("turn.end") < len(kinds) - 1 - kinds[::-1].index("event")
    request = next(
        e
        for e in entries
        if e["kind"] == "request" and e["method"] == "POST" and e["path"].endswith("/messages")
    )
    assert request["response_id"] == rid


def test_c4_a_faulted_request_names_its_rule_and_a_cut_answer_says_cut(
    api: httpx.Client, control: httpx.Client
) -> None:
    rule = control.post("/_mock/faults", json={"fault": {"type": "cut_frame"}}).json()["id"]
    with pytest.raises(httpx.RemoteProtocolError):
        api.get("/v1/usage")
    (entry,) = journal(control, kind="request")
    assert (entry["status"], entry["outcome"], entry["fault"]) == (200, "cut", rule)
    (fired,) = journal(control, kind="fault")
    assert (fired["rule"], fired["method"], fired["path"]) == (rule, "GET", "/v1/usage")


def test_c4_a_fault_on_a_session_is_journaled_under_that_session(
    api: httpx.Client, control: httpx.Client
) -> None:
    sid = str(create(api, persistent=True)["id"])
    api.get(f"/v1/sessions/{sid}", headers={"X-Mock-Fault": '{"type": "status", "status": 503}'})
    (fired,) = journal(control, kind="fault", session=sid)
    assert (fired["rule"], fired["type"], fired["method"]) == ("header", "status", "GET")


def test_c4_requests_answered_or_not_are_journaled_at_their_clock_time(
    api: httpx.Client, control: httpx.Client
) -> None:
    now = freeze(control)
    with pytest.raises(httpx.RemoteProtocolError):
        api.get("/v1/usage", headers={"X-Mock-Fault": '{"type": "drop"}'})
    api.get("/v1/usage")
    entries = journal(control, kind="request", method="GET")
    assert [(e["at"], e["status"], e["outcome"]) for e in entries] == [
        (now, None, "no_response"),
        (now, 200, "complete"),
    ]


def test_c4_a_client_that_leaves_while_sending_its_body_is_journaled_as_a_400(
    target: Target, api: httpx.Client, control: httpx.Client, key: str
) -> None:
    """Nobody hears that answer, but the journal shows what the mock made of the request
    (and that it was no mock bug)."""
    sid = create(api, persistent=True)["id"]
    address = urlsplit(target.url)
    head = (
        f"PUT /v1/sessions/{sid}/files/left.bin HTTP/1.1\r\nHost: x\r\n"
        f"Authorization: Bearer {key}\r\nContent-Length: 1000\r\n\r\n"
    )
    with socket.create_connection((address.hostname, address.port), timeout=5) as sock:
        sock.sendall(head.encode() + b"x" * 10)
    deadline = time.monotonic() + 5  # the server notices the close on its own time
    while time.monotonic() < deadline:
        entries = journal(control, kind="request", method="PUT")
        if entries and entries[0]["status"] is not None:
            break
        time.sleep(0.02)
    assert [(e["status"], e["body_size"]) for e in entries] == [(400, 10)]


def test_c4_clock_moves_expiries_and_deletions(api: httpx.Client, control: httpx.Client) -> None:
    start = freeze(control)
    brief = create(api)["id"]  # non-persistent: idle expiry after 5 minutes
    kept = create(api, persistent=True)["id"]
    advance(control, 301)
    api.delete(f"/v1/sessions/{kept}")
    other = create(api, persistent=True)["id"]
    assert api.delete("/v1/sessions", params={"status": "idle"}).json() == {"deleted": 1}
    clocks = journal(control, kind="clock")
    assert [c["action"] for c in clocks] == ["set", "advance"]
    assert clocks[1]["from"] == start
    assert clocks[1]["to"] == start + 301
    expiry = journal(control, kind="expiry")
    assert [(e["session"], e["reason"]) for e in expiry] == [(brief, "idle")]
    assert expiry[0]["at"] == start + 300  # fired at its deadline, during the advance
    deletions = journal(control, kind="deletion")
    assert [(d["session"], d["by"]) for d in deletions] == [(kept, "delete"), (other, "bulk")]
    assert deletions[1]["filter"] == {"status": "idle"}


def test_c4_filters_and_since(api: httpx.Client, control: httpx.Client) -> None:
    sid = create(api, persistent=True)["id"]
    api.get(f"/v1/sessions/{sid}")
    api.get("/v1/usage")
    assert [e["path"] for e in journal(control, method="GET")] == [
        f"/v1/sessions/{sid}",
        "/v1/usage",
    ]
    assert [e["method"] for e in journal(control, path="/v1/sessions/*")] == ["GET"]
    assert len(journal(control, path="/v1/**")) == 3
    everything = journal(control)
    last = everything[-1]["seq"]
    assert journal(control, since=last) == []
    api.get("/v1/usage")
    new = journal(control, since=last)
    assert [e["path"] for e in new] == ["/v1/usage"]
    answer = control.get("/_mock/journal").json()
    assert answer["last"] == new[-1]["seq"]
    assert answer["dropped"] == 0


def test_c4_clear(api: httpx.Client, control: httpx.Client) -> None:
    api.get("/v1/usage")
    assert control.delete("/_mock/journal").status_code == 204
    assert journal(control) == []


def test_c4_journals_are_per_tenant(target: Target, api: httpx.Client) -> None:
    with client_for(target, new_key()) as other:
        other.get("/v1/usage")
        api.get("/v1/sessions")
        assert [e["path"] for e in journal(other, kind="request")] == ["/v1/usage"]
        assert [e["path"] for e in journal(api, kind="request")] == ["/v1/sessions"]


def test_c4_the_control_plane_is_not_journaled(control: httpx.Client) -> None:
    control.get("/_mock/clock")
    control.get("/_mock/state")
    assert journal(control, kind="request") == []


@pytest.mark.parametrize(
    ("params", "mention"),
    [
        ({"kind": "nonsense"}, "kind"),
        ({"since": "-1"}, "since"),
        ({"since": "9" * 40}, "since"),
        ({"since": "²"}, "since"),
        ({"path": "/" + "a" * 600}, "path"),
        ({"verb": "GET"}, "verb"),
    ],
)
def test_c4_bad_filters_are_400(
    control: httpx.Client, params: dict[str, str], mention: str
) -> None:
    assert_error(control.get("/_mock/journal", params=params), 400, "invalid_request", mention)
