"""The client and the ``pokee`` command against a server that attacks them (see
`tests.client.hostile`): whatever it sends, the client's memory stays bounded, its waits end,
its key stays at the origin, and the terminal shows the server's text without obeying it.

Each library case runs with both clients (the logic is one flow, driven twice); the
command-line cases run the installed ``pokee`` script in a subprocess. Memory is measured
with tracemalloc around the call (the server streams from a buffer made beforehand, so what
is measured is the client's), and ``served`` says how much the server could write before
the client stopped reading. Real waits are bounded by the server's budget (`BUDGET`).
"""

from __future__ import annotations

import asyncio
import gzip
import inspect
import json
import math
import subprocess
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import pokee_client
from pokee_client import (
    AsyncPokeeClient,
    AsyncTurnStream,
    InternalServerError,
    PokeeClient,
    ProtocolError,
    RetryPolicy,
    TransportError,
)
from pokee_client.errors import retry_after
from tests.client.flaky import RESPONSE_ID, SESSION_ID, frame, turn_log
from tests.client.flaky import session_record as record
from tests.client.helpers import POKEE, Shell, on_terminal, one_error_line
from tests.client.hostile import BUDGET, Hostile, Reply, Seen

KEY = "pk_hostile_key"
KiB, MiB = 1024, 1024 * 1024
PIECE = b"a" * (64 * KiB)  # made once: the server streams it, so tracemalloc sees the client
KINDS = ["sync", "async"]
ONCE = RetryPolicy(attempts=1)
MESSAGES = r"/v1/sessions/[^/]+/messages"
EVENTS = r"/v1/sessions/[^/]+/responses/[^/]+/events"
SESSION = r"/v1/sessions/[^/]+"
LISTING = r"/v1/sessions/[^/]+/files"
FILE = r"/v1/sessions/[^/]+/files/.+"
# What a server may try on a terminal: set its title (OSC), clear the screen (CSI), the 8-bit
# CSI, DEL, a right-to-left override, a line separator, and the C1 next-line.
EVIL = "\x1b]0;PWNED\x07\x1b[2J\x9b31m\x7f\u202e\u2028\x85"


def idle(seen: Seen, reply: Reply) -> None:
    reply.json(200, record())


def answer(status: int, value: Any) -> Callable[[Seen, Reply], None]:
    return lambda seen, reply: reply.json(status, value)


def no_content(seen: Seen, reply: Reply) -> None:
    reply.head(204)


def raw(status: int, headers: list[tuple[str, str]], body: bytes) -> Callable[[Seen, Reply], None]:
    """An answer of exactly these headers and body (no Content-Length unless given)."""

    def handler(seen: Seen, reply: Reply) -> None:
        reply.head(status, headers)
        reply.send(body)

    return handler


def download_to(client: Any, folder: Path) -> Any:
    return client.files.download(SESSION_ID, "out/a.txt", folder / "a.txt")


CALLS_DOWNLOAD: tuple[str, str, Callable[[Any, Path], Any]] = ("GET", FILE, download_to)


@pytest.fixture
def hostile() -> Iterator[Hostile]:
    with Hostile().serving() as server:
        yield server


@pytest.fixture
def patient() -> Iterator[Hostile]:
    """A server for a test that runs several commands in turn: more time before it hangs
    up (nothing in these tests waits for it to)."""
    with Hostile(budget=6 * BUDGET).serving() as server:
        yield server


def limits(**values: Any) -> Any:
    """`pokee_client.Limits`, looked up when a test needs it."""
    return pokee_client.Limits(**values)


def with_client(kind: str, url: str, action: Callable[[Any], Any], **options: Any) -> Any:
    """``action(client)`` with a `PokeeClient` or an `AsyncPokeeClient` (awaiting what it
    returns); the client's own waits (backoff) take no time."""
    if kind == "sync":
        with PokeeClient(url, KEY, sleep=lambda _: None, **options) as client:
            return action(client)

    async def nap(_: float) -> None:
        pass

    async def go() -> Any:
        async with AsyncPokeeClient(url, KEY, sleep=nap, **options) as client:
            result = action(client)
            return await result if inspect.isawaitable(result) else result

    return asyncio.run(go())


