"""The recording proxy of ``mock-pokee record``, over real sockets: a mock on a fast scaled
clock is the upstream, the proxy runs in a thread with a sink that keeps what it is
given. What passes through must be the upstream's, byte for byte; what the sink gets must
be each turn and response whole, however the client or the upstream's stream behaved."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mock_pokee.cli import parser, record_settings_from
from mock_pokee.recording.capture import ResponseCapture, TurnCapture
from mock_pokee.recording.serving import ThreadedRecorder
from mock_pokee.recording.settings import DEFAULT_PORT, MiB, RecordSettings
from mock_pokee.recording.sse import EventParser, ParsedEvent
from mock_pokee.testing import MockServer, TenantHandle
from tests.processes import record_command, start_record

SCALE = 500  # the presentation's 3.5 minutes of clock time in about 0.4 s
STAGES = ["queued", "researching", "outlining", "building_slides", "exporting", "completed"]
DECK = "make a deck on Q3 results"


class Sink:
    """Keeps every call, in order; thread-safe, as the proxy calls it from its own thread."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self._lock = threading.Lock()

    def _keep(self, kind: str, value: Any) -> None:
        with self._lock:
            self.calls.append((kind, value))

    def secret(self, value: str) -> None:
        self._keep("secret", value)

    def answer(self, method: str, path: str, status: int, body: Any) -> None:
        self._keep("answer", (method, path, status, body))

    def turn(self, capture: TurnCapture) -> None:
        self._keep("turn", capture)

    def response(self, capture: ResponseCapture) -> None:
        self._keep("response", capture)

    def of(self, kind: str) -> list[Any]:
        with self._lock:
            return [value for called, value in self.calls if called == kind]

    def turn_of(self, session: str) -> TurnCapture:
        found: list[TurnCapture] = [c for c in self.of("turn") if c.session_id == session]
        assert len(found) == 1, found
        return found[0]


@pytest.fixture(scope="module")
def upstream() -> Iterator[MockServer]:
    with MockServer(clock_mode="scaled", clock_scale=SCALE) as server:
        yield server


@pytest.fixture(scope="module")
def sink() -> Sink:
    return Sink()


@pytest.fixture(scope="module")
def recorder(
    upstream: MockServer, sink: Sink, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ThreadedRecorder]:
    settings = RecordSettings(
        upstream=upstream.url, out=tmp_path_factory.mktemp("out"), port=0, poll_interval=0.01
    )
    with ThreadedRecorder(settings, sink) as running:
        yield running
    assert upstream.errors == []


@pytest.fixture
def tenant(upstream: MockServer) -> Iterator[TenantHandle]:
    with upstream.tenant() as handle:
        yield handle


@pytest.fixture
def proxied(recorder: ThreadedRecorder, tenant: TenantHandle) -> Iterator[httpx.Client]:
    """The tenant's client, through the proxy."""
    with httpx.Client(base_url=recorder.url, headers=tenant.headers, timeout=10) as client:
        yield client


def frames(tenant: TenantHandle, response_id: str) -> tuple[list[str], bytes]:
    """The events the upstream's journal says it sent for a run: their types, and their
    frames as M3 writes them."""
    events = [e for e in tenant.journal.entries(kind="event") if e["response_id"] == response_id]
    wire = b"".join(
        f"id: {e['event_seq']}\nevent: {e['type']}\n"
        f"data: {json.dumps(e['data'], separators=(',', ':'))}\n\n".encode()
        for e in events
    )
    return [e["type"] for e in events], wire


def read(response: httpx.Response) -> tuple[bytes, bool]:
    """A streamed body as it came, and whether it ended cleanly (False: a cut)."""
    got = bytearray()
    try:
        for chunk in response.iter_raw():
            got += chunk
    except httpx.RemoteProtocolError:
        return bytes(got), False
    return bytes(got), True


WIRE = (
    b'id: 0\nevent: message.created\ndata: {"id":"msg_1"}\n\n: ping\n\n'
    b"id: 1\r\nevent: text.delta\r\ndata: half a frame\r\n\r\n"
    b'id: 2\revent: text.delta\rdata: {"content":\rdata: "\xc3\xa9"}\r\r:'
)


@pytest.mark.parametrize("size", [1, 2, 7, len(WIRE)])
def test_events_are_found_in_chunks_cut_anywhere(size: int) -> None:
    parser = EventParser()
    found = [e for at in range(0, len(WIRE), size) for e in parser.feed(WIRE[at : at + size])]
    assert found == [
        ParsedEvent("0", "message.created", {"id": "msg_1"}),
        ParsedEvent("1", "text.delta", {"_raw": "half a frame"}),  # kept, not lost
        ParsedEvent("2", "text.delta", {"content": "\u00e9"}),
    ]


