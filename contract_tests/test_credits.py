"""U2: credits, debited by each ended turn at its model's rates; hard mode refuses with
402. Setting mode and balance needs the control plane (``PUT /_mock/credits``)."""

from __future__ import annotations

import httpx
import pytest

from .checks import assert_error, create, freeze, run_to_end
from .sse import resume, send

RATES = {  # U2: dollars per million input / output / cache-read input tokens
    "pokee-isaac-high-reasoning": (3.0, 15.0, 0.30),
    "pokee-isaac": (0.30, 5.0, 0.10),
}
START = 100_000.0


def credits(api: httpx.Client) -> dict[str, object]:
    body: dict[str, object] = api.get("/v1/usage").json()["credits"]
    return body


def balance(api: httpx.Client) -> float:
    value = credits(api)["balance"]
    assert isinstance(value, float | int)
    return float(value)


def set_credits(control: httpx.Client, **fields: object) -> dict[str, object]:
    response = control.put("/_mock/credits", json=fields)
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def cost(model: str, usage: dict[str, int]) -> float:
    rate_in, rate_out, rate_cached = RATES[model]
    cached = usage.get("cache_read_input_tokens", 0)
    return (
        usage["input_tokens"] * rate_in + cached * rate_cached + usage["output_tokens"] * rate_out
    ) / 1e6


@pytest.mark.mock_only
@pytest.mark.inferred
def test_u2_a_tenant_starts_with_soft_credits_of_100000(api: httpx.Client) -> None:
    """U2 [C]: enabled, soft, 100000.00."""
    assert credits(api) == {"enabled": True, "mode": "soft", "balance": START}


@pytest.mark.mock_only
@pytest.mark.parametrize("model", [None, *RATES])
def test_u2_an_ended_turn_is_debited_at_its_model_rates(
    api: httpx.Client, model: str | None
) -> None:
    """U2: a completed turn debits its usage at its session's model's rates (the default
    model's when none was given); the balance is reported unrounded."""
    fields = {} if model is None else {"model": model}
    sid = create(api, persistent=True, **fields)["id"]
    usage = send(api, sid, "hello").terminal.data["usage"]
    assert usage["input_tokens"] + usage["output_tokens"] > 0
    expected = START - cost(model or "pokee-isaac-high-reasoning", usage)
    assert balance(api) == pytest.approx(expected, abs=1e-9)
    assert balance(api) != round(balance(api), 2)  # unrounded


@pytest.mark.mock_only
@pytest.mark.parametrize("model", list(RATES))
def test_u2_input_read_from_the_cache_is_billed_at_the_cache_read_rate(
    api: httpx.Client, model: str
) -> None:
    """U2: $0.30 (high reasoning) and $0.10 (isaac) per million cache-read input tokens."""
    sid = create(api, persistent=True, model=model)["id"]
    usage = send(api, sid, "hello", scenario="cached-input").terminal.data["usage"]
    assert usage["cache_read_input_tokens"] == 20_000
    assert balance(api) == pytest.approx(START - cost(model, usage), abs=1e-9)


@pytest.mark.mock_only
@pytest.mark.inferred
def test_u2_a_turn_that_ends_in_error_is_debited_too(
    api: httpx.Client, control: httpx.Client
) -> None:
    """U2 [C]: completed or error, an ended turn is billed."""
    sid = create(api, persistent=True, model="pokee-isaac")["id"]
    freeze(control)
    rid = send(api, sid, "x", scenario="turn-error", stop_after=0).headers["x-response-id"]
    run_to_end(api, control, sid)
    assert resume(api, sid, rid, None).terminal.type == "message.error"
    assert balance(api) < START


@pytest.mark.mock_only
def test_u2_a_cancelled_turn_leaves_the_balance_unchanged(
    api: httpx.Client, control: httpx.Client
) -> None:
    """U2: cancelled turns are not billed."""
    freeze(control)
    sid = create(api, persistent=True)["id"]
    rid = send(api, sid, "Build a deck on tides", stop_after=1).headers["x-response-id"]
    assert api.post(f"/v1/sessions/{sid}/responses/{rid}/cancel").status_code == 202
    assert resume(api, sid, rid, None).terminal.type == "message.cancelled"
    assert balance(api) == START


@pytest.mark.mock_only
@pytest.mark.parametrize("mode", ["hard", "soft"])
def test_u2_hard_mode_refuses_a_tenant_out_of_credits_soft_mode_does_not(
    api: httpx.Client, control: httpx.Client, mode: str
) -> None:
    """U2: hard mode refuses a turn with 402 payment_required once the balance is below
    the per-turn minimum (1.00); soft mode only records the debits."""
    freeze(control)
    sid = create(api, persistent=True)["id"]
    assert set_credits(control, mode=mode, balance=1.05) == {
        "enabled": True,
        "mode": mode,
        "balance": 1.05,
    }
    rid = send(api, sid, "Build a deck on tides", stop_after=0).headers["x-response-id"]
    run_to_end(api, control, sid)  # 1,850 in and 5,200 out: $0.08355
    assert resume(api, sid, rid, None).terminal.type == "message.completed"
    assert balance(api) == pytest.approx(1.05 - 0.08355)
    response = api.post(f"/v1/sessions/{sid}/messages", json={"message": "hello"})
    if mode == "hard":
        assert_error(response, 402, "payment_required", "balance")
        assert api.get(f"/v1/sessions/{sid}").json()["busy"] is False
        windows = api.get("/v1/usage").json()["rate_limit"]["buckets"]["session_turn"]
        assert windows["windows"][0]["turns"] == 1  # a refused turn does not count
        set_credits(control, balance=5)
        assert send(api, sid, "hello").terminal.type == "message.completed"
    else:
        assert response.status_code == 200
        response.read()
        assert balance(api) < 1.05 - 0.08355


@pytest.mark.mock_only
@pytest.mark.inferred
def test_u2_credits_can_be_switched_off(api: httpx.Client, control: httpx.Client) -> None:
    """U2 [C]: with enabled false, nothing is billed and nothing refused."""
    set_credits(control, enabled=False, mode="hard", balance=0)
    sid = create(api, persistent=True)["id"]
    assert send(api, sid, "hello").terminal.type == "message.completed"
    assert credits(api) == {"enabled": False, "mode": "hard", "balance": 0}


@pytest.mark.mock_only
@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b'{"balance": -1}', "balance"),
        (b'{"balance": "100"}', "balance"),
        (b'{"balance": true}', "balance"),
        (b'{"balance": NaN}', "balance"),
        (b'{"balance": Infinity}', "balance"),
        (b'{"balance": 1e400}', "balance"),
        (b'{"balance": 1' + b"0" * 400 + b"}", "balance"),
        (b'{"balance": null}', "balance"),
        (b'{"mode": "medium"}', "mode"),
        (b'{"mode": null}', "mode"),
        (b'{"enabled": "yes"}', "enabled"),
        (b'{"mode": "hard", "balance": -5}', "balance"),
        (b'{"credit": 5}', "credit"),
        (b"[]", "body"),
        (b"not json", "body"),
    ],
)
def test_u2_bad_credit_settings_are_400_and_change_nothing(
    api: httpx.Client, control: httpx.Client, body: bytes, field: str
) -> None:
    """U2 with A5: negative, non-numeric, non-finite or huge balances, bad modes and
    unknown fields → 400 naming the field; the credits are as before."""
    before = credits(api)
    assert_error(control.put("/_mock/credits", content=body), 400, "invalid_request", field)
    assert credits(api) == before
