"""``GET /_mock/journal/stream`` (C4 live) over real sockets: what is kept, then what is
recorded as it is recorded, filtered like ``GET /_mock/journal``, narrowed by a key (C2),
resumable with ``since`` or ``Last-Event-ID``; and gone with ``--no-control`` (C7).

Every read is bounded: a stream that stays silent fails the test within seconds.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from mock_pokee.server import ThreadedServer
from mock_pokee.settings import Settings
from mock_pokee.testing import MockServer, TenantHandle

BOUND = 10.0  # seconds any one expectation may take


@dataclass
class Frame:
    event: str
    id: str | None
    data: Any


class Follow:
    """An open journal stream, read frame by frame, each read bounded."""

    def __init__(self, response: httpx.Response):
        self.response = response
        self._lines = response.iter_lines()

    def frames(self) -> Iterator[Frame]:
        event, ident, data = "message", None, ""
        for line in self._lines:
            if line == "":
                if data:
                    yield Frame(event, ident, json.loads(data))
                event, ident, data = "message", None, ""
            elif line.startswith(":"):
                continue
            else:
                name, _, value = line.partition(": ")
                if name == "event":
                    event = value
                elif name == "id":
                    ident = value
                elif name == "data":
                    data += value

    def until(self, done: Callable[[list[Frame]], bool]) -> list[Frame]:
        """Frames until ``done(frames so far)``; fails after `BOUND` seconds."""
        seen: list[Frame] = []
        deadline = time.monotonic() + BOUND
        for frame in self.frames():
            seen.append(frame)
            if done(seen):
                return seen
            assert time.monotonic() < deadline, f"still waiting after {BOUND}s: {seen[-3:]}"
        raise AssertionError(f"the stream ended early after {seen[-3:]}")

    def entries(self, count: int) -> list[dict[str, Any]]:
        frames = self.until(lambda seen: sum(f.event == "entry" for f in seen) >= count)
        return [f.data for f in frames if f.event == "entry"]


@contextmanager
def follow(
    url: str, key: str | None = None, headers: dict[str, str] | None = None, **params: str
) -> Iterator[Follow]:
    sent = dict(headers or {})
    if key is not None:
        sent["Authorization"] = f"Bearer {key}"
    timeout = httpx.Timeout(BOUND)  # a read that waits longer than that fails
    with (
        httpx.Client(base_url=url, timeout=timeout) as client,
        client.stream("GET", "/_mock/journal/stream", params=params, headers=sent) as response,
    ):
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        yield Follow(response)


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer() as running:
        yield running


@pytest.fixture
def tenant(server: MockServer) -> Iterator[TenantHandle]:
    with server.tenant() as handle:
        yield handle


def create(tenant: TenantHandle, persistent: bool = True) -> str:
    session: str = tenant.http.post("/v1/sessions", json={"persistent": persistent}).json()["id"]
    return session


def test_c4_the_stream_sends_what_is_kept_then_what_happens(
    server: MockServer, tenant: TenantHandle
) -> None:
    first = create(tenant)
    assert tenant.key is not None
    with follow(server.url, tenant.key) as stream:
        (kept,) = stream.entries(1)
        assert (kept["kind"], kept["session"], kept["status"]) == ("request", first, 201)
        assert "tenant" not in kept  # a key's view is that tenant's alone (C2)
        second = create(tenant)
        (live,) = stream.entries(1)
    assert (live["path"], live["session"]) == ("/v1/sessions", second)
    assert live["seq"] > kept["seq"]
    assert live["headers"]["authorization"] == f"Bearer pk_{tenant_id(tenant)}_…{tenant.key[-4:]}"


def test_c4_each_entry_is_an_sse_event_whose_id_is_its_seq(
    server: MockServer, tenant: TenantHandle
) -> None:
    for _ in range(3):  # kept before the stream opens: sent together, one event each
        create(tenant)
    with follow(server.url, tenant.key) as stream:
        frames = stream.until(lambda seen: len(seen) == 3)
    assert [frame.event for frame in frames] == ["entry"] * 3
    assert [frame.id for frame in frames] == [str(frame.data["seq"]) for frame in frames]


def test_c4_a_turn_streams_into_the_journal_as_it_happens(
    server: MockServer, tenant: TenantHandle
) -> None:
    """The report scenario pauses on the clock: its first events arrive while it runs, the
    rest when the clock moves, and the turn's end last."""
    session = create(tenant)
    with follow(server.url, tenant.key, kind="turn,event") as stream:
        with tenant.http.stream(
            "POST", f"/v1/sessions/{session}/messages", json={"message": "a report on tides"}
        ) as turn:
            assert turn.status_code == 200
        started = stream.until(lambda seen: any(f.data["kind"] == "event" for f in seen))
        assert started[0].data["kind"] == "turn.start"
        tenant.clock.advance(3600)
        rest = stream.until(lambda seen: seen[-1].data.get("type") == "message.completed")
    events = [f.data for f in started + rest if f.data["kind"] == "event"]
    assert [e["event_seq"] for e in events] == list(range(len(events)))
    (end,) = [f.data for f in rest if f.data["kind"] == "turn.end"]
    assert end["status"] == "completed"  # journaled as the session went idle (M5)


def test_c2_keyless_the_stream_follows_every_tenant_naming_each(
    server: MockServer, tenant: TenantHandle
) -> None:
    with server.tenant() as other, follow(server.url, since=str(last_seq(server))) as stream:
        create(tenant)
        create(other)
        entries = stream.until(
            lambda seen: (
                {f.data.get("tenant") for f in seen} >= {tenant_id(tenant), tenant_id(other)}
            )
        )
    assert all("tenant" in f.data for f in entries)