def test_answers_pass_through_unchanged(
    proxied: httpx.Client, tenant: TenantHandle, recorder: ThreadedRecorder, sink: Sink
) -> None:
    sid = proxied.post("/v1/sessions", json={"metadata": {"team": "q3"}}).json()["id"]
    for path in (f"/v1/sessions/{sid}", "/v1/sessions/sess_000000000000"):
        through, direct = proxied.get(path), tenant.http.get(path)
        assert (through.status_code, through.content) == (direct.status_code, direct.content)
        assert through.headers["content-type"] == direct.headers["content-type"]
    clock = proxied.get("/_mock/clock")  # the control plane too, for this tenant (C2)
    assert (clock.status_code, clock.json()["scale"]) == (200, SCALE)
    redirect = {"type": "respond", "status": 302, "headers": {"Location": "/v1/usage"}}
    moved = proxied.get("/v1/usage", headers={"X-Mock-Fault": json.dumps(redirect)})
    assert (moved.status_code, moved.headers["location"]) == (302, "/v1/usage")  # not followed
    recorder.settle()
    assert ("GET", f"/v1/sessions/{sid}", 200, tenant.http.get(f"/v1/sessions/{sid}").json()) in (
        sink.of("answer")
    )
    missing = [a for a in sink.of("answer") if a[1] == "/v1/sessions/sess_000000000000"]
    assert missing[-1][2:] == (404, tenant.http.get("/v1/sessions/sess_000000000000").json())


def test_downloads_and_uploads_stream_through(proxied: httpx.Client, tenant: TenantHandle) -> None:
    sid = proxied.post("/v1/sessions").json()["id"]
    data = os.urandom(300_000)
    stored = proxied.put(
        f"/v1/sessions/{sid}/files/in/blob.bin", content=iter([data[:1000], data[1000:]])
    )
    assert stored.status_code == 201
    path = f"/v1/sessions/{sid}/files/in/blob.bin"
    through, direct = proxied.get(path), tenant.http.get(path)
    assert through.content == direct.content == data
    for name in ("content-type", "content-length", "etag", "last-modified", "accept-ranges"):
        assert through.headers[name] == direct.headers[name]
    part = proxied.get(path, headers={"Range": "bytes=10-19"})
    assert (part.status_code, part.content) == (206, data[10:20])
    assert part.headers["content-range"] == f"bytes 10-19/{len(data)}"


def test_a_turn_reaches_the_client_as_sent_and_is_captured_whole(
    proxied: httpx.Client, tenant: TenantHandle, recorder: ThreadedRecorder, sink: Sink
) -> None:
    sid = proxied.post("/v1/sessions").json()["id"]
    sent = time.monotonic()
    with proxied.stream("POST", f"/v1/sessions/{sid}/messages", json={"message": DECK}) as answer:
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/event-stream")
        body, clean = read(answer)
    recorder.settle()
    rid = answer.headers["x-response-id"]
    types, wire = frames(tenant, rid)
    assert clean
    assert body.replace(b": ping\n\n", b"") == wire  # byte for byte, pings aside

    capture = sink.turn_of(sid)
    assert (capture.message, capture.response_id, capture.complete) == (DECK, rid, True)
    assert [seen.type for seen in capture.events] == types
    assert (types[0], types[-1]) == ("message.created", "message.completed")
    times = [sent, capture.started_at] + [seen.at for seen in capture.events]
    assert times == sorted(times)
    assert times[-1] > times[1]
    assert (capture.drops, capture.poll_interval, capture.metadata_before) == ([], 0.01, {})
    stages = [sample.metadata["temasek_status"] for sample in capture.samples]
    assert len(stages) >= 3
    assert stages[-1] == "completed"
    assert stages == [stage for stage in STAGES if stage in stages]  # in order, each once
    final = tenant.http.get(f"/v1/sessions/{sid}").json()["metadata"]
    assert capture.samples[-1].metadata == final
    (deck,) = capture.files
    assert deck.path == "output/q3-results.pptx"
    download = tenant.http.get(f"/v1/sessions/{sid}/files/{deck.path}").content
    assert (deck.data, deck.size) == (download, len(download))


