"""Every method of both clients against the mock, with each of its arguments: what reaches
the server, and what comes back. The async client is driven from these plain tests through
`Blocking`, an event loop per test, so one test body checks both clients, argument for
argument (their flows are shared; what each client passes to them is not)."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mock_pokee.server import ThreadedServer
from pokee_client import (
    AsyncFiles,
    AsyncMessages,
    AsyncPokeeClient,
    AsyncSessions,
    AsyncTurnStream,
    ForbiddenPathError,
    InvalidRequestError,
    NotFoundError,
    PokeeClient,
    Progress,
    RetryPolicy,
)
from tests.client.helpers import Sleeper

MODEL = "pokee-isaac-high-reasoning"
TOOL = {
    "type": "function",
    "name": "lookup",
    "description": "Look a word up.",
    "parameters": {"type": "object", "properties": {"word": {"type": "string"}}},
}
DECK = "Build a deck on tides"


class Blocking:
    """An async client (or one of its parts, or a turn stream) called from plain code: each
    coroutine runs to its end on the test's event loop."""

    def __init__(self, target: Any, loop: asyncio.AbstractEventLoop):
        self._target = target
        self._loop = loop

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        if isinstance(value, AsyncSessions | AsyncMessages | AsyncFiles):
            return Blocking(value, self._loop)
        if not callable(value):
            return value

        def call(*args: Any, **kwargs: Any) -> Any:
            result = value(*args, **kwargs)
            if inspect.isawaitable(result):
                return self._loop.run_until_complete(result)
            if isinstance(result, AsyncTurnStream):
                return Blocking(result, self._loop)
            return result

        return call

    def __iter__(self) -> Blocking:
        return self

    def __next__(self) -> Any:
        try:
            return self._loop.run_until_complete(anext(self._target))
        except StopAsyncIteration:
            raise StopIteration from None

    def __enter__(self) -> Blocking:
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.run_until_complete(self._target.aclose())


@pytest.fixture(params=["sync", "async"])
def pokee_client(
    request: pytest.FixtureRequest, mock: ThreadedServer, key: str, sleeper: Sleeper
) -> Iterator[Any]:
    """A `PokeeClient`, or an `AsyncPokeeClient` behind `Blocking`; every wait either
    decides on moves the tenant's clock."""
    options: dict[str, Any] = {
        "retry": RetryPolicy(jitter=lambda: 0.5),
        "watch_interval": 0.02,
        "timeout": 10,
    }
    if request.param == "sync":
        with PokeeClient(mock.url, key, sleep=sleeper, **options) as client:
            yield client
        return

    async def nap(seconds: float) -> None:
        sleeper(seconds)

    loop = asyncio.new_event_loop()
    async_client = AsyncPokeeClient(mock.url, key, sleep=nap, **options)
    try:
        yield Blocking(async_client, loop)
    finally:
        loop.run_until_complete(async_client.aclose())
        loop.close()


def requests_to(control: httpx.Client, path: str, method: str | None = None) -> list[Any]:
    params = {"kind": "request", "path": path, **({"method": method} if method else {})}
    entries: list[Any] = control.get("/_mock/journal", params=params).json()["entries"]
    return entries


# -- sessions --------------------------------------------------------------------------------


def test_create_sends_every_field(pokee_client: Any, control: httpx.Client) -> None:
    session = pokee_client.sessions.create(
        persistent=True,
        ttl="2h",
        metadata={"owner": "ci"},
        file_access={"read": ("docs", "output"), "write": ["output"]},
        model=MODEL,
        tools=[TOOL],
    )
    assert session.id.startswith("sess_")
    assert (session.persistent, session.ttl, session.model) == (True, 7200, MODEL)
    assert session.metadata == {"owner": "ci"}
    assert (session.file_access.read, session.file_access.write) == (
        ("docs", "output"),
        ("output",),
    )
    assert (session.busy, session.status) == (False, "ready")
    assert isinstance(session.created_at, float)
    assert session.last_activity >= session.created_at
    (tenant_session,) = control.get("/_mock/state").json()["sessions"]
    assert tenant_session["id"] == session.id
    assert pokee_client.sessions.get(session.id) == session


