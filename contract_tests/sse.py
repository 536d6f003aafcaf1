"""Reading event streams over a real socket — whole, cut after k events, or resumed (M3,
M7; R5, R6 for the stateless responses) — and holding every byte of them to the
event-stream rules.

Every stream the contract tests read goes through `EventStreamChecker`, which parses the
raw bytes the way the WHATWG HTML standard tells a browser's EventSource to (lines end in
CRLF, LF or CR; a blank line ends an event; a line starting with ``:`` is a comment; an
unfinished last event is dropped) and then holds them to M3's stricter framing: each event
is exactly ``id: <seq>``, ``event: <type>``, ``data: <one line of JSON>`` in that order,
seq starts at 0 and grows and equals ``data.sequence_number``, comments (pings) only
between events, nothing after the terminal event (M4). On the mock, where the contract
names the choices (M3 [C]), seq grows by exactly one, there is no ``retry:`` field, line
ends must be ``\\n`` and every event type one M4 (or M12) lists. A stream of
``/v1/responses`` is held to the same framing (R5) with its own `Vocabulary`: it starts with
``response.created``, ends with one of its three terminal events, and on the mock uses
only the event types of OpenAI's Responses stream that R5 names. A stream that breaks a
rule fails the test that read it, naming the rule.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from mock_pokee import vocabulary

from .checks import skip_if_usage_explains

# The types are kept with the data fields of each in `mock_pokee.vocabulary`.
TERMINAL = set(vocabulary.TURN_TERMINAL)
EVENT_TYPES = set(vocabulary.TURN_EVENTS)
RESPONSE_TERMINAL = set(vocabulary.RESPONSE_TERMINAL)
RESPONSE_EVENT_TYPES = set(vocabulary.RESPONSE_EVENTS)


@dataclass(frozen=True)
class Vocabulary:
    """The events of one kind of stream: the first, the terminal ones, all known ones, and
    the clause the checker names when a stream breaks them."""

    clause: str
    first: str
    terminal: frozenset[str]
    types: frozenset[str]


TURNS = Vocabulary("M4", "message.created", frozenset(TERMINAL), frozenset(EVENT_TYPES))
RESPONSES = Vocabulary(
    "R5", "response.created", frozenset(RESPONSE_TERMINAL), frozenset(RESPONSE_EVENT_TYPES)
)


def vocabulary_of(path: str) -> Vocabulary:
    """A stateless response's stream (``/v1/responses…``, R5, R6) or a turn's."""
    return RESPONSES if path.startswith("/v1/responses") else TURNS


FIELDS = ("id", "event", "data")
READ_TIMEOUT = httpx.Timeout(10.0)  # every read is bounded (a stalled stream fails, not hangs)
# Hold streams to the mock's own choices too (\n line ends, only known event types); the
# contract tests' conftest turns this off for a deployment.
MOCK_CHOICES = True


@dataclass
class Frame:
    seq: int
    type: str
    data: dict[str, Any]
    lines: list[str]


@dataclass
class Stream:
    status: int
    headers: httpx.Headers
    frames: list[Frame] = field(default_factory=list)
    pings: int = 0
    cut: bool = False  # the server cut the connection instead of ending the body
    body: bytes = b""  # a non-stream answer (errors, M9 replay note)
    problems: list[str] = field(default_factory=list)  # rules the bytes broke
    vocabulary: Vocabulary = TURNS

    @property
    def types(self) -> list[str]:
        return [f.type for f in self.frames]

    @property
    def seqs(self) -> list[int]:
        return [f.seq for f in self.frames]

    @property
    def terminal(self) -> Frame:
        assert self.frames, "no events"
        assert self.frames[-1].type in self.vocabulary.terminal, self.types
        return self.frames[-1]

    @property
    def ended(self) -> bool:
        """The terminal event arrived (and so the turn's stream is whole)."""
        return bool(self.frames) and self.frames[-1].type in self.vocabulary.terminal

    def json(self) -> Any:
        return json.loads(self.body)


class EventStreamChecker:
    """Fed the body's bytes as they arrive; yields complete frames and collects problems.

    ``first_seq`` is the seq the first event must carry (0 for a new turn, n + 1 for a
    resume after n, None when unknown); ``strict`` adds the mock's own choices;
    ``vocabulary`` is the stream's kind (a turn's by default, `RESPONSES` for R5).
    """

    def __init__(
        self, *, first_seq: int | None = 0, strict: bool = True, vocabulary: Vocabulary = TURNS
    ):
        self.expected_seq = self._first_seq = first_seq
        self.strict = strict
        self.vocabulary = vocabulary
        self.problems: list[str] = []
        self.pings = 0
        self.terminal_seen = False
        self._pending = b""  # bytes not yet ending in a line break
        self._block: list[str] = []
        self._line_no = 0
        self._at_start = True

    def feed(self, chunk: bytes) -> list[Frame]:
        self._pending += chunk
        frames: list[Frame] = []
        start = 0
        data = self._pending
        while True:
            cr, lf = data.find(b"\r", start), data.find(b"\n", start)
            if cr == -1 and lf == -1:
                break
            if cr != -1 and (lf == -1 or cr < lf):
                if cr + 1 == len(data):
                    break  # a CR at the end: the LF of a CRLF may come with the next chunk
                end, after = cr, cr + (2 if data[cr + 1 : cr + 2] == b"\n" else 1)
            else:
                end, after = lf, lf + 1
            frame = self._line(data[start:end], data[end:after])
            if frame is not None:
                frames.append(frame)
            start = after
        self._pending = data[start:]
        return frames

    def flush(self) -> list[Frame]:
        """The body ended: a CR held back (in case an LF followed) ends its line."""
        if not self._pending.endswith(b"\r"):
            return []
        frame = self._line(self._pending[:-1], b"\r")
        self._pending = b""
        return [] if frame is None else [frame]

    def finish(self, *, cut: bool, stopped: bool) -> None:
        """The body ended (or was cut, or the reader stopped early on purpose)."""
        if stopped:
            return
        if self._pending.rstrip(b"\r") or self._block:
            if not cut:  # a cut stream's unfinished event is dropped, as a browser would
                self.problems.append("WHATWG: the body ends inside an event (no blank line)")
        elif not cut and not self.terminal_seen and self.expected_seq != self._first_seq:
            self.problems.append(
                f"{self.vocabulary.clause}: the stream ended without a terminal event"
            )
        elif not cut and not self.terminal_seen and self._first_seq == 0:
            self.problems.append(f"{self.vocabulary.clause}: the stream ended without any event")

    def _line(self, raw: bytes, ending: bytes) -> Frame | None:
        self._line_no += 1
        if self.strict and ending != b"\n":
            self.problems.append(f"M3: line {self._line_no} ends with {ending!r}, not \\n")
        if self._at_start:
            self._at_start = False
            if raw.startswith(b"\xef\xbb\xbf"):
                self.problems.append("M3: the stream starts with a byte order mark")
                raw = raw[3:]
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            self.problems.append(f"WHATWG: line {self._line_no} is not UTF-8")
            line = raw.decode("utf-8", "replace")
        if line:
            self._block.append(line)
            return None
        block, self._block = self._block, []
        return self._end_block(block) if block else None

    def _end_block(self, block: list[str]) -> Frame | None:
        comments = [line for line in block if line.startswith(":")]
        if len(comments) == len(block):
            if self.terminal_seen:
                self.problems.append(
                    f"{self.vocabulary.clause}: a comment after the terminal event"
                )
            self.pings += len(comments)
            return None
        where = f"event after seq {self.expected_seq - 1}" if self.expected_seq else "event"
        if comments:
            self.problems.append(f"M3: comment lines inside an {where}: {comments}")
        fields = [line.partition(":") for line in block if not line.startswith(":")]
        names = [name for name, _, _ in fields]
        if "retry" in names and self.strict:  # M3 [C]: the docs do not forbid it
            self.problems.append(f"M3: a retry field in an {where}")
        if tuple(names) != FIELDS:
            self.problems.append(f"M3: fields {names} in an {where}, not id, event, data")
        values: dict[str, str] = {}
        for name, colon, value in fields:
            if colon and not value.startswith(" "):
                self.problems.append(f"M3: no space after '{name}:' in an {where}")
            values.setdefault(name, value[1:] if value.startswith(" ") else value)
        return self._frame(values, block)

    def _in_order(self, seq: int) -> bool:
        """M3: a new turn starts at 0 and seq grows; on the mock (M3 [C], M7 [C]) by
        exactly one, and a resume after n starts at n + 1."""
        assert self.expected_seq is not None
        if self.strict or (self.expected_seq == 0 and self._first_seq == 0):
            return seq == self.expected_seq
        return seq >= self.expected_seq

    def _frame(self, values: dict[str, str], block: list[str]) -> Frame:
        text_id, kind = values.get("id", ""), values.get("event", "")
        words = self.vocabulary
        if self.terminal_seen:
            self.problems.append(f"{words.clause}: event {kind!r} after the terminal event")
        seq = int(text_id) if text_id.isascii() and text_id.isdigit() else -1
        if seq < 0 or text_id != str(seq):
            self.problems.append(f"M3: id {text_id!r} is not a plain decimal seq")
        elif self.expected_seq is not None and not self._in_order(seq):
            self.problems.append(f"M3: seq {seq} where {self.expected_seq} was due")
        self.expected_seq = seq + 1 if seq >= 0 else None
        try:
            data = json.loads(values.get("data", ""))
            parsed = True
        except ValueError:
            self.problems.append(f"M3: the data of seq {text_id} is not JSON")
            data, parsed = {}, False
        if parsed and not isinstance(data, dict):
            self.problems.append(f"{words.clause}: the data of seq {text_id} is not a JSON object")
            data = {}
        elif parsed and data.get("sequence_number") != seq:
            self.problems.append(
                f"M3: seq {text_id} has sequence_number {data.get('sequence_number')!r}"
            )
        if seq == 0 and kind != words.first:
            self.problems.append(f"{words.clause}: the first event is {kind!r}, not {words.first}")
        if self.strict and kind not in words.types:
            self.problems.append(f"{words.clause}: unknown event type {kind!r}")
        self.terminal_seen = self.terminal_seen or kind in words.terminal
        return Frame(seq, kind, data, block)


class LiveStream:
    """An open turn stream, read event by event through the checker (`open_stream`)."""

    def __init__(
        self, response: httpx.Response, first_seq: int | None, vocabulary: Vocabulary = TURNS
    ):
        self.stream = Stream(response.status_code, response.headers, vocabulary=vocabulary)
        self._response = response
        self._checker = EventStreamChecker(
            first_seq=first_seq, strict=MOCK_CHOICES, vocabulary=vocabulary
        )
        self._chunks = response.iter_bytes()
        self._queue: list[Frame] = []
        self.done = False  # the body ended or was cut

    def events(self) -> Iterator[Frame]:
        """The next events as they arrive, until the body ends (or the caller stops)."""
        while True:
            while self._queue:
                frame = self._queue.pop(0)
                self.stream.frames.append(frame)
                yield frame
            if self.done:
                return
            try:
                self._queue += self._checker.feed(next(self._chunks))
            except StopIteration:
                self._queue += self._checker.flush()
                self.done = True
            except httpx.RemoteProtocolError:  # the server cut the connection mid-body
                self.stream.cut = self.done = True

    def finish(self) -> Stream:
        """Stop reading; record what the checker found (an early stop checks no ending)."""
        self._checker.finish(cut=self.stream.cut, stopped=not self.done)
        self.stream.pings, self.stream.problems = self._checker.pings, self._checker.problems
        return self.stream


AFTER_LAST_EVENT_ID = -1  # first_seq's default: 0, or n + 1 for a resume after n (M7)


def _first_seq(headers: Any, params: Any) -> int | None:
    """The seq a stream must start at, from the request's Last-Event-ID (M7)."""
    given = None
    for name, value in dict(headers or {}).items():
        if name.lower() == "last-event-id":
            given = str(value)
    if isinstance(params, dict) and "last_event_id" in params:
        given = str(params["last_event_id"])
    if given is None:
        return 0
    return int(given) + 1 if given.isascii() and given.isdigit() else None


@contextmanager
def open_stream(
    client: httpx.Client,
    method: str,
    path: str,
    *,
    first_seq: int | None = AFTER_LAST_EVENT_ID,
    check: bool = True,
    **kwargs: Any,
) -> Iterator[LiveStream]:
    """Send the request and hand over the open stream; on leaving, disconnect and (with
    ``check``) fail on any rule the bytes broke. A non-stream answer (an error, M9's
    replay note) is read whole into ``stream.body``, and ``events()`` yields nothing."""
    kwargs.setdefault("timeout", READ_TIMEOUT)
    if first_seq == AFTER_LAST_EVENT_ID:
        first_seq = _first_seq(kwargs.get("headers"), kwargs.get("params"))
    with client.stream(method, path, **kwargs) as response:
        live = LiveStream(response, first_seq, vocabulary_of(path))
        if not response.headers.get("content-type", "").startswith("text/event-stream"):
            live.stream.body = response.read()
            live.done = True
            yield live
            return
        yield live
        stream = live.finish()
    if check:
        assert not stream.problems, f"{method} {path}: the event stream breaks " + "; ".join(
            stream.problems
        )


def read(
    client: httpx.Client,
    method: str,
    path: str,
    *,
    stop_after: int | None = None,
    first_seq: int | None = AFTER_LAST_EVENT_ID,
    check: bool = True,
    **kwargs: Any,
) -> Stream:
    """Send the request and read its SSE frames; with ``stop_after``, disconnect after
    that many events (pings do not count). With ``check`` (the default) a stream that
    breaks a framing rule fails here; ``check=False`` leaves ``stream.problems`` to the
    caller (for streams broken on purpose)."""
    with open_stream(client, method, path, first_seq=first_seq, check=check, **kwargs) as live:
        if stop_after != 0:
            for count, _ in enumerate(live.events(), start=1):
                if count == stop_after:
                    break
    return live.stream


def send(
    api: httpx.Client,
    session_id: object,
    message: str = "hello",
    *,
    scenario: str | None = None,
    key: str | None = None,
    stop_after: int | None = None,
    check: bool = True,
) -> Stream:
    """M1: post a message (C6: forcing a scenario) and read its stream. A refusal the
    tenant's own usage explains (its turn window full, its credits spent) skips the test
    (`checks.skip_if_usage_explains`)."""
    headers = {}
    if scenario is not None:
        headers["X-Mock-Scenario"] = scenario
    if key is not None:
        headers["Idempotency-Key"] = key
    stream = read(
        api,
        "POST",
        f"/v1/sessions/{session_id}/messages",
        json={"message": message},
        headers=headers,
        stop_after=stop_after,
        check=check,
    )
    if stream.status in (402, 429):
        skip_if_usage_explains(api, stream.status)
    return stream


def resume(
    api: httpx.Client,
    session_id: object,
    response_id: str,
    after: int | None,
    *,
    stop_after: int | None = None,
) -> Stream:
    """M7: replay after ``after`` (None: from the start) and follow to the end (or for
    ``stop_after`` events)."""
    headers = {} if after is None else {"Last-Event-ID": str(after)}
    path = f"/v1/sessions/{session_id}/responses/{response_id}/events"
    stream = read(api, "GET", path, headers=headers, stop_after=stop_after)
    assert stream.status == 200, stream.body
    assert not stream.cut, stream.types
    return stream


class Follower:
    """A stream read frame by frame in a thread of its own, so that a test can act while
    the turn runs (answer a tool call, cancel) and wait for what the stream shows.

    Every wait is bounded; `close` disconnects the client (the turn goes on, M5). The
    follower owns ``client`` and closes it when the stream ends.
    """

    def __init__(self, client: httpx.Client, method: str, path: str, **kwargs: Any):
        self.frames: list[Frame] = []
        self.pings = 0
        self.status = 0
        self.headers = httpx.Headers()
        self.cut = False
        self.problems: list[str] = []  # rules the bytes broke (the stream checker's)
        self.done = threading.Event()
        self._changed = threading.Condition()
        self._closing = threading.Event()
        self._socket: socket.socket | None = None
        self._thread = threading.Thread(
            target=self._read, args=(client, method, path, kwargs), daemon=True
        )
        self._thread.start()

    def _read(self, client: httpx.Client, method: str, path: str, kwargs: dict[str, Any]) -> None:
        first = _first_seq(kwargs.get("headers"), kwargs.get("params"))
        checker = EventStreamChecker(
            first_seq=first, strict=MOCK_CHOICES, vocabulary=vocabulary_of(path)
        )
        stopped = False
        try:
            with client.stream(method, path, **kwargs) as response:
                self.status, self.headers = response.status_code, response.headers
                self._socket = response.extensions["network_stream"].get_extra_info("socket")
                for chunk in response.iter_bytes():
                    if self._closing.is_set():
                        stopped = True
                        return
                    self._arrived(checker.feed(chunk), checker.pings)
                self._arrived(checker.flush(), checker.pings)
        except (httpx.RemoteProtocolError, httpx.ReadError):
            self.cut = True
        finally:
            checker.finish(cut=self.cut, stopped=stopped or not self.frames)
            self.problems = checker.problems
            client.close()
            self.done.set()
            with self._changed:
                self._changed.notify_all()

    def _arrived(self, frames: list[Frame], pings: int) -> None:
        with self._changed:
            self.frames.extend(frames)
            self.pings = pings
            self._changed.notify_all()

    def wait_for(self, type_: str, count: int = 1, timeout: float = 10.0) -> list[Frame]:
        """The first ``count`` frames of ``type_``, once the stream has shown them."""
        with self._changed:
            self._changed.wait_for(
                lambda: len(self.of(type_)) >= count or self.done.is_set(), timeout
            )
        found = self.of(type_)
        assert len(found) >= count, (type_, [f.type for f in self.frames])
        return found[:count]

    def wait_for_pings(self, count: int, timeout: float = 10.0) -> None:
        with self._changed:
            self._changed.wait_for(lambda: self.pings >= count or self.done.is_set(), timeout)
        assert self.pings >= count, self.pings

    def of(self, type_: str) -> list[Frame]:
        return [f for f in list(self.frames) if f.type == type_]

    @property
    def types(self) -> list[str]:
        return [f.type for f in list(self.frames)]

    def finish(self, timeout: float = 10.0) -> Follower:
        """Wait for the stream to end (its terminal event, or a cut)."""
        assert self.done.wait(timeout), f"the stream did not end: {self.types}"
        return self

    def close(self) -> None:
        """Disconnect: the client goes away, the turn goes on (M5). The socket is shut
        down, which wakes the reading thread however long the stream has been silent."""
        self._closing.set()
        if self._socket is not None:
            with contextlib.suppress(OSError):
                self._socket.shutdown(socket.SHUT_RDWR)
        self._thread.join(timeout=10)
        assert not self._thread.is_alive(), "the reader did not stop"