def turn(client: Any) -> Any:
    """A message's events and outcome, from either client."""
    stream = client.messages.stream(SESSION_ID, "hello")
    if isinstance(stream, AsyncTurnStream):

        async def drain() -> Any:
            return [event async for event in stream], stream.outcome

        return drain()
    return list(stream), stream.outcome


def failure_of(work: Callable[[], object]) -> tuple[Exception | None, int, float]:
    """What ``work`` raised (None if nothing), the peak of memory traced meanwhile, and
    the real seconds it took."""
    started = time.monotonic()
    tracemalloc.start()
    failure: Exception | None = None
    try:
        work()
    except Exception as exc:
        failure = exc
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return failure, peak, time.monotonic() - started


# -- 1. memory: events and answers are read up to a limit, never whole -----------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("shape", ["endless", "huge"])
def test_an_oversized_event_is_refused_at_the_limit(
    hostile: Hostile, kind: str, shape: str
) -> None:
    """An event that never ends (no blank line) or one of 24 MiB stops the client once it
    passes ``max_event_size`` (16 MiB by default), with a clear error: it neither buffers
    the event whole nor resumes to get it again."""

    def stream(seen: Seen, reply: Reply) -> None:
        reply.events_head(RESPONSE_ID)
        reply.send(b'id: 0\nevent: message.created\ndata: {"pad": "')
        reply.repeat(PIECE, 48 * MiB if shape == "endless" else 24 * MiB)
        if shape == "huge":
            reply.send(b'", "sequence_number": 0}\n\n')

    hostile.route("POST", MESSAGES, stream)
    hostile.route("GET", EVENTS, stream)
    hostile.route("GET", SESSION, idle)
    failure, peak, _ = failure_of(lambda: with_client(kind, hostile.url, turn))
    assert isinstance(failure, ProtocolError), failure
    assert "16 MiB" in str(failure)
    assert "max_event_size" in str(failure)
    assert peak < 40 * MiB, f"peak {peak / MiB:.0f} MiB"
    assert hostile.served < 40 * MiB  # it stopped reading at the limit
    assert hostile.seen("GET", EVENTS) == []  # the same event would come again


def test_the_event_limit_is_an_option(hostile: Hostile) -> None:
    def stream(seen: Seen, reply: Reply) -> None:
        reply.events_head(RESPONSE_ID)
        reply.send(frame(0, "message.created", {"pad": "a" * 100 * KiB}))

    hostile.route("POST", MESSAGES, stream)
    with pytest.raises(ProtocolError, match=r"64 KiB \(max_event_size\)"):
        with_client("sync", hostile.url, turn, limits=limits(max_event_size=64 * KiB))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("status", [200, 500])
def test_a_huge_answer_is_read_only_up_to_the_limit(
    hostile: Hostile, kind: str, status: int
) -> None:
    """A JSON answer or an error body over ``max_answer_size`` (10 MiB by default) is not
    read past the limit: a JSON answer is refused, an error keeps its status."""

    def handler(seen: Seen, reply: Reply) -> None:
        reply.head(status, [("Content-Type", "application/json")])  # read until closed
        reply.send(b'["')
        reply.repeat(PIECE, 24 * MiB)
        reply.send(b'"]')

    hostile.route("GET", "/v1/sessions", handler)
    failure, peak, _ = failure_of(
        lambda: with_client(kind, hostile.url, lambda c: c.sessions.list(), retry=ONCE)
    )
    if status == 200:
        assert isinstance(failure, ProtocolError), failure
    else:
        assert isinstance(failure, InternalServerError), failure
        assert len(failure.message) < 300
    assert "10 MiB (max_answer_size)" in str(failure)
    assert peak < 24 * MiB, f"peak {peak / MiB:.0f} MiB"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("status", [200, 500])
def test_an_answer_announced_too_large_is_not_read_at_all(
    hostile: Hostile, kind: str, status: int
) -> None:
    def handler(seen: Seen, reply: Reply) -> None:
        reply.head(
            status, [("Content-Type", "application/json"), ("Content-Length", "4" + "0" * 8)]
        )
        reply.pause(3.0)  # the body comes only if the client waits for it
        reply.repeat(PIECE, 24 * MiB)

    hostile.route("GET", "/v1/sessions", handler)
    failure, _, took = failure_of(
        lambda: with_client(kind, hostile.url, lambda c: c.sessions.list(), retry=ONCE)
    )
    assert isinstance(failure, ProtocolError if status == 200 else InternalServerError), failure
    assert "max_answer_size" in str(failure)
    assert took < 2.0
    assert hostile.served < KiB  # the head alone


