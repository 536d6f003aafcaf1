"""What the client puts on the wire and how it reads what comes back, byte for byte: scripted
answers through httpx's MockTransport (as in `tests.client.test_retries`), and the SSE
reader fed bytes directly. Every case is exact and instant; nothing really sleeps."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from pokee_client import (
    APIError,
    Limits,
    PokeeClient,
    ProtocolError,
    RetryPolicy,
    TransportError,
    __version__,
)
from pokee_client.config import Config
from pokee_client.progress import metadata_status
from pokee_client.records import FileEntry, Session, StoredFile, Usage, UsageWindow
from pokee_client.running import local_path
from pokee_client.signals import Terminated, sigterm_raises
from pokee_client.sse import EventReader
from pokee_client.uploads import CHUNK, FileBody
from tests.client.flaky import RESPONSE_ID, SESSION_ID, frame, turn_log
from tests.client.flaky import session_record as record
from tests.client.helpers import Sleeper

URL = "http://pokee.test"
KEY = "pk_t_key"
ONCE = RetryPolicy(attempts=1, jitter=lambda: 0.5)


class Server:
    """Answers each request with ``handler(request)``; keeps the requests."""

    def __init__(self, handler: Callable[[httpx.Request], httpx.Response]):
        self.handler = handler
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.handler(request)


def client_of(server: Server, **options: Any) -> PokeeClient:
    options = {"sleep": Sleeper(), "retry": ONCE, **options}
    return PokeeClient(URL, KEY, transport=httpx.MockTransport(server), **options)


def ok(value: Any = None) -> Callable[[httpx.Request], httpx.Response]:
    return lambda request: httpx.Response(200, json=value if value is not None else record())


class Chunks(httpx.SyncByteStream):
    """A body that arrives in these pieces, ``pause`` real seconds apart."""

    def __init__(self, *pieces: bytes, pause: float = 0.0):
        self.pieces = pieces
        self.pause = pause

    def __iter__(self) -> Iterator[bytes]:
        for piece in self.pieces:
            if self.pause:
                time.sleep(self.pause)
            yield piece


# -- requests --------------------------------------------------------------------------------


def test_every_request_carries_the_key_the_agent_and_no_encoding() -> None:
    server = Server(ok())
    headers = {"Accept-Encoding": "gzip", "X-Trace": "t1"}
    with client_of(server, headers=headers) as client:
        client.sessions.get(SESSION_ID)
    (sent,) = server.requests
    assert sent.headers["authorization"] == f"Bearer {KEY}"
    assert sent.headers["user-agent"] == f"pokee-client/{__version__}"
    assert sent.headers["accept-encoding"] == "identity"  # whatever the caller asked
    assert sent.headers["x-trace"] == "t1"
    assert str(sent.url) == f"{URL}/v1/sessions/{SESSION_ID}"


def test_a_whole_answer_waits_timeout_a_stream_stream_read_timeout() -> None:
    stream = httpx.Response(
        200,
        content=b"".join(frame(s, t, d) for s, (t, d) in enumerate(turn_log())),
        headers={"content-type": "text/event-stream", "x-response-id": RESPONSE_ID},
    )
    answers = iter([httpx.Response(200, json=record()), stream])
    server = Server(lambda request: next(answers))
    with client_of(server, timeout=7, stream_read_timeout=40) as client:
        client.sessions.get(SESSION_ID)
        client.messages.send(SESSION_ID, "hello")
    whole, streamed = (r.extensions["timeout"] for r in server.requests)
    assert whole == {"connect": 7, "read": 7, "write": 7, "pool": 7}
    assert streamed == {"connect": 7, "read": 40, "write": 7, "pool": 7}


def test_ids_and_paths_are_quoted_segment_by_segment() -> None:
    server = Server(lambda request: httpx.Response(204))
    with client_of(server) as client:
        client.sessions.delete("sess/x y")
        client.files.delete("s1", "my docs/50%.txt")
        client.files.delete("s1", "a/../b/./c")
    paths = [r.url.raw_path.decode() for r in server.requests]
    assert paths == [
        "/v1/sessions/sess%2Fx%20y",
        "/v1/sessions/s1/files/my%20docs/50%25.txt",
        "/v1/sessions/s1/files/a/%2E%2E/b/%2E/c",
    ]


def test_resuming_asks_for_the_events_after_the_last_one() -> None:
    def events(request: httpx.Request) -> httpx.Response:
        after = int(request.headers.get("last-event-id", "-1"))
        body = b"".join(frame(s, t, d) for s, (t, d) in enumerate(turn_log()) if s > after)
        return httpx.Response(200, content=body, headers={"content-type": "text/event-stream"})

    server = Server(events)
    with client_of(server) as client:
        assert next(iter(client.messages.resume("s/1", "m 1", after=0))).seq == 1
        assert next(iter(client.messages.resume("s/1", "m 1"))).seq == 0
    first, second = server.requests
    assert first.url.raw_path.decode() == "/v1/sessions/s%2F1/responses/m%201/events"
    assert (first.headers["accept"], first.headers["last-event-id"]) == ("text/event-stream", "0")
    assert second.headers["accept"] == "text/event-stream"
    assert "last-event-id" not in second.headers


def test_a_message_names_its_scenario_only_when_given() -> None:
    stream = b"".join(frame(s, t, d) for s, (t, d) in enumerate(turn_log()))
    server = Server(
        lambda request: httpx.Response(
            200,
            content=stream,
            headers={"content-type": "text/event-stream", "x-response-id": RESPONSE_ID},
        )
    )
    with client_of(server) as client:
        client.messages.send(SESSION_ID, "one")
        client.messages.send(SESSION_ID, "two", scenario="presentation")
    plain, forced = server.requests
    assert "x-mock-scenario" not in plain.headers
    assert forced.headers["x-mock-scenario"] == "presentation"
    assert json.loads(forced.content) == {"message": "two"}
    assert forced.headers["accept"] == "text/event-stream"


def test_a_listing_names_its_folder_only_when_given() -> None:
    server = Server(lambda request: httpx.Response(200, json=[]))
    with client_of(server) as client:
        client.files.list(SESSION_ID)
        client.files.list(SESSION_ID, "output/decks")
    assert [r.url.query.decode() for r in server.requests] == ["", "path=output%2Fdecks"]


def test_an_upload_says_its_length_and_host() -> None:
    stored = {"path": "a.txt", "size": 5, "modified": 1}
    server = Server(lambda request: httpx.Response(201, json=stored))
    with client_of(server) as client:
        answer = client.files.upload(SESSION_ID, "a.txt", b"hello")
    assert answer == StoredFile("a.txt", 5, 1.0)
    (sent,) = server.requests
    assert (sent.method, sent.headers["content-length"]) == ("PUT", "5")
    assert sent.headers["host"] == "pokee.test"


def test_delete_many_sends_only_the_filters_given() -> None:
    server = Server(lambda request: httpx.Response(200, json={"deleted": 2}))
    with client_of(server) as client:
        assert client.sessions.delete_many(status="idle") == 2
        assert client.sessions.delete_many(older_than=90) == 2
        assert client.sessions.delete_many(status="any", older_than="1h") == 2
    queries = [r.url.query.decode() for r in server.requests]
    assert queries == ["status=idle", "older_than=90", "status=any&older_than=1h"]
    assert {r.url.path for r in server.requests} == {"/v1/sessions"}


@pytest.mark.parametrize("body", [{"removed": 2}, [2], {"deleted": "2"}])
def test_delete_many_needs_a_count(body: Any) -> None:
    server = Server(lambda request: httpx.Response(200, json=body))
    with client_of(server) as client, pytest.raises(ProtocolError, match="'deleted' count"):
        client.sessions.delete_many(status="idle")


def test_the_base_url_may_be_https() -> None:
    config = Config.resolve(" https://pokee.example/api/ ", " pk_a_b ", environ={})
    assert (config.base_url, config.api_key) == ("https://pokee.example/api", "pk_a_b")


# -- answers ---------------------------------------------------------------------------------


def test_an_answer_in_many_pieces_is_read_whole() -> None:
    body = json.dumps(record(metadata={"notes": "n" * 300})).encode()
    pieces = [body[i : i + 50] for i in range(0, len(body), 50)]
    server = Server(lambda request: httpx.Response(200, stream=Chunks(*pieces)))
    with client_of(server) as client:
        assert client.sessions.get(SESSION_ID).metadata == {"notes": "n" * 300}


def test_an_answer_slower_than_the_timeout_is_a_transport_error_naming_the_request() -> None:
    body = json.dumps(record()).encode()
    server = Server(
        lambda request: httpx.Response(200, stream=Chunks(body[:5], body[5:], pause=0.2))
    )
    with client_of(server, timeout=0.1) as client, pytest.raises(TransportError) as raised:
        client.sessions.get(SESSION_ID)
    assert "no whole answer within 0.1 s (timeout)" in str(raised.value)
    cause = raised.value.__cause__
    assert isinstance(cause, httpx.ReadTimeout)
    assert cause.request is server.requests[0]


# -- streams ---------------------------------------------------------------------------------


def test_an_answer_to_a_message_that_is_no_stream_nor_m9s_note_is_a_protocol_error() -> None:
    server = Server(lambda request: httpx.Response(200, content=b"hello"))  # no content type
    with client_of(server) as client, pytest.raises(ProtocolError, match="neither an event"):
        client.messages.send(SESSION_ID, "hello")


def test_m9s_replayed_note_falls_back_to_polling() -> None:
    """The message was replayed after its log was evicted: the turn ended, its events are
    gone; the session is polled until idle and the outcome is unknown."""
    note = {"response_id": RESPONSE_ID, "status": "replayed", "note": "evicted"}
    answers = iter(
        [
            httpx.Response(200, json=note),
            httpx.Response(200, json=record(busy=True)),
            httpx.Response(200, json=record(metadata={"task_status": "done"})),
        ]
    )
    server = Server(lambda request: next(answers))
    sleeper = Sleeper()
    with client_of(server, sleep=sleeper, poll_interval=3) as client:
        outcome = client.messages.send(SESSION_ID, "hello")
    assert (outcome.status, outcome.polled, outcome.response_id) == ("unknown", True, RESPONSE_ID)
    assert outcome.metadata == {"task_status": "done"}
    assert sleeper.calls == [3]
    assert [r.method for r in server.requests] == ["POST", "GET", "GET"]


def test_polling_gives_up_after_two_hours_of_a_busy_session() -> None:
    note = {"response_id": RESPONSE_ID, "status": "replayed"}
    polls = 0

    def busy(request: httpx.Request) -> httpx.Response:
        nonlocal polls
        if request.method == "POST":
            return httpx.Response(200, json=note)
        polls += 1
        return httpx.Response(200, json=record(busy=polls < 10))  # idle, should it poll on

    sleeper = Sleeper()
    with (
        client_of(Server(busy), sleep=sleeper, poll_interval=1800) as client,
        pytest.raises(ProtocolError) as raised,
    ):
        client.messages.send(SESSION_ID, "hello")
    assert str(raised.value) == (
        f"session {SESSION_ID} still busy after 7200 s of polling "
        "(M10 ends every turn within 90 minutes)"
    )
    assert sleeper.calls == [1800] * 4
    assert polls == 5


@pytest.mark.parametrize("newline", [b"\r\n", b"\r"])
def test_a_stream_may_end_its_lines_with_cr_or_crlf(newline: bytes) -> None:
    """A CR LF split across reads is one line end; a CR ending the whole stream ends its
    terminal event's last line there (nothing more comes to pair it with)."""
    log = b"".join(frame(s, t, d) for s, (t, d) in enumerate(turn_log()))
    body = log.replace(b"\n", newline)
    pieces = [body[i : i + 7] for i in range(0, len(body), 7)]  # CR LF split across reads
    headers = {"content-type": "text/event-stream", "x-response-id": RESPONSE_ID}
    server = Server(lambda request: httpx.Response(200, stream=Chunks(*pieces), headers=headers))
    with client_of(server) as client:
        outcome = client.messages.send(SESSION_ID, "hello")
    assert (outcome.status, outcome.events, outcome.resumes) == ("completed", 10, 0)