def test_create_leaves_out_what_is_not_given(pokee_client: Any, control: httpx.Client) -> None:
    session = pokee_client.sessions.create(ttl=600)
    assert (session.persistent, session.ttl, session.model, session.metadata) == (
        False,
        600,
        None,
        {},
    )
    assert (session.file_access.read, session.file_access.write) == (("",), ("",))
    with pytest.raises(InvalidRequestError, match="tools"):
        pokee_client.sessions.create(tools=[{"type": "function", "name": "no parameters"}])
    assert [s.id for s in pokee_client.sessions.list()] == [session.id]


def test_list_delete_and_delete_many(pokee_client: Any) -> None:
    made = [pokee_client.sessions.create().id for _ in range(4)]
    assert [s.id for s in pokee_client.sessions.list()] == made
    pokee_client.sessions.delete(made[0])
    with pytest.raises(NotFoundError):
        pokee_client.sessions.get(made[0])
    assert pokee_client.sessions.delete_many(status="busy") == 0
    assert pokee_client.sessions.delete_many(older_than="1h") == 0
    assert pokee_client.sessions.delete_many(status="idle", older_than=0) == 3
    assert pokee_client.sessions.list() == []
    with pytest.raises(InvalidRequestError):  # S6: a filter is required
        pokee_client.sessions.delete_many()


# -- files -----------------------------------------------------------------------------------


