"""Section U: usage."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from mock_pokee.domain.usage import Limits
from mock_pokee.server import ThreadedServer
from mock_pokee.settings import Settings

from .checks import advance, assert_error, create, turn_windows
from .target import Target, client_for, new_key


def test_u1_usage_shape(api: httpx.Client) -> None:
    """U1: rate-limit buckets with hour and day windows, and credits."""
    response = api.get("/v1/usage")
    assert response.status_code == 200
    body = response.json()
    limits = body["rate_limit"]
    assert isinstance(limits["caller_id"], str)
    assert limits["caller_id"]
    for bucket in ("session_turn", "response"):
        windows = {w["name"]: w for w in limits["buckets"][bucket]["windows"]}
        assert set(windows) == {"hour", "day"}
        assert windows["hour"]["duration_seconds"] == 3600
        assert windows["day"]["duration_seconds"] == 86400
        for window in windows.values():
            for field in ("turns", "max_turns", "tokens", "max_tokens"):
                assert isinstance(window[field], int)
            assert isinstance(window["enabled"], bool)
    assert set(body["credits"]) >= {"enabled", "mode", "balance"}


@pytest.mark.mock_only
def test_u1_sessions_alone_count_no_turns(api: httpx.Client) -> None:
    """U1: counts are of turns actually run; creating and reading sessions runs none."""
    create(api)
    api.get("/v1/sessions")
    windows = turn_windows(api)
    assert [(w["turns"], w["tokens"]) for w in windows.values()] == [(0, 0), (0, 0)]


@pytest.mark.mock_only
@pytest.mark.inferred
def test_u1_caller_id_is_the_tenant(api: httpx.Client, key: str) -> None:
    """U1/A3 [C]: the mock reports the key's tenant (pk_<tenant>_…) as the caller."""
    tenant = key.split("_")[1]
    assert api.get("/v1/usage").json()["rate_limit"]["caller_id"] == tenant


@pytest.mark.mock_only
def test_u1_the_documented_default_limits(api: httpx.Client) -> None:
    """U1: 300 turns and 20M tokens an hour, 5,000 turns and 200M tokens a day, every
    window enabled, in both buckets."""
    body = api.get("/v1/usage").json()
    for bucket in ("session_turn", "response"):
        windows = {w["name"]: w for w in body["rate_limit"]["buckets"][bucket]["windows"]}
        assert (windows["hour"]["max_turns"], windows["hour"]["max_tokens"]) == (300, 20_000_000)
        assert (windows["day"]["max_turns"], windows["day"]["max_tokens"]) == (5_000, 200_000_000)
        assert all(w["enabled"] for w in windows.values())


@pytest.mark.mock_only
@pytest.mark.inferred
def test_u1_buckets_are_independent(api: httpx.Client) -> None:
    """U1: a session turn counts in session_turn only; the response bucket, which counts
    stateless POST /v1/responses calls alone, stays 0 (the other way round, a call
    counting in response only, is R7's test in test_response_usage.py)."""
    sid = create(api, persistent=True)["id"]
    api.post(f"/v1/sessions/{sid}/messages", json={"message": "hello"}).read()
    buckets = api.get("/v1/usage").json()["rate_limit"]["buckets"]
    turns = {w["name"]: (w["turns"], w["tokens"] > 0) for w in buckets["session_turn"]["windows"]}
    assert turns == {"hour": (1, True), "day": (1, True)}
    assert [(w["turns"], w["tokens"]) for w in buckets["response"]["windows"]] == [(0, 0), (0, 0)]


BIG_TURN = """\
name: big-turn
description: A turn that reports 6,000 input tokens.
steps:
  - text: "done"
  - usage: {input_tokens: 6000, output_tokens: 0}
"""


@pytest.mark.mock_only
@pytest.mark.inferred
def test_u1_the_token_window_refuses_with_retry_after(tmp_path: Path) -> None:
    """U1 [C]: every window is enforced: once the hour's tokens reach the limit, a turn is
    429 with Retry-After until the turns that used them are an hour old; then it runs."""
    (tmp_path / "big-turn.yaml").write_text(BIG_TURN)
    limits = Limits(tokens_per_hour=10_000)
    settings = Settings(port=0, clock_mode="virtual", limits=limits, scenario_folders=(tmp_path,))
    with (
        ThreadedServer(settings) as server,
        client_for(Target(server.url, None, is_mock=True), new_key()) as api,
    ):
        sid = create(api, persistent=True)["id"]

        def turn() -> httpx.Response:
            return api.post(
                f"/v1/sessions/{sid}/messages",
                json={"message": "go"},
                headers={"X-Mock-Scenario": "big-turn"},
            )

        assert turn().status_code == 200
        advance(api, 600)
        assert turn().status_code == 200  # 12,000 tokens now: over the limit of 10,000
        advance(api, 600)
        refused = turn()
        assert_error(refused, 429, "rate_limited", "tokens", "hour")
        # The first turn (6,000) must age out: it started 1,200 s ago.
        assert refused.headers["retry-after"] == "2400"
        hour = turn_windows(api)["hour"]
        assert (hour["turns"], hour["tokens"]) == (2, 12_000)
        advance(api, 2399)
        assert_error(turn(), 429, "rate_limited", "tokens")
        advance(api, 1)
        assert turn().status_code == 200
