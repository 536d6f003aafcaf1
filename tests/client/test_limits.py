"""What the client does with the API's refusals, on the real mock: a busy session (M2) is
reported, never retried; the session limit (S9) is waited out on the mock's clock when
``Retry-After`` is short, and surfaced with its ``retry_after`` when it is long."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import httpx
import pytest

from mock_pokee.server import ThreadedServer
from mock_pokee.settings import Settings
from pokee_client import PokeeClient, RateLimitedError, SessionBusyError
from tests.client.helpers import Sleeper


def test_a_busy_session_is_reported_at_once(
    client: PokeeClient, control: httpx.Client, sleeper: Sleeper
) -> None:
    session = client.sessions.create(persistent=True)
    running = client.messages.stream(session.id, "Build a deck on tides", scenario="presentation")
    first = next(running)  # the turn has started and waits on the clock
    with pytest.raises(SessionBusyError) as raised:
        client.messages.send(session.id, "and another one")
    assert raised.value.status == 409
    assert raised.value.error == "session_busy"
    assert first.data["id"] in raised.value.message  # the mock names the running turn
    assert sleeper.calls == []
    assert client.usage().window("hour").turns == 1  # the refused one started nothing (U1)
    assert running.cancel() == "cancelling"  # M8
    assert [event.type for event in running][-1] == "message.cancelled"


@pytest.fixture(scope="module")
def one_session_server() -> Iterator[ThreadedServer]:
    with ThreadedServer(Settings(port=0, clock_mode="virtual", max_sessions=1)) as server:
        yield server


@pytest.fixture
def limited(one_session_server: ThreadedServer) -> Iterator[tuple[PokeeClient, Sleeper]]:
    key = f"pk_t{secrets.token_hex(6)}_client"
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=one_session_server.url, headers=headers) as control:
        sleeper = Sleeper(control)
        with PokeeClient(one_session_server.url, key, sleep=sleeper) as pokee:
            yield pokee, sleeper


def test_the_session_limit_is_surfaced_with_retry_after(
    limited: tuple[PokeeClient, Sleeper],
) -> None:
    pokee, sleeper = limited
    pokee.sessions.create()  # never messaged: expires 5 minutes after creation (S7)
    with pytest.raises(RateLimitedError) as raised:
        pokee.sessions.create()
    assert raised.value.status == 429
    assert raised.value.retry_after == 300.0  # longer than the client waits by itself
    assert sleeper.calls == []


def test_a_short_retry_after_is_waited_out_on_the_mock_clock(
    limited: tuple[PokeeClient, Sleeper],
) -> None:
    """A7: the client sleeps exactly Retry-After (here moving the mock's clock), then
    the first session has expired and the second is created."""
    pokee, sleeper = limited
    first = pokee.sessions.create(ttl=3)
    second = pokee.sessions.create()
    assert sleeper.calls == [3.0]
    assert [s.id for s in pokee.sessions.list()] == [second.id]
    assert second.id != first.id