def test_a_huge_error_message_is_one_short_line(hostile: Hostile) -> None:
    """A 3 MiB A5 message is within the answer limit, but the command prints one line of
    it, not megabytes."""
    message = "x" * 3 * MiB
    hostile.route("GET", SESSION, answer(400, {"error": "invalid_request", "message": message}))
    done = Shell(hostile.url, KEY)("sessions", "show", SESSION_ID)
    assert done.returncode == 1
    one_error_line(done, "invalid_request (400): xxx")
    assert len(done.stderr) < 2000


@pytest.fixture(scope="module")
def bomb() -> bytes:
    """64 MiB of zeros, gzipped to some 64 KiB."""
    return gzip.compress(bytes(64 * MiB), compresslevel=9)


ENCODED: dict[str, tuple[str, str, Callable[[Any, Path], Any]]] = {
    "answer": ("GET", SESSION, lambda c, _: c.sessions.get(SESSION_ID)),
    "stream": ("POST", MESSAGES, lambda c, _: turn(c)),
    "download": CALLS_DOWNLOAD,
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("what", sorted(ENCODED))
def test_a_compressed_answer_is_refused_unread(
    hostile: Hostile, bomb: bytes, kind: str, what: str, tmp_path: Path
) -> None:
    """Every request asks for no content encoding; an answer that has one anyway is
    refused before a byte of it is decoded, so a small body cannot inflate past a limit."""
    method, path, action = ENCODED[what]
    kind_of = "text/event-stream" if what == "stream" else "application/json"
    headers = [("Content-Type", kind_of), ("Content-Encoding", "gzip")]
    hostile.route(method, path, raw(200, [*headers, ("Content-Length", str(len(bomb)))], bomb))
    failure, peak, _ = failure_of(
        lambda: with_client(kind, hostile.url, lambda c: action(c, tmp_path))
    )
    assert isinstance(failure, ProtocolError), failure
    assert "'gzip'-encoded" in str(failure)
    assert peak < 8 * MiB, f"peak {peak / MiB:.0f} MiB"
    assert all(r.headers["accept-encoding"] == "identity" for r in hostile.requests)
    assert list(tmp_path.iterdir()) == []


def test_json_nested_past_the_recursion_limit_is_not_json(hostile: Hostile) -> None:
    hostile.route("GET", SESSION, lambda seen, reply: reply.raw_json(200, "[" * 200_000))
    with pytest.raises(ProtocolError, match="not JSON"):
        with_client("sync", hostile.url, lambda c: c.sessions.get(SESSION_ID), retry=ONCE)


# -- 2. time: keep-alives are not progress, and every read has a deadline --------------------


def pings(seen: Seen, reply: Reply) -> None:
    reply.events_head(RESPONSE_ID)
    while True:
        reply.send(b": ping\n\n")
        reply.pause(0.02)


def dripped_event(seen: Seen, reply: Reply) -> None:
    reply.events_head(RESPONSE_ID)
    for byte in frame(0, *turn_log()[0]):
        reply.send(bytes([byte]))
        reply.pause(0.02)


@pytest.mark.parametrize("kind", KINDS)
def test_keep_alive_comments_alone_end_at_the_stream_deadline(hostile: Hostile, kind: str) -> None:
    """M3's pings are signs of life (a turn may wait minutes on a tool), so they keep a
    stream from counting as stalled; a stream of nothing else ends at ``stream_deadline``."""
    hostile.route("POST", MESSAGES, pings)
    failure, _, took = failure_of(
        lambda: with_client(
            kind, hostile.url, turn, stream_read_timeout=0.25, limits=limits(stream_deadline=1.0)
        )
    )
    assert isinstance(failure, TransportError), failure
    assert "stream_deadline" in str(failure)
    assert took < 3.0
    assert hostile.seen("GET", EVENTS) == []  # never taken for a stall


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("stream", [dripped_event], ids=["drip"])
def test_a_stream_without_new_events_is_a_stall(
    hostile: Hostile, kind: str, stream: Callable[[Seen, Reply], None]
) -> None:
    """An event dripped a byte at a time keeps the socket busy but completes nothing:
    after ``stream_read_timeout`` the stream counts as stalled, is resumed, and once
    resuming brings nothing the session is polled (M5), as for any stall."""
    hostile.route("POST", MESSAGES, stream)
    hostile.route("GET", EVENTS, stream)
    hostile.route("GET", SESSION, idle)
    retry = RetryPolicy(resumes=2, jitter=lambda: 0.5)
    started = time.monotonic()
    events, outcome = with_client(kind, hostile.url, turn, stream_read_timeout=0.25, retry=retry)
    assert time.monotonic() - started < 2.5
    assert events == []
    assert outcome.status == "unknown"
    assert outcome.polled
    assert len(hostile.seen("POST", MESSAGES)) == 1
    assert len(hostile.seen("GET", EVENTS)) == retry.resumes


@pytest.mark.parametrize("kind", KINDS)
def test_a_dripped_answer_ends_at_the_timeout(hostile: Hostile, kind: str) -> None:
    """One byte every 20 ms never trips a per-read timeout; ``timeout`` also bounds the
    whole answer."""

    def drip(seen: Seen, reply: Reply) -> None:
        body = json.dumps(record()).encode()
        reply.head(200, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        for byte in body:
            reply.send(bytes([byte]))
            reply.pause(0.02)

    hostile.route("GET", SESSION, drip)
    failure, _, took = failure_of(
        lambda: with_client(
            kind, hostile.url, lambda c: c.sessions.get(SESSION_ID), timeout=0.5, retry=ONCE
        )
    )
    assert isinstance(failure, TransportError), failure
    assert "0.5 s (timeout)" in str(failure)
    assert took < 2.0


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("call", ["get", "stream"])
def test_a_dripped_head_ends_at_the_read_timeout(hostile: Hostile, kind: str, call: str) -> None:
    """The status line and headers a byte every 20 ms: each read is in time, the head as a
    whole is not; it gets the request's read timeout (``timeout``, or for a stream
    ``stream_read_timeout``), not the server's patience."""

    def drip(seen: Seen, reply: Reply) -> None:
        for byte in b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Pad: " + b"a" * 500:
            reply.send(bytes([byte]))
            reply.pause(0.02)

    hostile.route("GET", SESSION, drip)
    hostile.route("POST", MESSAGES, drip)

    def get(client: Any) -> Any:
        return client.sessions.get(SESSION_ID)

    action = get if call == "get" else turn
    failure, _, took = failure_of(
        lambda: with_client(
            kind, hostile.url, action, timeout=0.5, stream_read_timeout=0.5, retry=ONCE
        )
    )
    assert isinstance(failure, TransportError), failure
    assert "status and headers took longer than 0.5 s" in str(failure)
    assert took < 2.0


@pytest.mark.parametrize("kind", KINDS)
def test_a_stream_that_never_ends_meets_its_deadline(hostile: Hostile, kind: str) -> None:
    """New events, forever, never a terminal one: ``stream_deadline`` ends it."""

    def endless(seen: Seen, reply: Reply) -> None:
        reply.events_head(RESPONSE_ID)
        reply.send(frame(0, *turn_log()[0]))
        seq = 1
        while True:
            reply.send(frame(seq, "text.delta", {"content": "more "}))
            reply.pause(0.02)
            seq += 1

    hostile.route("POST", MESSAGES, endless)
    failure, _, took = failure_of(
        lambda: with_client(kind, hostile.url, turn, limits=limits(stream_deadline=0.5))
    )
    assert isinstance(failure, TransportError), failure
    assert "stream_deadline" in str(failure)
    assert took < 2.0


# -- 3. redirects: reported, never followed ---------------------------------------------------


CALLS: dict[str, tuple[str, str, Callable[[Any, Path], Any]]] = {
    "create": ("POST", "/v1/sessions", lambda c, _: c.sessions.create()),
    "get": ("GET", SESSION, lambda c, _: c.sessions.get(SESSION_ID)),
    "message": ("POST", MESSAGES, lambda c, _: turn(c)),
    "download": CALLS_DOWNLOAD,
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("call", sorted(CALLS))
@pytest.mark.parametrize("status", [302, 307])
def test_a_redirect_is_reported_and_not_followed(
    hostile: Hostile, kind: str, call: str, status: int, tmp_path: Path
) -> None:
    """The key never goes to another origin: a redirect is an error naming its status and
    its Location, and nothing is written."""
    method, path, action = CALLS[call]
    with Hostile().serving() as elsewhere:
        location = f"{elsewhere.url}/steal"

        def redirect(seen: Seen, reply: Reply) -> None:
            page = b"<html>moved</html>"
            headers = [("Location", location), ("Content-Length", str(len(page)))]
            reply.head(status, [*headers, ("Content-Type", "text/html")])
            reply.send(page)

        hostile.route(method, path, redirect)
        with pytest.raises(ProtocolError) as raised:
            with_client(kind, hostile.url, lambda c: action(c, tmp_path))
        assert elsewhere.requests == []
    assert str(status) in str(raised.value)
    assert location in str(raised.value)
    assert "not followed" in str(raised.value)
    assert list(tmp_path.iterdir()) == []


# -- 4. run's workspace walk, and downloads ----------------------------------------------------


def folder_named(name: str) -> dict[str, Any]:
    return {"name": name, "type": "directory", "size": 0, "modified": 1.0}


def file_named(name: str) -> dict[str, Any]:
    return {"name": name, "type": "file", "size": 1, "modified": 1.0}


def test_pokee_run_stops_walking_a_bottomless_listing(hostile: Hostile, tmp_path: Path) -> None:
    """Every folder holds one more: the walk stops at ``max_walk_depth`` (32), the run fails
    in one line, and its session is deleted."""
    hostile.route("POST", "/v1/sessions", answer(201, record()))
    hostile.route("GET", LISTING, answer(200, [folder_named("deeper")]))
    hostile.route("DELETE", SESSION, no_content)
    done = Shell(hostile.url, KEY)("run", "hello", "--out", str(tmp_path))
    assert done.returncode == 1
    one_error_line(done, "max_walk_depth")
    assert len(hostile.seen("GET", LISTING)) <= 33
    assert len(hostile.seen("DELETE", SESSION)) == 1
    assert hostile.seen("POST", MESSAGES) == []
    assert list(tmp_path.iterdir()) == []


WALKS: dict[str, tuple[dict[str, int], list[dict[str, Any]], str]] = {
    "wide": (
        {"max_walk_folders": 5},
        [folder_named(f"d{n}") for n in range(3)],
        "max_walk_folders",
    ),
    "crowded": (
        {"max_walk_entries": 50},
        [file_named(f"f{n}") for n in range(51)],
        "max_walk_entries",
    ),
    "dot-dot": ({}, [folder_named("..")], "unsafe name"),
    "slash": ({}, [file_named("a/../../b")], "unsafe name"),
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("walk", sorted(WALKS))
def test_run_bounds_its_workspace_walk(
    hostile: Hostile, kind: str, walk: str, tmp_path: Path
) -> None:
    options, entries, mention = WALKS[walk]
    hostile.route("POST", "/v1/sessions", answer(201, record()))
    hostile.route("GET", LISTING, answer(200, entries))
    hostile.route("DELETE", SESSION, no_content)
    with pytest.raises(ProtocolError, match=mention):
        with_client(
            kind, hostile.url, lambda c: c.run("hello", out=tmp_path), limits=limits(**options)
        )
    assert len(hostile.seen("DELETE", SESSION)) == 1
    assert hostile.seen("POST", MESSAGES) == []


DOWNLOADS: dict[str, Callable[[Seen, Reply], None]] = {
    "204": no_content,
    "201": answer(201, {"path": "out/a.txt"}),
    "no length": raw(200, [], b"hello"),
    "206 short of its range": raw(
        206, [("Content-Range", "bytes 0-4/10"), ("Content-Length", "5")], b"hello"
    ),
    "206 unicode digits": raw(
        206, [("Content-Range", "bytes \xb2-4/10"), ("Content-Length", "5")], b"hello"
    ),
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("shape", sorted(DOWNLOADS))
def test_a_download_takes_only_the_files_whole_bytes(
    hostile: Hostile, kind: str, shape: str, tmp_path: Path
) -> None:
    """Only 200 or 206, with a size that Content-Length or Content-Range announces and the
    body delivers; anything else writes nothing."""
    hostile.route("GET", FILE, DOWNLOADS[shape])
    with pytest.raises(ProtocolError):
        with_client(
            kind,
            hostile.url,
            lambda c: c.files.download(SESSION_ID, "out/a.txt", tmp_path / "a.txt"),
            retry=ONCE,
        )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("status", [204, 302])
def test_pokee_files_get_saves_nothing_but_the_file(
    hostile: Hostile, status: int, tmp_path: Path
) -> None:
    def handler(seen: Seen, reply: Reply) -> None:
        page = b"<html>not the file</html>" if status == 302 else b""
        reply.head(
            status, [("Location", "http://127.0.0.1:9/x"), ("Content-Length", str(len(page)))]
        )
        reply.send(page)

    hostile.route("GET", FILE, handler)
    done = Shell(hostile.url, KEY)("files", "get", SESSION_ID, "out/a.txt", "--out", str(tmp_path))
    assert done.returncode == 1
    one_error_line(done, str(status))
    assert list(tmp_path.iterdir()) == []


# -- 5. the terminal: timestamps, control characters -----------------------------------------


BAD_TIMES = ["1e20", "NaN", "-1e20", "253402300800", "Infinity", "-Infinity", "1e400"]


def raw_record(index: int, when: str) -> str:
    return (
        f'{{"id": "sess_{index:012d}", "created_at": {when}, "last_activity": {when},'
        ' "busy": false, "persistent": true, "ttl": 60, "status": "ready", "metadata": {},'
        ' "file_access": {"read": [""], "write": [""]}}'
    )


def test_timestamps_out_of_range_are_shown_as_unknown(patient: Hostile) -> None:
    """Not finite, or beyond what a date can hold: shown as ``?``, never a traceback;
    with ``--json``, a number that is not finite is null (JSON has no ``NaN``)."""
    listing = [
        f'{{"name": "f{n}", "type": "file", "size": 1, "modified": {when}}}'
        for n, when in enumerate(BAD_TIMES)
    ]
    sessions = [raw_record(n, when) for n, when in enumerate(BAD_TIMES)]
    patient.route("GET", "/v1/sessions", lambda s, r: r.raw_json(200, f"[{', '.join(sessions)}]"))
    patient.route("GET", LISTING, lambda s, r: r.raw_json(200, f"[{', '.join(listing)}]"))
    patient.route("GET", SESSION, lambda s, r: r.raw_json(200, raw_record(0, "1e20")))
    shell = Shell(patient.url, KEY)
    shown = shell("sessions", "list")
    assert shown.returncode == 0, shown.stderr
    assert [line.count("last active ?") for line in shown.stdout.splitlines()] == [1] * 7
    files = shell("files", "ls", SESSION_ID)
    assert files.returncode == 0, files.stderr
    assert all("  ?  f" in line for line in files.stdout.splitlines())
    one = shell("sessions", "show", SESSION_ID)
    assert one.returncode == 0, one.stderr
    assert "created        ?" in one.stdout.splitlines()
    as_json = shell("sessions", "list", "--json")
    assert as_json.returncode == 0, as_json.stderr
    strict = json.loads(as_json.stdout, parse_constant=lambda name: pytest.fail(name))
    assert [s["created_at"] for s in strict] == [1e20, None, -1e20, 253402300800, None, None, None]


def assert_inert(text: str, *, newlines: bool = True) -> None:
    """No control character a terminal would act on (newlines where they are lines)."""
    for char in text:
        code = ord(char)
        harmless = char == "\n" and newlines
        assert harmless or not (
            code < 0x20 or 0x7F <= code <= 0x9F or 0x202A <= code <= 0x202E or code in (0x2028,)
        ), f"{char!r} reached the terminal: {text!r}"


def evil_turn(seen: Seen, reply: Reply) -> None:
    """A turn whose every string is an attack, and whose usage is not numbers."""
    reply.events_head(RESPONSE_ID)
    log: list[tuple[str, dict[str, Any]]] = [
        ("message.created", {"id": RESPONSE_ID, "session_id": SESSION_ID}),
        ("tool_use.start", {"name": EVIL, "id": "t1"}),
        (f"evil.{EVIL}", {"note": EVIL}),
        ("text.delta", {"content": f"first line {EVIL}\nsecond line"}),
        ("tool_use.stop", {}),
        (
            "message.completed",
            {"id": RESPONSE_ID, "usage": {"input_tokens": "many", "x": math.inf}},
        ),
    ]
    for seq, (type_, data) in enumerate(log):
        reply.send(frame(seq, type_, data))
        if type_ == "tool_use.start":
            reply.pause(0.6)  # long enough for a live display to draw the tool


def evil_server(hostile: Hostile, created: dict[str, Any] | None = None) -> None:
    evil_record = record(model=EVIL, metadata={f"key{EVIL}": EVIL, "task_status": EVIL})
    hostile.route("POST", "/v1/sessions", answer(201, created or evil_record))
    hostile.route("GET", LISTING, answer(200, [file_named(f"name{EVIL}")]))
    hostile.route("POST", MESSAGES, evil_turn)
    hostile.route("GET", "/v1/sessions/gone", answer(404, {"error": "not_found", "message": EVIL}))
    hostile.route("GET", SESSION, answer(200, evil_record))
    hostile.route("DELETE", SESSION, no_content)


def test_the_servers_text_reaches_the_terminal_inert(patient: Hostile, tmp_path: Path) -> None:
    """Every string from the server is printed with its control characters made visible
    (``\\x1b``), in listings, events, progress lines, the answer and errors alike; the
    answer keeps its line breaks, an error stays one line."""
    evil_server(patient)
    shell = Shell(patient.url, KEY)
    outputs = []
    for args in (
        ("sessions", "show", SESSION_ID),
        ("files", "ls", SESSION_ID),
        ("send", SESSION_ID, "hello"),
        ("run", "hello", "--out", str(tmp_path)),
    ):
        done = shell(*args)
        assert done.returncode == 0, done.stderr
        assert_inert(done.stdout)
        assert_inert(done.stderr)
        assert "\\x1b]0;PWNED\\x07" in done.stdout
        outputs.append(done.stdout)
    assert "first line \\x1b]0;PWNED" in outputs[3]
    assert "\nsecond line" in outputs[3]
    gone = shell("sessions", "show", "gone")
    assert gone.returncode == 1
    one_error_line(gone, "\\x1b]0;PWNED\\x07\\x1b[2J\\x9b31m\\x7f\\u202e\\u2028\\x85")
    assert_inert(gone.stderr)


def test_json_output_stays_json_and_inert(patient: Hostile) -> None:
    """``--json`` escapes what the terminal would act on (C1 and DEL too, which JSON
    allows raw), and the value reads back unchanged."""
    evil_server(patient)
    done = Shell(patient.url, KEY).json("sessions", "show", SESSION_ID)
    assert done["model"] == EVIL
    raw = subprocess.run(
        [POKEE, "sessions", "show", SESSION_ID, "--json"],
        capture_output=True,
        text=True,
        env=Shell(patient.url, KEY).env,
        check=True,
        timeout=30,
    ).stdout
    assert_inert(raw)
    assert json.loads(raw)["metadata"]["task_status"] == EVIL


def test_the_live_display_shows_the_servers_text_inert(patient: Hostile, tmp_path: Path) -> None:
    """On a terminal (rich): the tool's name is drawn escaped, and rich markup in the
    server's text is shown, not applied."""
    evil_server(patient, created=record(metadata={"task_status": "[reverse]marked"}))
    env = {**Shell(patient.url, KEY).env, "COLUMNS": "160"}  # room for the whole line
    status, screen, _ = on_terminal([POKEE, "run", "hello", "--out", str(tmp_path)], env)
    assert status == 0
    text = screen.decode(errors="replace")
    assert "\x1b]0;PWNED" not in text
    assert "\\x1b]0;PWNED" in text
    assert "[reverse]marked" in text


# -- what else a server may send --------------------------------------------------------------


def test_a_retry_after_date_without_a_zone_is_ignored() -> None:
    """``-0000`` makes the date naive; measured against an aware one it cannot be."""
    headers = {"retry-after": "Mon, 01 Jan 2024 00:00:10 -0000", "date": "Mon, 01 Jan 2024 GMT"}
    assert retry_after(headers) is None
    aware = {
        "retry-after": "Mon, 01 Jan 2024 00:00:10 -0000",
        "date": "Mon, 01 Jan 2024 00:00:00 GMT",
    }
    assert retry_after(aware) is None


def test_the_limits_have_sensible_defaults() -> None:
    defaults = limits()
    assert defaults.max_event_size == 16 * MiB
    assert defaults.max_answer_size == 10 * MiB
    with pytest.raises(ValueError, match="max_event_size"):
        limits(max_event_size=0)