def test_a_client_that_leaves_still_gets_its_turn_recorded(
    proxied: httpx.Client, tenant: TenantHandle, recorder: ThreadedRecorder, sink: Sink
) -> None:
    sid = proxied.post("/v1/sessions").json()["id"]
    with proxied.stream("POST", f"/v1/sessions/{sid}/messages", json={"message": DECK}) as answer:
        events = 0
        for line in answer.iter_lines():
            events += line.startswith("event:")
            if events == 2:
                break
    recorder.settle()
    capture = sink.turn_of(sid)
    types, _ = frames(tenant, answer.headers["x-response-id"])
    assert (capture.complete, capture.drops) == (True, [])
    assert [seen.type for seen in capture.events] == types
    assert types[-1] == "message.completed"
    assert [file.path for file in capture.files] == ["output/q3-results.pptx"]


def test_an_idempotent_retry_is_passed_on_but_not_recorded_twice(
    proxied: httpx.Client, recorder: ThreadedRecorder, sink: Sink
) -> None:
    sid = proxied.post("/v1/sessions").json()["id"]
    once = {"Idempotency-Key": "retry-1"}
    first = proxied.post(f"/v1/sessions/{sid}/messages", json={"message": "hi"}, headers=once)
    again = proxied.post(f"/v1/sessions/{sid}/messages", json={"message": "hi"}, headers=once)
    recorder.settle()
    assert first.headers["x-response-id"] == again.headers["x-response-id"]
    assert again.content.replace(b": ping\n\n", b"") == first.content.replace(b": ping\n\n", b"")
    assert sink.turn_of(sid).complete  # one capture of the session, not two


def test_an_upstream_drop_reaches_the_client_and_the_capture_resumes(
    proxied: httpx.Client, tenant: TenantHandle, recorder: ThreadedRecorder, sink: Sink
) -> None:
    sid = proxied.post("/v1/sessions").json()["id"]
    with proxied.stream(
        "POST",
        f"/v1/sessions/{sid}/messages",
        json={"message": "hello"},
        headers={"X-Mock-Scenario": "dropped-stream"},
    ) as answer:
        body, clean = read(answer)
    recorder.settle()
    assert not clean
    assert b"message.completed" not in body
    capture = sink.turn_of(sid)
    types, _ = frames(tenant, answer.headers["x-response-id"])
    assert (capture.drops, capture.complete) == ([body.count(b"\nevent: ")], True)
    assert [seen.type for seen in capture.events] == types  # each once, in order
    assert [sample.metadata for sample in capture.samples][-1] == {"progress": "finished"}
    assert [file.path for file in capture.files] == ["output/dropped-stream.txt"]


def test_responses_are_captured_streamed_or_whole(
    proxied: httpx.Client, tenant: TenantHandle, recorder: ThreadedRecorder, sink: Sink
) -> None:
    cut = {"type": "cut_frame", "after_events": 3}
    request = {"input": "Say hello to the recorder", "stream": True}
    with proxied.stream(
        "POST", "/v1/responses", json=request, headers={"X-Mock-Fault": json.dumps(cut)}
    ) as answer:
        body, clean = read(answer)
    assert (clean, body.count(b"\n\n")) == (False, 3)  # three frames and half a fourth
    assert not body.endswith(b"\n\n")
    whole = proxied.post("/v1/responses", json={"input": "Say hello once more"})
    recorder.settle()
    (streamed,) = [c for c in sink.of("response") if c.request == request]
    (answered,) = [c for c in sink.of("response") if c.request["input"] == "Say hello once more"]
    types, _ = frames(tenant, answer.headers["x-response-id"])
    assert (streamed.complete, streamed.drops) == (True, [3])
    assert [seen.type for seen in streamed.events] == types
    assert (types[-1], streamed.answer) == ("response.completed", None)
    assert answered.request == {"input": "Say hello once more"}  # as sent, whole
    assert (answered.answer, answered.events, answered.complete) == (whole.json(), [], True)
    assert answered.answer["id"] == whole.headers["x-response-id"]
    assert answered.started_at < answered.answered_at