@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"])
def test_an_event_of_exactly_the_limit_is_read_one_byte_more_is_not(newline: bytes) -> None:
    """Each line counts with one byte for its end, whatever the line ending."""
    limit = 40
    text = "x" * (limit - len("data: ") - 2)
    exact = EventReader(limit)
    (event,) = exact.feed(f"data: {text}".encode() + newline + newline)
    assert event.data == text
    over = EventReader(limit)
    too_long = f"data: {text}x".encode() + newline + newline
    with pytest.raises(ProtocolError, match="larger than"):
        over.feed(too_long)


def test_a_cr_ending_a_read_ends_its_line_now_and_pairs_with_a_following_lf() -> None:
    """A CR-only stream that pauses after an event has it at once; an LF opening the next
    read is the CR's pair, not the empty line that would end another event."""
    reader = EventReader(1000)
    (first,) = reader.feed(b"data: one\r\r")
    assert first.data == "one"
    assert reader.feed(b"data: two\r") == []
    assert reader.feed(b"") == []
    assert reader.feed(b"\n") == []  # the pair of the CR before: no event ends here
    (second,) = reader.feed(b"\r\n")
    assert second.data == "two"


def test_an_event_of_exactly_the_limit_may_come_in_pieces() -> None:
    limit = 40
    line = b"data: " + b"y" * (limit - 8)
    reader = EventReader(limit)
    assert reader.feed(line[:10]) == []
    assert reader.feed(line[10:] + b"\n") == []
    (event,) = reader.feed(b"\n")
    assert event.data == "y" * (limit - 8)
    over = EventReader(limit)
    over.feed(line[:10])
    with pytest.raises(ProtocolError):
        over.feed(line[10:] + b"y\n\n")