def test_files_up_list_down_and_delete(
    pokee_client: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = pokee_client.sessions.create().id
    local = tmp_path / "local.txt"
    local.write_bytes(b"from a file")
    first = pokee_client.files.upload(session, "docs/a.txt", b"some bytes")
    second = pokee_client.files.upload(session, "docs/deep/b.txt", local)
    third = pokee_client.files.upload(session, "docs/c.txt", str(local))
    assert (first.path, first.size, second.path, second.size) == (
        "docs/a.txt",
        10,
        "docs/deep/b.txt",
        11,
    )
    assert third.path == "docs/c.txt"
    assert isinstance(first.modified, float)

    listed = pokee_client.files.list(session, "docs")
    shown = {e.name: (e.type, e.is_dir, e.size) for e in listed}
    assert shown["a.txt"] == ("file", False, 10)
    assert shown["c.txt"] == ("file", False, 11)
    assert shown["deep"][:2] == ("directory", True)
    assert set(shown) == {"a.txt", "c.txt", "deep"}
    assert [e.name for e in pokee_client.files.list(session)] == ["docs"]

    target = tmp_path / "saved" / "copy.txt"
    assert pokee_client.files.download(session, "docs/a.txt", target) == target
    assert target.read_bytes() == b"some bytes"
    assert pokee_client.files.download(session, "docs/c.txt", str(target)) == target
    monkeypatch.chdir(tmp_path)
    assert pokee_client.files.download(session, "docs/deep/b.txt") == Path("b.txt")
    assert (tmp_path / "b.txt").read_bytes() == b"from a file"

    pokee_client.files.delete(session, "docs/a.txt")
    assert {e.name for e in pokee_client.files.list(session, "docs")} == {"c.txt", "deep"}


def test_a_path_is_sent_segment_by_segment_as_named(
    pokee_client: Any, control: httpx.Client
) -> None:
    """A name with a space or a ``%`` is one segment; ``..`` and ``.`` are sent as such
    (percent-encoded), for the server to refuse, not resolved on the way."""
    session = pokee_client.sessions.create().id
    stored = pokee_client.files.upload(session, "my docs/50%.txt", b"half")
    assert stored.path == "my docs/50%.txt"
    assert [e.name for e in pokee_client.files.list(session, "my docs")] == ["50%.txt"]
    for path in ("docs/../secret.txt", "docs/./a.txt"):
        with pytest.raises(ForbiddenPathError, match="encoded dots"):
            pokee_client.files.delete(session, path)
    sent = [entry["path"] for entry in requests_to(control, "/v1/sessions/**", "DELETE")]
    assert sent == [  # as the journal shows them, decoded: not resolved on the way
        f"/v1/sessions/{session}/files/docs/../secret.txt",
        f"/v1/sessions/{session}/files/docs/./a.txt",
    ]


# -- turns -----------------------------------------------------------------------------------


def test_stream_send_and_resume(pokee_client: Any, control: httpx.Client) -> None:
    session = pokee_client.sessions.create(persistent=True).id
    with pokee_client.messages.stream(session, "hi", scenario="quick-answer") as stream:
        events = list(stream)
    outcome = stream.outcome
    assert [e.seq for e in events] == list(range(10))
    assert stream.response_id == outcome.response_id == events[0].response_id
    assert (outcome.status, outcome.text) == (
        "completed",
        "Here is a quick answer from mock-pokee to: hi",
    )
    sent = requests_to(control, f"/v1/sessions/{session}/messages")
    assert sent[0]["headers"]["x-mock-scenario"] == "quick-answer"

    resumed = list(pokee_client.messages.resume(session, outcome.response_id, after=6))
    assert [e.seq for e in resumed] == [7, 8, 9]
    whole = pokee_client.messages.resume(session, outcome.response_id)
    assert [e.seq for e in whole] == list(range(10))
    assert whole.outcome.status == "completed"
    events_sent = requests_to(control, f"/v1/sessions/{session}/responses/*/events")
    assert [e["headers"].get("last-event-id") for e in events_sent] == ["6", None]
    assert all(e["headers"]["accept"] == "text/event-stream" for e in events_sent)

    again = pokee_client.messages.send(session, "hello", idempotency_key="pokee-mine")
    assert (again.status, again.events) == ("completed", 10)
    last = requests_to(control, f"/v1/sessions/{session}/messages")[-1]
    assert last["headers"]["idempotency-key"] == "pokee-mine"


def test_cancel_a_turn_from_its_stream_then_again(pokee_client: Any, control: httpx.Client) -> None:
    session = pokee_client.sessions.create(persistent=True).id
    stream = pokee_client.messages.stream(session, DECK, scenario="presentation")
    with pytest.raises(RuntimeError, match="no response id yet"):
        stream.cancel()
    first = next(stream)
    assert first.type == "message.created"
    assert stream.cancel() == "cancelling"
    rest = list(stream)
    assert rest[-1].type == "message.cancelled"
    assert stream.outcome.status == "cancelled"
    assert pokee_client.messages.cancel(session, first.response_id) == "already_complete"


# -- run and usage ---------------------------------------------------------------------------


def test_run_with_every_option(pokee_client: Any, control: httpx.Client, tmp_path: Path) -> None:
    reports: list[Progress] = []
    result = pokee_client.run(
        "hello",
        ttl="1h",
        metadata={"job": "nightly"},
        out=tmp_path,
        keep=True,
        scenario="quick-answer",
        on_progress=reports.append,
    )
    assert (result.status, result.kept, result.files, result.unattributed) == (
        "completed",
        True,
        (),
        (),
    )
    (kept,) = control.get("/v1/sessions").json()
    assert (kept["id"], kept["persistent"], kept["ttl"]) == (result.session.id, True, 3600)
    assert kept["metadata"] == {"job": "nightly"} == result.session.metadata
    assert reports[0].phase == "starting"
    assert reports[-1].phase == "done"
    assert {r.session_id for r in reports} == {result.session.id}
    assert [r.events for r in reports if r.event is not None] == list(range(1, 11))


def test_run_deletes_its_session_unless_kept(
    pokee_client: Any, control: httpx.Client, tmp_path: Path
) -> None:
    control.put("/_mock/clock", json={"mode": "autojump"})  # the deck's pauses pass
    reports: list[Progress] = []
    result = pokee_client.run(DECK, out=tmp_path, on_progress=reports.append)
    assert (result.status, result.kept, result.session.persistent) == ("completed", False, True)
    assert result.files == (tmp_path / "output" / "tides.pptx",)
    assert control.get("/v1/sessions").json() == []
    downloading = [r for r in reports if r.phase == "downloading"]
    assert downloading
    assert {r.file for r in downloading} == {"output/tides.pptx"}
    assert [r.phase for r in reports[-2:]] == ["cleaning up", "done"]
    assert all(r.file is None for r in reports[-2:])
    temporary = pokee_client.run("hi", persistent=False, keep=True, out=tmp_path)
    assert temporary.session.persistent is False


def test_usage(pokee_client: Any) -> None:
    usage = pokee_client.usage()
    assert [w.name for w in usage.session_turn] == ["hour", "day"]
    assert usage.window("day").max_turns == 5000
    assert usage.window("hour").turns == 0
    with pytest.raises(KeyError):
        usage.window("week")
    assert usage.credits.enabled is True
