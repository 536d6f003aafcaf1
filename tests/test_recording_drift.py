"""The recorder's drift report (mock_pokee/recording/drift.py): what a recording saw that
the contract does not name, counted, with a first example, redacted, in ``drift.md``."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from contract_tests.sse import EVENT_TYPES, RESPONSE_EVENT_TYPES, Follower, Frame, read, send
from mock_pokee import __version__
from mock_pokee.recording.drift import KEPT, MAX_FINDINGS, DriftReport, Finding, Surface
from mock_pokee.recording.redact import Redactor, parse_rules
from mock_pokee.server import ThreadedServer
from mock_pokee.settings import Settings
from mock_pokee.testing import new_key
from mock_pokee.vocabulary import (
    EVERY_EVENT,
    EVERY_RESPONSE_EVENT,
    RESPONSE_EVENTS,
    TURN_EVENTS,
)

SESSION = {
    "id": "ses_abc",
    "created_at": 1,
    "last_activity": 1,
    "busy": False,
    "persistent": False,
    "ttl": 3600,
    "status": "idle",
    "metadata": {"anything": "goes in metadata"},
    "file_access": {"read": [""], "write": [""]},
}


def kinds(report: DriftReport) -> list[tuple[str, str, str, int]]:
    return [(f.kind, f.where, f.what, f.count) for f in report.findings]


def test_the_checker_and_the_report_share_one_vocabulary() -> None:
    assert set(TURN_EVENTS) == EVENT_TYPES
    assert set(RESPONSE_EVENTS) == RESPONSE_EVENT_TYPES


def test_every_known_event_with_its_known_fields_is_no_drift() -> None:
    report = DriftReport()
    for type_, fields in TURN_EVENTS.items():
        report.event("turn", type_, {name: 1 for name in fields | EVERY_EVENT})
    for type_, fields in RESPONSE_EVENTS.items():
        report.event("response", type_, {name: 1 for name in fields | EVERY_RESPONSE_EVENT})
    assert report.findings == []
    assert report.events == len(TURN_EVENTS) + len(RESPONSE_EVENTS) == 33
    assert report.summary() == "no drift in 0 answers and 33 events"


def test_the_fields_of_the_turn_events_are_the_contracts() -> None:
    """M4 and M12, as the mock sends them (a few spelled out, so a slip shows)."""
    assert TURN_EVENTS["message.created"] == {"id", "session_id", "status"}
    assert TURN_EVENTS["message.completed"] == {"id", "status", "usage"}
    assert TURN_EVENTS["message.error"] == {"id", "error"}
    assert TURN_EVENTS["tool_use.executing"] == {"name", "id", "input"}
    assert TURN_EVENTS["tool_call.requested"] == {"call_id", "name", "arguments"}
    assert TURN_EVENTS["text.stop"] == frozenset()


def test_an_unknown_type_and_an_unknown_field_are_each_one_finding_with_a_count() -> None:
    report = DriftReport()
    for seq in range(3):
        report.event("turn", "message.progress", {"percent": seq, "sequence_number": seq})
    report.event("turn", "text.delta", {"content": "a", "index": 0, "sequence_number": 3})
    report.event("turn", "text.delta", {"content": "b", "index": 1, "sequence_number": 4})
    # A field is known per type: content belongs to text.delta, not to text.start.
    report.event("turn", "text.start", {"content": "", "sequence_number": 5})
    report.event("response", "response.output_text.delta", {"obfuscation": "x", "type": "t"})
    report.event("response", "message.created", {})  # a turn's type on the other stream
    assert kinds(report) == [
        ("event type", "session turn", "message.progress", 3),
        ("event field", "text.delta (session turn)", "index", 2),
        ("event field", "text.start (session turn)", "content", 1),
        ("event field", "response.output_text.delta (/v1/responses)", "obfuscation", 1),
        ("event type", "/v1/responses", "message.created", 1),
    ]
    first = report.findings[0]
    assert first.example == '{"percent": 0, "sequence_number": 0}'
    assert report.findings[1].example == "0"  # the first value, as JSON


def test_a_status_the_document_does_not_list_is_one_finding() -> None:
    report = DriftReport()
    report.answer("POST", "/v1/sessions", 201, SESSION)
    report.answer("POST", "/v1/sessions", 418, {"error": "teapot", "message": "short"})
    report.answer("POST", "/v1/sessions", 418, {"error": "teapot", "message": "again"})
    report.answer("GET", "/v1/sessions/ses_abc/files/a/b.txt", 500, None)
    teapot = '{"error": "teapot", "message": "short"}'
    download = "GET /v1/sessions/{session_id}/files/{file_path}"
    assert report.findings == [
        Finding("status", "POST /v1/sessions", "418", teapot, cut=False, count=2),
        Finding("status", download, "500", "no JSON body", cut=False, count=1),
    ]
    assert report.answers == 4


def test_an_unknown_operation_is_drift_named_by_its_nearest_template() -> None:
    report = DriftReport()
    report.answer("GET", "/v1/sessions/ses_1/notes", 200, {"notes": []})
    report.answer("GET", "/v1/sessions/ses_2/notes", 200, {"notes": []})
    report.answer("GET", "/v2/models", 404, None)
    report.answer("PATCH", "/v1/sessions", 405, {"error": "method_not_allowed", "message": "m"})
    report.answer("PATCH", "/v1/sessions/ses_1", 200, SESSION)
    report.answer("GET", "/v1/sessions/", 404, None)  # the trailing slash is another path
    assert kinds(report) == [
        ("operation", "", "GET /v1/sessions/{session_id}/notes", 2),
        ("operation", "", "GET /v2/models", 1),
        ("operation", "", "PATCH /v1/sessions/{session_id}", 1),
        ("operation", "", "GET /v1/sessions/", 1),
    ]
    assert report.findings[0].example == "GET /v1/sessions/ses_1/notes → 200"


def test_a_top_level_field_the_schema_does_not_name_is_drift() -> None:
    report = DriftReport()
    report.answer("GET", "/v1/sessions/ses_abc", 200, {**SESSION, "region": "eu"})
    report.answer("GET", "/v1/sessions/ses_abc", 200, {**SESSION, "region": "us"})
    report.answer("HEAD", "/v1/sessions/ses_abc?x=1", 200, {**SESSION, "region": "us"})
    report.answer("GET", "/v1/sessions/ses_abc", 200, SESSION)  # metadata holds anything
    report.answer(
        "GET", "/v1/sessions/ses_abc", 404, {"error": "not_found", "message": "m", "trace": 1}
    )
    listing = [
        {"name": "a", "type": "file", "size": 1, "modified": 1, "owner": "x"},
        {"name": "b", "type": "file", "size": 1, "modified": 1, "owner": "y"},
    ]
    report.answer("GET", "/v1/sessions/ses_abc/files", 200, listing)
    report.answer("GET", "/v1/sessions/ses_abc/files", 200, {"unexpected": "shape"})
    # A download may be a JSON file of the user's: its fields are nobody's contract.
    report.answer("GET", "/v1/sessions/ses_abc/files/a/b.json", 200, {"any": "thing"})
    assert kinds(report) == [
        ("answer field", "GET /v1/sessions/{session_id} 200", "region", 3),
        ("answer field", "GET /v1/sessions/{session_id} 404", "trace", 1),
        ("answer field", "GET /v1/sessions/{session_id}/files 200", "owner", 2),
    ]  # fmt: skip
    assert report.findings[0].example == '"eu"'


def test_the_mocks_control_plane_is_not_the_contracts() -> None:
    report = DriftReport()
    report.answer("GET", "/_mock/state", 200, {"tenants": []})
    report.answer("POST", "/_mock", 404, None)
    assert report.findings == []
    assert report.answers == 0
    report.answer("GET", "/_mockery", 404, None)
    assert kinds(report) == [("operation", "", "GET /_mockery", 1)]


def test_the_report_lists_each_kind_with_counts_and_first_examples(tmp_path: Path) -> None:
    report = DriftReport()
    report.answer("POST", "/v1/sessions", 418, {"error": "teapot", "message": "`tick`"})
    report.answer("GET", "/v1/sessions/ses_1/notes", 200, None)
    report.answer("GET", "/v1/sessions/ses_1", 200, {**SESSION, "region": "eu"})
    report.answer("GET", "/v1/sessions/ses_1", 200, {**SESSION, "region": "eu"})
    report.event("turn", "message.progress", {"percent": 5})
    report.event("response", "response.created", {"id": "r", "response": {}, "extra": None})
    assert report.summary() == "5 kinds of drift: see drift.md"
    written = report.write(tmp_path)
    assert written == tmp_path / "drift.md"
    assert [p.name for p in tmp_path.iterdir()] == ["drift.md"]
    assert written.read_text(encoding="utf-8") == (
        "# Drift: what the recording saw that the contract did not expect\n"
        "\n"
        "Checked 4 answers and 2 events against the contract of mock-pokee "
        f"{__version__} (contract.md and openapi.yaml).\n"
        "\n"
        "## Operations the OpenAPI document does not have\n"
        "\n"
        "- `GET /v1/sessions/{session_id}/notes`, once; first: "
        "`GET /v1/sessions/ses_1/notes → 200`\n"
        "\n"
        "## Statuses the OpenAPI document does not list for the operation\n"
        "\n"
        '- `POST /v1/sessions`: `418`, once; first: ``{"error": "teapot", "message": "`tick`"}``\n'
        "\n"
        "## Top-level fields of JSON answers that the response schema does not name\n"
        "\n"
        '- `GET /v1/sessions/{session_id} 200`: `region`, 2 times; first: `"eu"`\n'
        "\n"
        "## Event types the contract does not name\n"
        "\n"
        '- `session turn`: `message.progress`, once; first: `{"percent": 5}`\n'
        "\n"
        "## Event data fields the contract does not name for the event's type\n"
        "\n"
        "- `response.created (/v1/responses)`: `extra`, once; first: `null`\n"
    )
    assert report.summary() == f"5 kinds of drift: see {written}"


def test_no_drift_is_said_plainly(tmp_path: Path) -> None:
    report = DriftReport()
    report.answer("POST", "/v1/sessions", 201, SESSION)
    report.event("turn", "text.delta", {"content": "hi", "sequence_number": 1})
    text = report.write(tmp_path).read_text(encoding="utf-8")
    assert text.endswith(
        "Checked 1 answer and 1 event against the contract of mock-pokee "
        f"{__version__} (contract.md and openapi.yaml).\n"
        "\n"
        "No drift: the contract names everything the recording saw.\n"
    )
    assert report.summary() == "no drift in 1 answer and 1 event"


def test_the_recorders_notes_come_last_redacted(tmp_path: Path) -> None:
    report = DriftReport()
    notes = ["rejected turn-001-hi: no steps", "a call with key pk_secret_key\nwas refused"]
    text = report.write(tmp_path, Redactor(secrets=["pk_secret_key"]), notes).read_text("utf-8")
    assert text.endswith(
        "No drift: the contract names everything the recording saw.\n"
        "\n"
        "## Notes from the recorder\n"
        "\n"
        "- rejected turn-001-hi: no steps\n"
        "- a call with key [redacted key] was refused\n"
    )


def test_examples_are_redacted_then_cut() -> None:
    redactor = Redactor(parse_rules(["ses_[a-z]+"], "<test>"), secrets=["pk_secret_key"])
    report = DriftReport()
    report.answer("GET", "/v1/sessions/ses_abc/pk_secret_key", 200, None)
    report.event("turn", "pk_secret_key", {"key": "pk_secret_key", "long": "x" * 1000})
    text = report.render(redactor)
    assert "pk_secret_key" not in text
    assert "ses_abc" not in text
    assert "`GET /v1/sessions/{session_id}/[redacted key]`, once; first: " in text
    assert "`GET /v1/sessions/[redacted]/[redacted key] → 200`" in text
    shown = text.split("`session turn`: `[redacted key]`, once; first: `")[1].split("`")[0]
    assert shown == ('{"key": "[redacted key]", "long": "' + "x" * 200)[:200] + "…"


def test_a_kept_example_cut_through_a_key_never_shows_the_rest_of_it() -> None:
    """The report keeps `KEPT` characters of an example; a key cut in two there no longer
    matches, so when a rule shortens what comes before, the tail is not shown."""
    key = "pk_secret_key_that_is_long"
    value = "a" * (KEPT - len('{"v": "') - len("pk_secret_")) + key
    report = DriftReport()
    report.event("turn", "odd", {"v": value})
    assert report.findings[0].cut
    assert report.findings[0].example.endswith("apk_secret_")
    text = report.render(Redactor(parse_rules(["a{100,}"], "<test>"), [key]))
    assert "pk_secret" not in text
    assert "`session turn`: `odd`, once; first: `…`" in text
    unredacted = report.render()
    assert '`{"v": "' + "a" * 193 + "…`" in unredacted


def test_findings_are_bounded_and_the_rest_counted() -> None:
    report = DriftReport()
    for number in range(MAX_FINDINGS + 50):
        report.event("turn", f"new.type{number}", {"big": "x" * 10_000})
    report.event("turn", "new.type0", {})  # a kept finding still counts
    assert len(report.findings) == MAX_FINDINGS
    assert report.unlisted == 50
    assert report.findings[0].count == 2
    assert all(len(found.example) <= KEPT for found in report.findings)
    assert report.summary() == f"{MAX_FINDINGS}+ kinds of drift: see drift.md"
    assert report.render().endswith(
        f"And 50 occurrences of drift not listed: the report keeps the first {MAX_FINDINGS} "
        "findings.\n"
    )


def test_worker_threads_may_report_at_once() -> None:
    report = DriftReport()

    def work() -> None:
        for _ in range(500):
            report.event("turn", "message.progress", {})
            report.answer("POST", "/v1/sessions", 418, None)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(kinds(report)) == [
        ("event type", "session turn", "message.progress", 4000),
        ("status", "POST /v1/sessions", "418", 4000),
    ]
    assert (report.answers, report.events) == (4000, 4000)


# -- the mock itself, recorded as a deployment would be: no drift ----------------------------


FAIL = {"X-Mock-Scenario": "turn-error"}


@pytest.fixture(scope="module")
def mock() -> Iterator[ThreadedServer]:
    with ThreadedServer(Settings(port=0, clock_mode="autojump")) as server:
        yield server


def test_the_mocks_own_answers_and_events_show_no_drift(mock: ThreadedServer) -> None:
    report = DriftReport()

    def seen(response: httpx.Response) -> None:
        body = None
        if response.headers.get("content-type", "").startswith("application/json"):
            body = json.loads(response.read())
        report.answer(
            response.request.method, response.request.url.path, response.status_code, body
        )

    types: set[str] = set()

    def events(surface: Surface, frames: list[Frame]) -> None:
        for frame in frames:
            report.event(surface, frame.type, frame.data)
            types.add(frame.type)

    key = new_key("drift")
    with httpx.Client(
        base_url=mock.url,
        headers={"Authorization": f"Bearer {key}"},
        event_hooks={"response": [seen]},
        timeout=10,
    ) as api:
        tool = {"type": "function", "name": "lookup", "parameters": {"type": "object"}}
        sid = api.post("/v1/sessions", json={"tools": [tool]}).json()["id"]
        api.get(f"/v1/sessions/{sid}")
        api.get("/v1/sessions")
        api.get("/v1/sessions/ses_missing")
        api.put(f"/v1/sessions/{sid}/files/notes/a.json", content=b'{"x": 1}')
        api.get(f"/v1/sessions/{sid}/files")
        api.get(f"/v1/sessions/{sid}/files/notes")
        api.get(f"/v1/sessions/{sid}/files/notes/a.json")
        api.get("/v1/usage")
        api.get("/v1/skills")
        api.get("/health")
        deck = send(api, sid, "Build a deck on tides", scenario="presentation")
        events("turn", deck.frames)
        api.post(f"/v1/sessions/{sid}/responses/{deck.terminal.data['id']}/cancel")
        events("turn", send(api, sid, "fail", scenario="turn-error").frames)
        with httpx.Client(base_url=mock.url, headers=api.headers, timeout=10) as own:
            follower = Follower(
                own, "POST", f"/v1/sessions/{sid}/messages", json={"message": "lookup"}
            )
            asked = follower.wait_for("tool_call.requested")[0].data
            api.post(
                f"/v1/sessions/{sid}/tool_results",
                json={"results": [{"call_id": asked["call_id"], "output": "42"}]},
            )
            events("turn", follower.finish().frames)
        request = {"input": "look it up", "tools": [tool], "reasoning": {"effort": "high"}}
        api.post("/v1/responses", json=request)
        streamed = read(api, "POST", "/v1/responses", json={**request, "stream": True})
        events("response", streamed.frames)
        text = read(api, "POST", "/v1/responses", json={"input": "hi", "stream": True})
        events("response", text.frames)
        failing = {"input": "hi", "stream": True}
        events("response", read(api, "POST", "/v1/responses", json=failing, headers=FAIL).frames)
        api.post(f"/v1/responses/{streamed.terminal.data['response']['id']}/cancel")
        api.patch("/v1/usage")  # 405: the document's rule for a method a path lacks
        api.delete(f"/v1/sessions/{sid}")
    assert mock.errors == []
    assert report.answers == 22  # every request above but the one on its own client
    assert kinds(report) == []  # the mock's own answers are what its contract says
    assert {*TURN_EVENTS, *RESPONSE_EVENTS} - types == {
        "message.cancelled",
        "response.cancelled",
        "response.reasoning_summary_part.added",  # OpenAI's; the mock does not send them
        "response.reasoning_summary_part.done",
    }
    assert {"tool_call.requested", "tool_use.executing", "message.error"} <= types
    assert {
        "response.reasoning_summary_text.done",
        "response.function_call_arguments.done",
    } <= types


def test_one_kind_of_drift_is_said_in_the_singular() -> None:
    report = DriftReport()
    report.event("turn", "message.surprise", {})
    assert report.summary() == "1 kind of drift: see drift.md"