# -- records ---------------------------------------------------------------------------------


def test_a_session_record_names_itself_in_what_is_wrong() -> None:
    with pytest.raises(ProtocolError) as raised:
        Session.from_json(record(busy="yes"))
    assert str(raised.value) == f"session {SESSION_ID!r}: field 'busy' is 'yes', expected bool"
    with pytest.raises(ProtocolError, match=r"^session record: expected a JSON object, got list$"):
        Session.from_json([])
    with pytest.raises(ProtocolError, match=r"^session 'sess_0123456789ab' file_access: expected"):
        Session.from_json(record(file_access=None))


def test_a_session_record_reads_its_model_only_as_text() -> None:
    assert Session.from_json(record(model="m1")).model == "m1"
    assert Session.from_json(record(model=42)).model is None
    assert Session.from_json(record()).model is None
    assert Session.from_json(record(ttl=5, created_at=3)).created_at == 3.0


def test_an_upload_answer_and_a_file_entry_say_what_they_are() -> None:
    with pytest.raises(ProtocolError, match=r"^upload answer: field 'path' is None, expected str$"):
        StoredFile.from_json({"size": 1, "modified": 1.0})
    with pytest.raises(ProtocolError, match=r"^upload answer: expected a JSON object, got str$"):
        StoredFile.from_json("ok")
    with pytest.raises(
        ProtocolError, match=r"^file entry 'a': field 'size' is True, expected int$"
    ):
        FileEntry.from_json({"name": "a", "type": "file", "size": True, "modified": 1})
    window = {"name": "hour", "duration_seconds": 3600, "turns": 1, "max_turns": 2}
    with pytest.raises(ProtocolError, match=r"^usage window 'hour': field 'tokens' is None"):
        UsageWindow.from_json(window)