def test_a_key_of_its_own_replaces_the_clients_upstream(
    upstream: MockServer, tmp_path: Path
) -> None:
    sink = Sink()
    own, clients = "pk_recorder_ownkey123", "pk_client_theirs456"
    settings = RecordSettings(upstream=upstream.url + "/", out=tmp_path, key=own, port=0)
    with (
        ThreadedRecorder(settings, sink) as recorder,
        httpx.Client(base_url=recorder.url, timeout=10) as client,
    ):
        made = client.post("/v1/sessions", headers={"Authorization": f"Bearer {clients}"})
        keyless = client.get("/v1/usage")
        recorder.settle()
    sid = made.json()["id"]
    assert (made.status_code, keyless.status_code) == (201, 200)
    mine = httpx.get(
        f"{upstream.url}/v1/sessions/{sid}", headers={"Authorization": f"Bearer {own}"}
    )
    theirs = httpx.get(
        f"{upstream.url}/v1/sessions/{sid}", headers={"Authorization": f"Bearer {clients}"}
    )
    assert (mine.status_code, theirs.status_code) == (200, 404)
    assert sink.calls[:2] == [("secret", own), ("secret", clients)]  # before anything else


def test_no_key_reaches_the_sink_but_as_a_secret(sink: Sink) -> None:
    secrets = sink.of("secret")
    assert secrets
    rest = repr([value for kind, value in sink.calls if kind != "secret"])
    assert not [key for key in secrets if key in rest]


def test_an_upstream_that_cannot_be_reached_is_a_502(tmp_path: Path) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    settings = RecordSettings(upstream=f"http://127.0.0.1:{port}", out=tmp_path, port=0)
    with ThreadedRecorder(settings, Sink()) as recorder:
        answer = httpx.get(f"{recorder.url}/v1/sessions", headers={"Authorization": "Bearer k"})
    assert answer.status_code == 502
    assert answer.json()["error"] == "bad_gateway"
    assert "could not be reached" in answer.json()["message"]
    assert "Traceback" not in answer.text


class FailingSink(Sink):
    def answer(self, method: str, path: str, status: int, body: Any) -> None:
        raise OSError("disk full")


def test_a_failing_sink_is_reported_once_and_breaks_nothing(
    upstream: MockServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = RecordSettings(upstream=upstream.url, out=tmp_path, port=0)
    with ThreadedRecorder(settings, FailingSink()) as recorder:
        statuses = [httpx.get(f"{recorder.url}/health").status_code for _ in range(3)]
        recorder.settle()
    assert statuses == [200] * 3
    lines = capsys.readouterr().err.splitlines()
    assert len([line for line in lines if "answer() failed" in line]) == 1


def test_a_stop_hands_unfinished_captures_over(
    upstream: MockServer, tenant: TenantHandle, tmp_path: Path
) -> None:
    sink = Sink()
    settings = RecordSettings(upstream=upstream.url, out=tmp_path, port=0, poll_interval=0.01)
    stall = {"type": "stall", "after_events": 1}
    with (
        ThreadedRecorder(settings, sink, grace=0.2) as recorder,
        httpx.Client(base_url=recorder.url, headers=tenant.headers, timeout=10) as client,
    ):
        sid = client.post("/v1/sessions").json()["id"]
        with client.stream(
            "POST",
            f"/v1/sessions/{sid}/messages",
            json={"message": DECK},
            headers={"X-Mock-Fault": json.dumps(stall)},
        ) as answer:
            next(answer.iter_lines())
        stopping = time.monotonic()
    assert time.monotonic() - stopping < 3
    (capture,) = sink.of("turn")
    assert (capture.complete, capture.events[0].type) == (False, "message.created")
    assert "1 unfinished" in recorder.summary


def test_record_options_fill_the_settings(tmp_path: Path) -> None:
    rules = tmp_path / "redact.yaml"
    rules.write_text("[]\n")
    options = {
        "--upstream": "https://api.example.com/pokee/",
        "--out": str(tmp_path / "o"),
        "--key": "pk_a_b",
        "--port": "0",
        "--poll-interval": "0.5",
        "--max-fixture": "0",
        "--min-pause": "0",
        "--upstream-scale": "60",
        "--redact": str(rules),
    }
    args = parser().parse_args(["record", *(part for pair in options.items() for part in pair)])
    assert record_settings_from(args) == RecordSettings(
        upstream="https://api.example.com/pokee",
        out=tmp_path / "o",
        key="pk_a_b",
        port=0,
        poll_interval=0.5,
        max_fixture=0,
        min_pause=0.0,
        upstream_scale=60.0,
        redact=rules,
    )
    assert (tmp_path / "o").is_dir()
    defaults = record_settings_from(
        parser().parse_args(["record", "--upstream", "http://h", "--out", str(tmp_path)])
    )
    assert (defaults.port, defaults.poll_interval, defaults.max_fixture) == (
        DEFAULT_PORT,
        1.0,
        10 * MiB,
    )
    assert (defaults.min_pause, defaults.upstream_scale, defaults.key) == (0.1, 1.0, None)


@pytest.mark.parametrize(
    ("options", "named"),
    [
        (["--upstream", "ftp://h"], "--upstream"),
        (["--upstream", "http://h:99999"], "--upstream"),
        (["--upstream", "http://h?x=1"], "--upstream"),
        (["--out", "FILE"], "--out"),
        (["--poll-interval", "0"], "--poll-interval"),
        (["--min-pause", "-1"], "--min-pause"),
        (["--upstream-scale", "0"], "--upstream-scale"),
        (["--max-fixture", "-1"], "--max-fixture"),
        (["--port", "70000"], "--port"),
        (["--redact", "missing.yaml"], "--redact"),
        (["--key", "two words"], "--key"),
    ],
)
def test_record_refuses_bad_options_on_one_line(
    options: list[str], named: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "FILE").write_text("")
    given = {"--upstream": "http://h", "--out": str(tmp_path / "out")}
    given.update(dict(zip(options[::2], options[1::2], strict=True)))
    if given["--out"] == "FILE":
        given["--out"] = str(tmp_path / "FILE")
    with pytest.raises(SystemExit) as stopped:
        parser().parse_args(["record", *(part for pair in given.items() for part in pair)])
    error = capsys.readouterr().err
    assert stopped.value.code == 2
    assert error.startswith("mock-pokee record:")
    assert error.count("\n") == 1
    assert named in error


def test_record_runs_as_a_command_until_ctrl_c(upstream: MockServer, tmp_path: Path) -> None:
    process, first = start_record(upstream.url, tmp_path)
    assert process.stdout is not None
    try:
        assert first.startswith("mock-pokee record: http://127.0.0.1:"), first
        assert f"→ {upstream.url}, writing to {tmp_path}" in first
        url = first.split()[2]
        assert process.stdout.readline().strip() == f"export POKEE_API={url}"
        assert httpx.get(f"{url}/health").json() == {"status": "ok"}
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=20)
    finally:
        process.kill()
    assert process.returncode == 130, err
    assert out.splitlines()[-1].startswith("mock-pokee record: "), out
    assert "Traceback" not in err


