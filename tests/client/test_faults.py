"""The client against the mock's own fault rules (C5), over real sockets: every event once
and in order whatever the stream suffers, retries that honour ``Retry-After`` on the mock's
clock, a lost answer that starts one turn only, downloads resumed byte-exact.

They use only the C5 HTTP API: ``POST /_mock/faults`` with this test's key (its tenant
alone), ``DELETE /_mock/faults``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mock_pokee.server import ThreadedServer
from pokee_client import PokeeClient, RetryPolicy, TransportError
from tests.client.helpers import Sleeper

MESSAGES = {"method": "POST", "path": "/v1/sessions/*/messages"}
EVENTS = {"method": "GET", "path": "/v1/sessions/*/responses/*/events"}
FILES = {"method": "GET", "path": "/v1/sessions/*/files/**"}


def add_fault(
    control: httpx.Client,
    match: dict[str, Any],
    fault: dict[str, Any],
    schedule: dict[str, Any] | None = None,
) -> None:
    rule: dict[str, Any] = {"match": match, "fault": fault}
    if schedule is not None:
        rule["schedule"] = schedule
    response = control.post("/_mock/faults", json=rule)
    assert response.status_code == 201, response.text
    assert response.json()["hits"] == 0


def hits(control: httpx.Client) -> list[int]:
    """How often each rule has fired (``GET /_mock/faults``): a fault test whose fault
    never fired would pass without testing anything."""
    return [rule["hits"] for rule in control.get("/_mock/faults").json()]


@pytest.fixture
def chaos_client(mock: ThreadedServer, key: str, sleeper: Sleeper) -> Iterator[PokeeClient]:
    """Waits move the tenant's clock; a stall counts after half a second of silence; the
    retry budget is generous, so that only a bug, not bad luck, ends in polling."""
    retry = RetryPolicy(jitter=lambda: 0.5, attempts=20, resumes=50)
    with PokeeClient(
        mock.url, key, sleep=sleeper, retry=retry, stream_read_timeout=0.5, timeout=10
    ) as pokee:
        yield pokee


def full_log(control: httpx.Client, session_id: str, response_id: str) -> list[tuple[int, str]]:
    """The turn's whole log, read with the faults gone: M7 without Last-Event-ID."""
    assert control.delete("/_mock/faults").status_code in (200, 204)
    path = f"/v1/sessions/{session_id}/responses/{response_id}/events"
    log: list[tuple[int, str]] = []
    with control.stream("GET", path) as response:
        assert response.status_code == 200
        seq = -1
        for line in response.iter_lines():
            if line.startswith("id: "):
                seq = int(line[4:])
            elif line.startswith("event: "):
                log.append((seq, line[7:]))
    return log


def turn_through(
    pokee: PokeeClient, control: httpx.Client, session_id: str, *, fired: bool = True
) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """(what the caller received, the turn's log) for one quick-answer turn; it needs no
    clock time, so one session can take many in a row."""
    stream = pokee.messages.stream(session_id, "hello", scenario="quick-answer")
    received = [(event.seq, event.type) for event in stream]
    assert stream.outcome is not None
    assert not stream.outcome.polled
    assert stream.response_id is not None
    if fired:
        assert all(count >= 1 for count in hits(control))
    return received, full_log(control, session_id, stream.response_id)


@pytest.mark.parametrize("kind", ["drop", "cut_frame", "malformed"])
def test_a_broken_stream_delivers_each_event_once_for_every_event_count(
    chaos_client: PokeeClient, control: httpx.Client, kind: str
) -> None:
    """C5 drop / cut_frame / malformed on the message's stream after k events, for every
    k: the caller still receives the turn's log exactly, once, in order."""
    session = chaos_client.sessions.create().id
    for after in range(chaos_client.messages.send(session, "hello").events):
        add_fault(control, MESSAGES, {"type": kind, "after_events": after}, {"times": 1})
        received, log = turn_through(chaos_client, control, session)
        assert received == log, f"{kind} after {after}"


def test_a_stalled_stream_is_resumed(chaos_client: PokeeClient, control: httpx.Client) -> None:
    add_fault(control, MESSAGES, {"type": "stall", "after_events": 3}, {"times": 1})
    received, log = turn_through(chaos_client, control, chaos_client.sessions.create().id)
    assert received == log