def test_c4_filters_and_since_work_as_in_get_journal(
    server: MockServer, tenant: TenantHandle
) -> None:
    session = create(tenant)
    tenant.http.get(f"/v1/sessions/{session}")
    tenant.http.get("/v1/usage")
    since = tenant.journal.entries()[0]["seq"]  # after the create
    with follow(server.url, tenant.key, since=str(since), path="/v1/sessions/*") as stream:
        (entry,) = stream.entries(1)
        tenant.http.get("/v1/usage")  # filtered out
        tenant.http.delete(f"/v1/sessions/{session}")
        (after,) = stream.entries(1)
    assert (entry["method"], entry["path"]) == ("GET", f"/v1/sessions/{session}")
    assert (after["method"], after["kind"]) == ("DELETE", "request")


def test_c4_last_event_id_resumes_where_a_dropped_stream_left(
    server: MockServer, tenant: TenantHandle
) -> None:
    for _ in range(3):
        create(tenant)
    seqs = [e["seq"] for e in tenant.journal.entries()]
    with follow(server.url, tenant.key, headers={"Last-Event-ID": str(seqs[0])}) as stream:
        entries = stream.entries(2)
    assert [e["seq"] for e in entries] == seqs[1:]


def test_c4_a_last_event_id_of_eighteen_digits_is_a_seq(server: MockServer) -> None:
    with follow(server.url, headers={"Last-Event-ID": "9" * 18}) as stream:
        assert stream.response.status_code == 200  # nothing is that new: it waits


def test_c4_since_wins_over_last_event_id(server: MockServer, tenant: TenantHandle) -> None:
    for _ in range(3):
        create(tenant)
    seqs = [e["seq"] for e in tenant.journal.entries()]
    headers = {"Last-Event-ID": str(seqs[1])}
    with follow(server.url, tenant.key, headers=headers, since=str(seqs[0])) as stream:
        entries = stream.entries(2)
    assert [e["seq"] for e in entries] == seqs[1:]


@pytest.mark.parametrize(
    ("params", "headers", "named"),
    [
        ({"since": "-1"}, {}, "since"),
        ({}, {"Last-Event-ID": "x1"}, "Last-Event-ID"),
        ({"kind": "nope"}, {}, "kind"),
        ({"tail": "1"}, {}, "tail"),
    ],
)
def test_a5_bad_stream_parameters_are_a_400_naming_them(
    server: MockServer, params: dict[str, str], headers: dict[str, str], named: str
) -> None:
    answer = httpx.get(
        f"{server.url}/_mock/journal/stream", params=params, headers=headers, timeout=BOUND
    )
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_request"
    assert answer.json()["message"].startswith(named)


def test_c4_a_closed_stream_leaves_no_follower(server: MockServer, tenant: TenantHandle) -> None:
    """While no stream is open, recording wakes nobody (the hot path pays nothing)."""
    registry = server.app.state.mock.tenants
    followers = registry.get(tenant_id(tenant)).journal.followers
    with follow(server.url, tenant.key) as stream:
        create(tenant)
        stream.entries(1)
        assert len(followers) >= 1
    deadline = time.monotonic() + BOUND
    while followers and time.monotonic() < deadline:
        tenant.http.get("/v1/usage")  # something to record while the server lets go
        time.sleep(0.01)
    assert not followers


def test_c2_a_keyless_stream_is_woken_by_every_tenant_and_leaves_the_feed_empty(
    server: MockServer, tenant: TenantHandle
) -> None:
    feed = server.app.state.mock.tenants.feed
    with follow(server.url, None, since=str(last_seq(server))) as stream:
        create(tenant)
        (entry,) = stream.entries(1)
        assert entry["tenant"] == tenant_id(tenant)
        assert feed.followers
    deadline = time.monotonic() + BOUND
    while feed.followers and time.monotonic() < deadline:
        tenant.http.get("/v1/usage")
        time.sleep(0.01)
    assert not feed.followers
    assert not feed.entries


def test_c4_a_stream_behind_the_journal_size_is_told_of_the_gap() -> None:
    with ThreadedServer(Settings(port=0, clock_mode="virtual", journal_size=3)) as small:
        key = {"Authorization": "Bearer pk_gap_key"}
        for _ in range(5):
            httpx.get(f"{small.url}/v1/sessions", headers=key)
        with follow(small.url, "pk_gap_key", since="1") as stream:
            frames = stream.until(lambda seen: sum(f.event == "entry" for f in seen) == 3)
    assert frames[0].event == "gap"
    assert frames[0].data == {"after": 1}
    assert [f.data["seq"] for f in frames[1:]] == [3, 4, 5]


def test_c7_no_control_no_stream_and_no_inspector() -> None:
    with ThreadedServer(Settings(port=0, control=False)) as closed:
        for path in ("/_mock/journal/stream", "/_mock/ui", "/_mock/ui/inspector.js"):
            answer = httpx.get(closed.url + path, timeout=BOUND)
            assert answer.status_code == 404, path
            assert answer.json()["error"] == "not_found"


def tenant_id(handle: TenantHandle) -> str:
    assert handle.key is not None
    return handle.key.split("_")[1]


def last_seq(server: MockServer) -> int:
    with server.whole() as whole:
        last = whole.journal.entries()
    return int(last[-1]["seq"]) if last else 0