CLIENT = """
import os, sys, httpx
api = os.environ["POKEE_API"]
key = {"Authorization": "Bearer pk_command_run"}
session = httpx.post(api + "/v1/sessions", json={}, headers=key).json()["id"]
httpx.post(api + f"/v1/sessions/{session}/messages", json={"message": "hi"}, headers=key)
sys.exit(3)
"""


def test_record_runs_a_command_against_itself_and_stops_with_it(
    upstream: MockServer, tmp_path: Path
) -> None:
    """``-- COMMAND``: the command gets POKEE_API pointed at the proxy; when it ends the
    recording is written and its exit status is record's."""
    out = tmp_path / "recordings"
    done = subprocess.run(
        [*record_command(upstream.url, out), "--", sys.executable, "-c", CLIENT],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert done.returncode == 3, done.stderr
    assert "running " in done.stdout
    assert done.stdout.splitlines()[-1].startswith("mock-pokee record: 1 recording(s)"), done.stdout
    assert [path.name for path in out.glob("*.yaml")] == ["turn-001-hi.yaml"]


def test_record_says_when_its_command_cannot_run(upstream: MockServer, tmp_path: Path) -> None:
    done = subprocess.run(
        [*record_command(upstream.url, tmp_path), "--", str(tmp_path / "no-such-command")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 127, done.stderr
    assert "cannot run" in done.stdout


# -- what the proxy keeps, whatever the upstream sends -------------------------------------


def test_an_event_larger_than_the_bound_is_skipped_and_the_next_one_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Many data lines add up: the bound is on an event's lines together, so an upstream
    cannot grow one event without end ten bytes at a time."""
    monkeypatch.setattr("mock_pokee.recording.sse.MAX_RECORDED_EVENT", 100)
    parser = EventParser()
    huge = b"event: x\n" + b"data: 0123456789\n" * 20 + b"\n"
    one_line = b"event: y\ndata: " + b"z" * 200 + b"\n\n"
    fine = b'event: ok\ndata: {"a":1}\n\n'
    events = parser.feed(huge) + parser.feed(one_line) + parser.feed(fine)
    assert events == [ParsedEvent(None, "ok", {"a": 1})]


def test_a_run_past_the_event_bound_keeps_its_first_events_and_says_how_many_more(
    proxied: httpx.Client, recorder: ThreadedRecorder, sink: Sink, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("mock_pokee.recording.tap.MAX_RECORDED_EVENTS", 5)
    sid = proxied.post("/v1/sessions").json()["id"]
    with proxied.stream(
        "POST", f"/v1/sessions/{sid}/messages", json={"message": "hello there"}
    ) as answer:
        body, clean = read(answer)
    recorder.settle()
    capture = sink.turn_of(sid)
    sent = body.count(b"\nevent: ")
    assert clean
    assert len(capture.events) == 5
    assert capture.left_out == sent - 5 > 0
    assert capture.complete  # its end was still seen


def test_a_turns_metadata_samples_are_bounded_and_keep_the_last(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from mock_pokee.recording.session import _Sampler

    monkeypatch.setattr("mock_pokee.recording.session.MAX_RECORDED_SAMPLES", 3)
    capture = TurnCapture("s", "m", 0.0)
    sampler = _Sampler(capture)
    for n in range(10):
        sampler.note({"n": n})
    assert [sample.metadata for sample in capture.samples] == [{"n": 0}, {"n": 1}, {"n": 9}]


def test_a_turns_files_past_the_memory_bound_are_sized_not_kept(
    proxied: httpx.Client, recorder: ThreadedRecorder, sink: Sink, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("mock_pokee.recording.session.MAX_RECORDED_FILES", 1000)
    sid = proxied.post("/v1/sessions").json()["id"]
    proxied.post(f"/v1/sessions/{sid}/messages", json={"message": DECK}).raise_for_status()
    recorder.settle()
    (deck,) = sink.turn_of(sid).files
    assert deck.data is None  # replayed as a generated deck of its size
    assert deck.size > 1000


def test_a_body_nested_past_any_limit_is_the_upstreams_to_refuse(proxied: httpx.Client) -> None:
    """The proxy reads a /v1/responses body to record it; 100,000 levels deep is the
    upstream's 400 to give, not a crash of the proxy's own reading (a 502)."""
    deep = b'{"input": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    answer = proxied.post("/v1/responses", content=deep)
    assert answer.status_code == 400, answer.text
    assert "nested deeper" in answer.json()["message"]


@pytest.mark.parametrize(
    "data",
    ["[" * 5_000 + "]" * 5_000, '{"x": NaN}', '{"x": "\\ud800"}', "plain text", "[1, 2]", "7"],
)
def test_event_data_the_mock_could_not_keep_is_recorded_as_its_text(data: str) -> None:
    (event,) = EventParser().feed(f"event: odd\ndata: {data}\n\n".encode())
    assert event.data == {"_raw": data}


def test_events_reach_the_client_as_they_come_not_when_the_turn_ends(tmp_path: Path) -> None:
    """On a virtual clock the slow-stream turn stops at its 40 s pause until the test moves
    the clock: the client has its first text through the proxy while the turn waits."""
    with (
        MockServer(clock_mode="virtual") as upstream,
        upstream.tenant() as tenant,
        ThreadedRecorder(
            RecordSettings(upstream=upstream.url, out=tmp_path, port=0), Sink()
        ) as recorder,
        httpx.Client(base_url=recorder.url, headers=tenant.headers, timeout=10) as client,
    ):
        sid = client.post("/v1/sessions").json()["id"]
        forced = {"X-Mock-Scenario": "slow-stream"}
        message = {"message": "drip"}
        with client.stream(
            "POST", f"/v1/sessions/{sid}/messages", json=message, headers=forced
        ) as answer:
            lines = answer.iter_lines()
            seen = []
            for line in lines:
                seen += [line.removeprefix("event: ")] if line.startswith("event:") else []
                if seen[-1:] == ["text.stop"]:
                    break
            assert tenant.http.get(f"/v1/sessions/{sid}").json()["busy"]  # still running
            tenant.clock.advance(40)
            rest = [line.removeprefix("event: ") for line in lines if line.startswith("event:")]
        assert rest[0] == "text.start"
        assert rest[-1] == "message.completed"


def test_a_response_id_is_found_inside_the_response_object_too() -> None:
    """R5's ``response.created`` carries the id at ``data.response.id``; a deployment
    need not repeat it at ``data.id`` as the mock does."""
    from mock_pokee.recording.tap import RESPONSE_ENDS, Tap

    tap = Tap(ResponseCapture({}, 0.0), RESPONSE_ENDS, "")
    tap._take([ParsedEvent("0", "response.created", {"response": {"id": "resp_x"}})])
    assert tap.response_id == "resp_x"