def test_503_then_success(
    chaos_client: PokeeClient, control: httpx.Client, sleeper: Sleeper
) -> None:
    session = chaos_client.sessions.create()
    fault = {"type": "status", "status": 503, "retry_after": 2}
    add_fault(control, {"method": "GET", "path": "/v1/sessions/*"}, fault, {"times": 1})
    assert chaos_client.sessions.get(session.id).id == session.id
    assert sleeper.calls == [2.0]
    add_fault(control, MESSAGES, fault, {"times": 1})
    assert chaos_client.messages.send(session.id, "hello").status == "completed"
    assert sleeper.calls == [2.0, 2.0]
    assert hits(control) == [1, 1]


def test_429_retry_after_is_honoured_on_the_mock_clock(
    chaos_client: PokeeClient, control: httpx.Client, sleeper: Sleeper
) -> None:
    before = control.get("/_mock/clock").json()["now"]
    fault = {"type": "status", "status": 429, "retry_after": 5}
    add_fault(control, {"method": "POST", "path": "/v1/sessions"}, fault, {"times": 1})
    chaos_client.sessions.create()
    assert hits(control) == [1]
    assert sleeper.calls == [5.0]
    assert control.get("/_mock/clock").json()["now"] - before == pytest.approx(5.0)


def test_a_message_whose_answer_was_lost_starts_one_turn(
    chaos_client: PokeeClient, control: httpx.Client
) -> None:
    """drop without after_events: the server takes the message and answers nothing; the
    client sends it again with the same Idempotency-Key (M9)."""
    add_fault(control, MESSAGES, {"type": "drop"}, {"times": 1})
    received, log = turn_through(chaos_client, control, chaos_client.sessions.create().id)
    assert received == log
    usage = control.get("/v1/usage").json()
    assert usage["rate_limit"]["buckets"]["session_turn"]["windows"][0]["turns"] == 1


def test_an_aborted_download_is_resumed_byte_exact(
    chaos_client: PokeeClient, control: httpx.Client, tmp_path: Path
) -> None:
    content = os.urandom(300_000)
    session = chaos_client.sessions.create()
    chaos_client.files.upload(session.id, "deck.pptx", content)
    add_fault(control, FILES, {"type": "abort_download", "after_bytes": 65536}, {"times": 1})
    saved = chaos_client.files.download(session.id, "deck.pptx", tmp_path / "deck.pptx")
    assert hits(control) == [1]
    assert saved.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deck.pptx"]


def test_a_download_that_cannot_finish_leaves_no_partial_file(
    chaos_client: PokeeClient, control: httpx.Client, tmp_path: Path
) -> None:
    session = chaos_client.sessions.create()
    chaos_client.files.upload(session.id, "deck.pptx", os.urandom(100_000))
    add_fault(control, FILES, {"type": "abort_download", "after_bytes": 0})  # every time
    with pytest.raises(TransportError, match="cut"):
        chaos_client.files.download(session.id, "deck.pptx", tmp_path / "deck.pptx")
    assert hits(control) == [20]  # the retry budget of chaos_client
    assert list(tmp_path.iterdir()) == []


chaos = st.fixed_dictionaries(
    {
        "seed": st.integers(0, 2**31),
        "probability": st.floats(0.1, 0.6),
        "drop_after": st.integers(0, 8),
        "cut_after": st.integers(0, 8),
    }
)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(plan=chaos)
def test_seeded_chaos_never_changes_what_the_caller_receives(
    chaos_client: PokeeClient, control: httpx.Client, plan: dict[str, Any]
) -> None:
    """Drops, cut frames and 503s on a seeded probability schedule (C5): the caller's
    events equal the turn's log."""
    seed, probability = plan["seed"], plan["probability"]
    rules = [
        (MESSAGES, {"type": "drop", "after_events": plan["drop_after"]}),
        (EVENTS, {"type": "cut_frame", "after_events": plan["cut_after"]}),
        (EVENTS, {"type": "status", "status": 503, "retry_after": 1}),
        (MESSAGES, {"type": "status", "status": 503, "retry_after": 1}),
    ]
    session = chaos_client.sessions.create().id
    for offset, (match, fault) in enumerate(rules):
        add_fault(control, match, fault, {"probability": probability, "seed": seed + offset})
    received, log = turn_through(chaos_client, control, session, fired=False)
    assert received == log
    chaos_client.sessions.delete(session)  # S9: examples share the tenant
