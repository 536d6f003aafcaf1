"""Section U: usage."""

from __future__ import annotations

import httpx
import pytest

from contract_tests.checks import create, turn_windows


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
