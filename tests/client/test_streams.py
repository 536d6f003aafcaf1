"""Resuming a turn's stream (M7) whatever breaks it, against a server that breaks it on
purpose over real sockets (see `tests.client.flaky`): the caller receives every event
exactly once, in order."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pokee_client import AsyncPokeeClient, Event, PokeeClient, RetryPolicy
from tests.client.flaky import SESSION_ID, Fault, Flaky, serving, turn_log
from tests.client.helpers import Sleeper

LOG = [(seq, type_) for seq, (type_, _) in enumerate(turn_log())]
BREAKS = ["drop", "cut_frame", "malformed", "gap"]


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[Flaky, str]]:
    app = Flaky()
    with serving(app) as url:
        yield app, url


@pytest.fixture
def app(server: tuple[Flaky, str]) -> Flaky:
    app = server[0]
    app.faults, app.requests, app.evicted, app.replay_from_start = [], [], False, False
    return app


@pytest.fixture
def sleeper() -> Sleeper:
    return Sleeper()


@pytest.fixture
def pokee(server: tuple[Flaky, str], sleeper: Sleeper) -> Iterator[PokeeClient]:
    with PokeeClient(
        server[1],
        "pk_flaky_key",
        sleep=sleeper,
        stream_read_timeout=0.3,
        retry=RetryPolicy(jitter=lambda: 0.5),
    ) as client:
        yield client


def seqs(events: list[Event]) -> list[tuple[int, str]]:
    return [(event.seq, event.type) for event in events]


@pytest.mark.parametrize("kind", BREAKS)
@pytest.mark.parametrize("after", range(len(LOG)))
def test_a_broken_stream_is_resumed_from_the_last_event(
    app: Flaky, pokee: PokeeClient, sleeper: Sleeper, kind: str, after: int
) -> None:
    """M7: cut after k events, cut mid-frame, data that is not JSON, or a gap in
    sequence_number — for every k, the rest comes from a resume after event k-1."""
    app.faults = [Fault(kind, after)]  # type: ignore[arg-type]
    stream = pokee.messages.stream(SESSION_ID, "hello")
    events = list(stream)
    assert seqs(events) == LOG
    assert stream.outcome is not None
    assert stream.outcome.status == "completed"
    assert stream.outcome.resumes == 1
    assert stream.outcome.text == "".join(f"part {n}. " for n in range(6))
    resumed_after = str(after - 1) if after else None  # -1: replay all, so no header
    assert app.streamed() == [("POST", None), ("GET", resumed_after)]
    assert sleeper.calls == []  # a first resume does not wait


@pytest.mark.parametrize("after", [0, 4])
def test_a_stalled_stream_is_resumed_after_the_read_timeout(
    app: Flaky, pokee: PokeeClient, after: int
) -> None:
    """Silence (no events, no pings) past the read timeout counts as a cut."""
    app.faults = [Fault("stall", after)]
    events = list(pokee.messages.stream(SESSION_ID, "hello"))
    assert seqs(events) == LOG
    assert app.streamed()[1] == ("GET", str(after - 1) if after else None)


def test_a_replay_from_the_start_is_deduplicated(app: Flaky, pokee: PokeeClient) -> None:
    """Events already delivered are dropped when a replay sends them again (M9 replays
    from seq 0)."""
    app.faults = [Fault("drop", 5)]
    app.replay_from_start = True
    assert seqs(list(pokee.messages.stream(SESSION_ID, "hello"))) == LOG


def test_an_evicted_log_falls_back_to_polling(
    app: Flaky, pokee: PokeeClient, sleeper: Sleeper
) -> None:
    app.faults = [Fault("drop", 3)]
    app.evicted = True
    stream = pokee.messages.stream(SESSION_ID, "hello")
    assert seqs(list(stream)) == LOG[:3]
    assert stream.outcome is not None
    assert stream.outcome.status == "unknown"
    assert stream.outcome.polled
    assert stream.outcome.metadata == {"progress": "finished"}
    assert stream.outcome.events == 3
    assert sleeper.calls == []  # idle at the first poll


def test_resuming_without_progress_gives_up_and_polls(
    app: Flaky, pokee: PokeeClient, sleeper: Sleeper
) -> None:
    """A resume that never yields a new event is tried ``resumes`` times in a row, with
    growing waits, then the session is polled instead."""
    policy = RetryPolicy(jitter=lambda: 0.5)
    app.faults = [Fault("drop", 2)] + [Fault("drop", 0)] * 20
    stream = pokee.messages.stream(SESSION_ID, "hello")
    assert seqs(list(stream)) == LOG[:2]
    assert stream.outcome is not None
    assert stream.outcome.polled
    assert len(app.streamed()) == 1 + policy.resumes
    assert sleeper.calls == [policy.backoff_delay(n) for n in range(policy.resumes - 1)]


def test_progress_resets_the_count_of_failed_resumes(app: Flaky, pokee: PokeeClient) -> None:
    """More cuts than ``resumes`` still end well when each resume brings new events."""
    app.faults = [Fault("drop", 1)] * 9
    stream = pokee.messages.stream(SESSION_ID, "hello")
    assert seqs(list(stream)) == LOG
    assert stream.outcome is not None
    assert stream.outcome.resumes == 9


@pytest.mark.parametrize("kind", ["drop", "cut_frame"])
def test_the_async_client_resumes_the_same_way(
    app: Flaky, server: tuple[Flaky, str], kind: str
) -> None:
    app.faults = [Fault(kind, 4)]  # type: ignore[arg-type]

    async def events() -> list[Event]:
        async with AsyncPokeeClient(server[1], "pk_flaky_key") as pokee:
            return [event async for event in pokee.messages.stream(SESSION_ID, "hello")]

    assert seqs(asyncio.run(events())) == LOG
    assert app.streamed() == [("POST", None), ("GET", "3")]


faults = st.lists(st.builds(Fault, st.sampled_from(BREAKS), st.integers(0, len(LOG))), max_size=5)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(chaos=faults)
def test_any_sequence_of_breaks_delivers_the_log_exactly_once(
    app: Flaky, pokee: PokeeClient, chaos: list[Fault]
) -> None:
    app.faults, app.requests = list(chaos), []
    stream = pokee.messages.stream(SESSION_ID, "hello")
    assert seqs(list(stream)) == LOG
    assert stream.outcome is not None
    assert stream.outcome.status == "completed"