def test_usage_needs_each_part_of_its_shape() -> None:
    with pytest.raises(ProtocolError, match=r"^usage rate_limit: expected a JSON object"):
        Usage.from_json({"credits": {}})
    with pytest.raises(ProtocolError, match=r"^session_turn: expected a JSON object"):
        Usage.from_json({"rate_limit": {"caller_id": "c", "buckets": {}}, "credits": {}})


def folder(name: str) -> dict[str, Any]:
    return {"name": name, "type": "directory", "size": 0, "modified": 1.0}


def workspace(listing: Callable[[str], list[dict[str, Any]]]) -> Server:
    """A server whose workspace ``listing(folder)`` describes; anything else succeeds."""

    def answer(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(201, json=record())
        if request.method == "DELETE":
            return httpx.Response(204)
        return httpx.Response(200, json=listing(request.url.params.get("path", "")))

    return Server(answer)


@pytest.mark.parametrize(
    ("limits", "listing", "message"),
    [
        (
            {"max_walk_entries": 3},
            lambda path: [folder(f"d{n}") for n in range(4)],
            "the workspace listing has more than 3 entries (max_walk_entries): not walked further",
        ),
        (
            {"max_walk_folders": 2},
            lambda path: [folder("a"), folder("b")] if path == "" else [],
            "the workspace listing has more than 2 folders (max_walk_folders): not walked further",
        ),
        (
            {"max_walk_depth": 2},
            lambda path: [folder("deeper")],
            "the workspace listing has folders nested more than 2 deep (max_walk_depth): "
            "not walked further",
        ),
    ],
)
def test_the_workspace_walk_says_which_bound_it_met(
    limits: dict[str, int], listing: Callable[[str], list[dict[str, Any]]], message: str
) -> None:
    server = workspace(listing)
    with (
        client_of(server, limits=Limits(**limits)) as client,
        pytest.raises(ProtocolError) as raised,
    ):
        client.run("hello")
    assert str(raised.value) == message
    assert [r.method for r in server.requests][-1] == "DELETE"  # cleaned up


# -- what the seed-21 sample showed ----------------------------------------------------------


class CutAfter(httpx.SyncByteStream):
    """``data``, then the connection lost after ``keep`` bytes of it."""

    def __init__(self, data: bytes, keep: int):
        self.data, self.keep = data, keep

    def __iter__(self) -> Iterator[bytes]:
        yield self.data[: self.keep]
        raise httpx.ReadError("connection lost")


def test_a_cut_download_resumes_against_last_modified_without_an_etag(tmp_path: Any) -> None:
    data = bytes(range(256)) * 8
    stamp = "Mon, 01 Jan 2024 00:00:00 GMT"

    def files(request: httpx.Request) -> httpx.Response:
        if "range" not in request.headers:
            headers = {"Content-Length": str(len(data)), "Last-Modified": stamp}
            return httpx.Response(200, stream=CutAfter(data, 1000), headers=headers)
        rest = data[1000:]
        headers = {
            "Content-Length": str(len(rest)),
            "Content-Range": f"bytes 1000-{len(data) - 1}/{len(data)}",
        }
        return httpx.Response(206, content=rest, headers=headers)

    server = Server(files)
    with client_of(server, retry=RetryPolicy(jitter=lambda: 0.5)) as client:
        saved = client.files.download(SESSION_ID, "out/a.bin", tmp_path / "a.bin")
    assert saved.read_bytes() == data
    first, second = server.requests
    assert (second.headers["range"], second.headers["if-range"]) == ("bytes=1000-", stamp)
    assert "if-range" not in first.headers


def test_an_error_whose_body_was_not_read_names_the_request() -> None:
    encoded = {"Content-Encoding": "gzip", "Content-Type": "text/html"}
    server = Server(lambda request: httpx.Response(502, content=b"\x1f\x8b", headers=encoded))
    with client_of(server) as client, pytest.raises(APIError) as raised:
        client.sessions.get(SESSION_ID)
    assert raised.value.message.startswith(
        f"GET {URL}/v1/sessions/{SESSION_ID} answered 502; its body was not read: "
    )


def test_a_cancel_answer_needs_its_status() -> None:
    server = Server(lambda request: httpx.Response(200, json={"state": "cancelling"}))
    with client_of(server) as client, pytest.raises(ProtocolError) as raised:
        client.messages.cancel("s/1", "m 1")
    assert str(raised.value) == "cancel: the answer has no status"
    assert server.requests[0].url.raw_path.decode() == "/v1/sessions/s%2F1/responses/m%201/cancel"


def test_more_answers_that_say_what_they_are() -> None:
    with pytest.raises(ProtocolError, match=r"^file entry: expected a JSON object, got list$"):
        FileEntry.from_json([])
    with pytest.raises(ProtocolError, match=r"^upload answer: field 'size' is '5', expected int$"):
        StoredFile.from_json({"path": "a", "size": "5", "modified": 1.0})


def test_a_file_of_a_session_is_quoted_like_the_session() -> None:
    server = Server(lambda request: httpx.Response(200, json=[]))
    with client_of(server) as client:
        client.files.list("s/1")
        client.files.delete("s/1", "a.txt")
    assert [r.url.raw_path.decode() for r in server.requests][
        -1
    ] == "/v1/sessions/s%2F1/files/a.txt"


@pytest.mark.parametrize("name", ["a\x7fb", "a\x80b", "a\x9fb", "a\x1fb", "a\\b", "..", ""])
def test_a_local_path_refuses_what_the_server_should_not_name(name: str) -> None:
    with pytest.raises(ProtocolError, match="unsafe path"):
        local_path(Path("out"), f"docs/{name}")
    assert local_path(Path("out"), "docs/a\xa0b.txt") == Path("out", "docs", "a\xa0b.txt")


def test_events_that_keep_coming_are_no_stall_however_long_the_stream() -> None:
    """Each event is a sign of life: a stream of events 0.05 s apart is read to its end
    with a ``stream_read_timeout`` of 0.2 s, though it lasts longer than that."""
    frames = [frame(s, t, d) for s, (t, d) in enumerate(turn_log())]
    headers = {"content-type": "text/event-stream", "x-response-id": RESPONSE_ID}
    server = Server(
        lambda request: httpx.Response(200, stream=Chunks(*frames, pause=0.05), headers=headers)
    )
    with client_of(server, stream_read_timeout=0.2) as client:
        outcome = client.messages.send(SESSION_ID, "hello")
    assert (outcome.status, outcome.resumes) == ("completed", 0)
    assert len(server.requests) == 1


def test_a_resume_answered_with_another_turns_stream_is_refused() -> None:
    other = "msg_" + "cd" * 12
    headers = {"content-type": "text/event-stream", "x-response-id": other}
    body = b"".join(frame(s, t, d) for s, (t, d) in enumerate(turn_log()))
    server = Server(lambda request: httpx.Response(200, content=body, headers=headers))
    with client_of(server) as client, pytest.raises(ProtocolError) as raised:
        list(client.messages.resume(SESSION_ID, RESPONSE_ID))
    assert str(raised.value) == f"resumed {RESPONSE_ID} but got the stream of {other}"


def test_a_file_is_uploaded_in_pieces(tmp_path: Any) -> None:
    path = tmp_path / "big.bin"
    path.write_bytes(b"z" * (2 * CHUNK + 5))
    assert [len(piece) for piece in FileBody(path)] == [CHUNK, CHUNK, 5]
    assert list(FileBody(b"small")) == [b"small"]


def test_a_failed_metadata_poll_beside_the_stream_is_not_retried() -> None:
    """``run`` polls the session beside the stream for progress; a poll that fails is
    skipped (the next one tries again), never retried with a wait nor fatal."""
    streamed = threading.Event()

    class Slow(Chunks):
        def __iter__(self) -> Iterator[bytes]:
            *head, last = super().__iter__()
            yield from head
            streamed.set()  # before the terminal event: the client reads no further
            yield last

    frames = [frame(s, t, d) for s, (t, d) in enumerate(turn_log())]

    def api(request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path == "/v1/sessions":
            return httpx.Response(201, json=record())
        if request.method == "POST":
            headers = {"content-type": "text/event-stream", "x-response-id": RESPONSE_ID}
            return httpx.Response(200, stream=Slow(*frames, pause=0.03), headers=headers)
        if request.url.path.endswith("/files"):
            return httpx.Response(200, json=[])
        if request.method == "GET":  # the session: unavailable while the turn streams
            status = 200 if streamed.is_set() else 503
            return httpx.Response(status, json=record() if status == 200 else {})
        return httpx.Response(204)

    sleeper = Sleeper()
    server = Server(api)
    policy = RetryPolicy(jitter=lambda: 0.5)
    with client_of(server, sleep=sleeper, retry=policy, watch_interval=0.01) as client:
        result = client.run("hello")
    assert result.status == "completed"
    polls = [r for r in server.requests if r.method == "GET" and r.url.path.endswith("ab")]
    assert len(polls) > 2  # the watcher polled (and failed) while the turn streamed
    assert sleeper.calls == []


# -- what the seed-22 sample showed ----------------------------------------------------------


def test_an_answer_too_large_names_the_request() -> None:
    big = {"Content-Length": str(20 * 1024 * 1024)}
    server = Server(lambda request: httpx.Response(200, content=b"", headers=big))
    with client_of(server) as client, pytest.raises(ProtocolError) as raised:
        client.usage()
    assert str(raised.value) == "GET /v1/usage: the answer is larger than 10 MiB (max_answer_size)"


def test_a_download_longer_than_announced_is_refused(tmp_path: Any) -> None:
    headers = {"Content-Length": "5"}
    server = Server(
        lambda request: httpx.Response(200, stream=Chunks(b"hello", b"extra"), headers=headers)
    )
    with client_of(server) as client, pytest.raises(ProtocolError) as raised:
        client.files.download(SESSION_ID, "out/a.txt", tmp_path / "a.txt")
    assert str(raised.value) == "out/a.txt: more than the 5 bytes announced"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda c: c.sessions.list(), "sessions: expected a JSON array"),
        (lambda c: c.files.list(SESSION_ID), "files: expected a JSON array"),
    ],
)
def test_a_listing_that_is_not_one_says_which(call: Callable[[Any], Any], message: str) -> None:
    server = Server(lambda request: httpx.Response(200, json={"sessions": []}))
    with client_of(server) as client, pytest.raises(ProtocolError) as raised:
        call(client)
    assert str(raised.value) == message


