"""M10 and M11: the limits on turns — how long one may run, and how many a tenant may
start in an hour. Both need the mock's clock."""

from __future__ import annotations

import httpx
import pytest

from .checks import advance, assert_error, create, freeze
from .sse import resume, send

pytestmark = pytest.mark.mock_only

TICK = 1 / 128  # exact in binary, so clock sums are exact


def test_m10_a_turn_is_ended_after_90_minutes(api: httpx.Client, control: httpx.Client) -> None:
    """M10: a turn that would run two hours (the contract tests' over-time scenario) ends
    at exactly 90 minutes of clock time, (M10 [C]) with message.error turn_timeout; the
    session stays usable."""
    freeze(control, 1_900_000_000.0)
    sid = create(api, persistent=True, ttl=604800)["id"]
    rid = send(api, sid, "hi", scenario="over-time", stop_after=1).headers["x-response-id"]
    advance(control, 5400 - TICK)
    assert api.get(f"/v1/sessions/{sid}").json()["busy"] is True
    advance(control, TICK)
    assert api.get(f"/v1/sessions/{sid}").json()["busy"] is False
    terminal = resume(api, sid, rid, None).terminal
    assert (terminal.type, terminal.data["error"]) == ("message.error", "turn_timeout")
    assert send(api, sid, "again").terminal.type == "message.completed"


@pytest.mark.destructive
def test_m11_the_301st_turn_in_an_hour_is_429_with_retry_after(
    api: httpx.Client, control: httpx.Client
) -> None:
    """M11 with A7 and M11 [C]: 300 turns an hour per tenant; the next message is 429
    rate_limited with Retry-After, starts no turn, and once the hour has passed turns
    start again."""
    freeze(control, 1_900_000_000.0)
    sid = create(api, persistent=True, ttl=604800)["id"]
    for _ in range(300):
        assert send(api, sid, "hi", scenario="quick-answer").terminal.type == "message.completed"
    refused = api.post(f"/v1/sessions/{sid}/messages", json={"message": "one more"})
    assert_error(refused, 429, "rate_limited")
    assert 1 <= int(refused.headers["retry-after"]) <= 3600
    assert api.get(f"/v1/sessions/{sid}").json()["busy"] is False
    advance(control, int(refused.headers["retry-after"]))
    assert send(api, sid, "hi", scenario="quick-answer").terminal.type == "message.completed"
