"""The recordings folder (`mock_pokee.recording.writer`): what lands on disk for a capture,
what never does (keys, redacted text), and that every file written loads as serve loads it.
Captures are made by hand; no proxy, no HTTP."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from mock_pokee.recording.capture import CapturedFile, ResponseCapture, Sample, Seen, TurnCapture
from mock_pokee.recording.settings import RecordSettings
from mock_pokee.recording.writer import RecordingFolder, literal_match
from mock_pokee.scenarios.loader import ScenarioBook
from mock_pokee.scenarios.schema import ClientToolStep

KEY = "pk_acme_s3cr3t-token"


def folder(out: Path, rules: str | None = None) -> RecordingFolder:
    redact = None
    if rules is not None:
        redact = out.parent / "rules.yaml"
        redact.write_text(rules)
    settings = RecordSettings(upstream="https://user:pw@pokee.example:8443/api", out=out)
    recorder = RecordingFolder(RecordSettings(**{**vars(settings), "redact": redact}))
    recorder.secret(KEY)
    return recorder


def turn(message: str, text: str, **fields: Any) -> TurnCapture:
    events = [
        Seen(0.0, "message.created", {"id": "msg_1", "session_id": "s", "status": "in_progress"}),
        Seen(0.0, "text.start", {}),
        Seen(0.0, "text.delta", {"content": text}),
        Seen(0.0, "text.stop", {}),
        Seen(0.0, "message.completed", {"id": "msg_1", "status": "completed", "usage": {}}),
    ]
    return TurnCapture("s", message, 0.0, "msg_1", events, complete=True, **fields)


def written(out: Path) -> dict[str, Any]:
    return {path.name: yaml.safe_load(path.read_text()) for path in sorted(out.glob("*.yaml"))}


def test_a_turn_is_a_scenario_file_that_serve_loads(tmp_path: Path) -> None:
    out = tmp_path / "rec"
    recorder = folder(out)
    recorder.turn(turn("Make it (v2.0) {now}?", "Done: {x}", poll_interval=0.5))
    ((name, scenario),) = written(out).items()
    assert name == "turn-001-make-it-v2-0-now.yaml"
    assert scenario["match"] == r"^Make it \(v2\.0\) \{now\}\?$"
    assert scenario["steps"][0] == {"text": {"content": "Done: {{x}}", "chunk": 9, "pace": 0.0}}
    assert scenario["description"].startswith("Recorded from https://pokee.example on ")
    assert "pw" not in scenario["description"]  # a URL's password is no one's business
    assert "Metadata was sampled every 0.5 s, so a stage" in scenario["description"]
    book = ScenarioBook.load([out])
    assert book.choose("make it (v2.0) {now}?").name == "turn-001-make-it-v2-0-now"
    assert recorder.close() == f"1 recording(s) in {out}; no drift in 0 answers and 5 events"
    assert (out / "drift.md").exists()


def test_literal_matching_escapes_only_what_patterns_read() -> None:
    assert literal_match("a.b*c [x] 100% sure, \\o/") == r"^a\.b\*c \[x\] 100% sure, \\o/$"


def test_keys_never_reach_a_file_and_rules_apply_to_names_text_and_fixtures(
    tmp_path: Path,
) -> None:
    out = tmp_path / "rec"
    recorder = folder(out, "- {pattern: '\\d{3}-\\d{2}-\\d{4}', replace: '[ssn]'}\n")
    files = [
        CapturedFile("notes/id.txt", 40, f"ssn 123-45-6789 key {KEY}".encode()),
        CapturedFile("deck.pptx", 6, b"PK\x03\x04\x00\xff"),  # binary: cannot be searched
    ]
    capture = turn(
        "my ssn is 123-45-6789",
        f"your key {KEY} and 123-45-6789",
        files=files,
        metadata_before={},
        samples=[Sample(0.0, {"who": "123-45-6789", "k": KEY})],
    )
    recorder.turn(capture)
    recorder.close()
    everything = b"".join(path.read_bytes() for path in out.rglob("*") if path.is_file())
    assert KEY.encode() not in everything
    assert b"123-45-6789" not in everything
    ((name, scenario),) = written(out).items()
    assert name == "turn-001-my-ssn-is-ssn.yaml"
    steps = scenario["steps"]
    assert {"metadata": {"who": "[ssn]", "k": "[redacted key]"}} in steps
    writes = {step["write"]["path"]: step["write"] for step in steps if "write" in step}
    assert writes["deck.pptx"] == {"path": "deck.pptx", "size": 6, "quiet": True}
    fixture = out / writes["notes/id.txt"]["fixture"]
    assert fixture.read_text() == "ssn [ssn] key [redacted key]"


def test_numbering_goes_on_from_what_the_folder_holds(tmp_path: Path) -> None:
    out = tmp_path / "rec"
    folder(out).turn(turn("first", "a"))
    folder(out).turn(turn("second", "b"))
    assert list(written(out)) == ["turn-001-first.yaml", "turn-002-second.yaml"]


def test_a_recording_that_would_not_load_is_set_aside_with_its_reason(tmp_path: Path) -> None:
    out = tmp_path / "rec"
    recorder = folder(out)
    bad = turn("nan", "x", samples=[Sample(0.0, {"score": float("nan")})])
    recorder.turn(bad)
    recorder.turn(turn("lone \ud800 surrogate", "text \udfff too"))
    summary = recorder.close()
    assert list(written(out)) == ["turn-002-lone-surrogate.yaml"]  # surrogates became U+FFFD
    assert (out / "rejected" / "turn-001-nan.yaml").exists()
    assert "1 rejected" in summary
    assert "rejected turn-001-nan" in (out / "drift.md").read_text()
    ScenarioBook.load([out])  # the folder serves


def call_events(name: str, arguments: str) -> list[Seen]:
    item = {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": name}
    response: dict[str, Any] = {"id": "resp_1", "status": "completed", "output": [], "usage": None}
    return [
        Seen(0.0, "response.created", {"response": {**response, "status": "in_progress"}}),
        Seen(0.0, "response.output_item.added", {"item": {**item, "arguments": ""}}),
        Seen(0.0, "response.function_call_arguments.delta", {"delta": arguments}),
        Seen(0.0, "response.output_item.done", {"item": {**item, "arguments": arguments}}),
        Seen(0.0, "response.completed", {"response": response}),
    ]


def text_events(text: str) -> list[Seen]:
    item = {"type": "message", "id": "msg_1"}
    response: dict[str, Any] = {"id": "resp_2", "status": "completed", "output": [], "usage": None}
    return [
        Seen(0.0, "response.created", {"response": {**response, "status": "in_progress"}}),
        Seen(0.0, "response.output_item.added", {"item": item}),
        Seen(0.0, "response.output_text.delta", {"delta": text}),
        Seen(0.0, "response.output_item.done", {"item": item}),
        Seen(0.0, "response.completed", {"response": response}),
    ]


def test_the_calls_of_one_conversation_are_one_response_scenario(tmp_path: Path) -> None:
    out = tmp_path / "rec"
    recorder = folder(out)
    ask = {"role": "user", "content": "Weather in Oslo?"}
    call = {"type": "function_call", "call_id": "call_1", "name": "w", "arguments": "{}"}
    done = {"type": "function_call_output", "call_id": "call_1", "output": "sun"}
    recorder.response(ResponseCapture({"input": [ask]}, 0.0, call_events("w", '{"c":1}')))
    recorder.response(ResponseCapture({"input": [ask, call, done]}, 0.0, text_events("Sun.")))
    recorder.response(ResponseCapture({"input": "Weather in Oslo?"}, 0.0, text_events("Hi")))
    recorder.response(ResponseCapture({"input": 42}, 0.0, text_events("refused")))
    summary = recorder.close()
    files = written(out)
    assert list(files) == ["response-001-weather-in-oslo.yaml", "response-002-weather-in-oslo.yaml"]
    conversation = files["response-001-weather-in-oslo.yaml"]
    assert conversation["surface"] == "response"
    assert conversation["steps"] == [
        {"client_tool": [{"tool": "w", "arguments": {"c": 1}}]},
        {"text": {"content": "Sun.", "chunk": 4, "pace": 0.0}},
    ]
    book = ScenarioBook.load([out])
    assert isinstance(book.choose_response("weather in oslo?").steps[0], ClientToolStep)  # type: ignore[union-attr]
    assert "2 recording(s)" in summary
    assert "a /v1/responses call whose input was refused" in (out / "drift.md").read_text()


@pytest.mark.parametrize("path", ["../escape.txt", "/etc/passwd", "a//b", "a\\b"])
def test_a_file_path_that_could_leave_the_folder_is_generated_not_kept(
    tmp_path: Path, path: str
) -> None:
    out = tmp_path / "rec"
    recorder = folder(out)
    recorder.turn(turn("files", "x", files=[CapturedFile(path, 3, b"abc")]))
    assert not (out / "fixtures").exists()
    assert not (tmp_path / "escape.txt").exists()
    rejected_or_written = list(out.rglob("*.yaml"))
    text = rejected_or_written[0].read_text()
    assert json.dumps(3) in text  # size: 3, generated on replay


def test_a_run_the_proxy_cut_short_says_so(tmp_path: Path) -> None:
    out = tmp_path / "rec"
    recorder = folder(out)
    recorder.turn(turn("long", "x", left_out=12_345))
    (scenario,) = written(out).values()
    assert (
        "only its first 100,000 events were kept (12,345 more left out)"
        in (scenario["description"])
    )


def test_gaps_shorter_than_the_minimum_pause_given_are_not_pauses(tmp_path: Path) -> None:
    out = tmp_path / "rec"
    settings = RecordSettings(upstream="http://up", out=out, min_pause=5.0)
    recorder = RecordingFolder(settings)
    capture = turn("gaps", "x")
    capture.events.insert(1, Seen(3.0, "custom.late", {}))
    recorder.turn(capture)
    (scenario,) = written(out).values()
    assert not [step for step in scenario["steps"] if "pause" in step]


def test_a_message_with_no_letters_is_named_as_a_file_would_be_and_text_stays_readable(
    tmp_path: Path,
) -> None:
    out = tmp_path / "rec"
    recorder = folder(out)
    recorder.turn(turn("???", "Marées à Brest"))
    (path,) = out.glob("*.yaml")
    assert path.name == "turn-001-output.yaml"  # the slug a file of no name gets too
    assert "Marées à Brest" in path.read_text(encoding="utf-8")  # not \\xE9 escapes


def test_answers_reach_the_drift_report_whole(tmp_path: Path) -> None:
    recorder = folder(tmp_path / "rec")
    recorder.answer("GET", "/v1/usage", 418, None)
    summary = recorder.close()
    assert "; 1 kind of drift: see " in summary
    assert summary.endswith("drift.md")


def test_a_scaled_upstreams_sampling_is_said_in_its_clock_too(tmp_path: Path) -> None:
    out = tmp_path / "rec"
    recorder = RecordingFolder(RecordSettings(upstream="http://up", out=out, upstream_scale=20))
    recorder.turn(turn("scaled", "x", poll_interval=0.02))
    (scenario,) = written(out).values()
    assert "sampled every 0.02 s (0.4 s of the upstream's clock)" in scenario["description"]