def test_usage_without_credits_says_so() -> None:
    limits = {
        "caller_id": "c",
        "buckets": {"session_turn": {"windows": []}, "response": {"windows": []}},
    }
    with pytest.raises(ProtocolError) as raised:
        Usage.from_json({"rate_limit": limits})
    assert str(raised.value) == "usage credits: expected a JSON object, got NoneType"


@pytest.mark.parametrize(
    ("metadata", "status"),
    [
        ({"task_status": "drafting", "progress": "50%"}, "drafting"),
        ({"progress": "50%"}, "50%"),
        ({"progress": 50}, None),
        ({"temasek_status": 3, "progress": "half"}, "half"),
        ({}, None),
    ],
)
def test_progress_reads_a_status_or_else_a_progress(metadata: dict[str, Any], status: Any) -> None:
    assert metadata_status(metadata) == status


def test_sigterm_in_a_client_call_is_terminated_sigterm() -> None:
    with pytest.raises(Terminated) as raised, sigterm_raises():
        os.kill(os.getpid(), signal.SIGTERM)  # the handler raises as this returns
    assert str(raised.value) == "SIGTERM"


@pytest.mark.parametrize("keep", [False, True])
def test_a_run_interrupted_before_its_streams_head_still_cancels_its_turn(keep: bool) -> None:
    """M8 with M9: SIGTERM after the message went out but before the stream's head came
    back leaves the run without the turn's response id; it sends the same request again
    (the same Idempotency-Key names the turn and starts no second one) and cancels that."""
    messages: list[httpx.Request] = []

    def api(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if request.method == "POST" and path == "/v1/sessions":
            return httpx.Response(201, json=record())
        if request.method == "POST" and path.endswith("/messages"):
            messages.append(request)
            if len(messages) == 1:
                raise Terminated("SIGTERM")  # as the signal arrives while the head is awaited
            headers = {"content-type": "text/event-stream", "x-response-id": RESPONSE_ID}
            return httpx.Response(200, content=frame(0, *turn_log()[0]), headers=headers)
        if path.endswith("/cancel"):
            return httpx.Response(202, json={"response_id": RESPONSE_ID, "status": "cancelling"})
        if path.endswith("/files"):
            return httpx.Response(200, json=[])
        if request.method == "GET":
            return httpx.Response(200, json=record())
        return httpx.Response(204)

    server = Server(api)
    with client_of(server) as client, pytest.raises(Terminated):
        client.run("hello", keep=keep)
    first, again = messages
    assert again.headers["idempotency-key"] == first.headers["idempotency-key"]
    assert again.content == first.content
    message = ("POST", f"/v1/sessions/{SESSION_ID}/messages")
    cancel = ("POST", f"/v1/sessions/{SESSION_ID}/responses/{RESPONSE_ID}/cancel")
    deleted = [] if keep else [("DELETE", f"/v1/sessions/{SESSION_ID}")]
    sent = [(r.method, r.url.path) for r in server.requests if r.method != "GET"]
    assert sent == [("POST", "/v1/sessions"), message, message, cancel, *deleted]


def test_a_run_interrupted_before_its_message_went_out_sends_nothing_more() -> None:
    """Interrupted while it looks at the workspace (before the message), there is no turn
    to cancel: the run deletes its session and sends no message."""

    def api(request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path == "/v1/sessions":
            return httpx.Response(201, json=record())
        if request.url.path.endswith("/files"):
            raise Terminated("SIGTERM")
        return httpx.Response(204)

    server = Server(api)
    with client_of(server) as client, pytest.raises(Terminated):
        client.run("hello")
    assert [(r.method, r.url.path.rsplit("/", 1)[-1]) for r in server.requests] == [
        ("POST", "sessions"),
        ("GET", "files"),
        ("DELETE", SESSION_ID),
    ]
