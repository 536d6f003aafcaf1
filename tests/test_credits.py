"""Usage windows (U1), credits (U2) and the model catalog (S1a) without HTTP, the start
options that set them, and the keyless ``PUT /_mock/credits`` on a server of its own."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mock_pokee.cli import parser, settings_from
from mock_pokee.domain.credits import CreditLedger, CreditTerms, check_balance
from mock_pokee.domain.errors import InvalidRequest, PaymentRequired, RateLimited
from mock_pokee.domain.models import DEFAULT_MODEL, ModelCatalog, Rates
from mock_pokee.domain.usage import DAY, Limits, UsageLedger
from mock_pokee.server import ThreadedServer
from mock_pokee.settings import Settings

T0 = 1_800_000_000.0


def test_u1_the_day_window_refuses_once_its_turns_are_used() -> None:
    """U1: every window is enforced; Retry-After is when the oldest turn leaves the day."""
    usage = UsageLedger(Limits(turns_per_hour=100, turns_per_day=3))
    for hour in range(3):
        usage.check(T0 + hour * 3600)
        usage.start_turn(T0 + hour * 3600)
    with pytest.raises(RateLimited, match="3 turns per day") as refused:
        usage.check(T0 + 3 * 3600)
    assert refused.value.retry_after == DAY - 3 * 3600
    usage.check(T0 + DAY + 1)  # the first turn has left the window


def test_u1_tokens_count_in_the_windows_their_turn_started_in() -> None:
    usage = UsageLedger(Limits(tokens_per_hour=1_000))
    early = usage.start_turn(T0)
    late = usage.start_turn(T0 + 3000)
    usage.end_turn(early, 600, T0 + 3500)
    usage.end_turn(late, 600, T0 + 3500)
    with pytest.raises(RateLimited, match="1200 tokens") as refused:
        usage.check(T0 + 3500)
    assert refused.value.retry_after == 100  # the early turn's 600 leave at T0 + 3600
    usage.check(T0 + 3600)
    hour, day = usage.report("t", T0 + 3600)["buckets"]["session_turn"]["windows"]
    assert (hour["turns"], hour["tokens"]) == (1, 600)
    assert (day["turns"], day["tokens"]) == (2, 1_200)


def test_u1_a_turn_ending_after_it_left_a_window_adds_nothing_there() -> None:
    usage = UsageLedger(Limits())
    entry = usage.start_turn(T0)
    usage.end_turn(entry, 500, T0 + 4000)  # a 66-minute turn: out of the hour window
    hour, day = usage.report("t", T0 + 4000)["buckets"]["session_turn"]["windows"]
    assert (hour["tokens"], day["tokens"]) == (0, 500)


def test_u2_debits_at_the_model_rates_and_hard_mode_refuses_below_one_dollar() -> None:
    ledger = CreditLedger(CreditTerms(mode="hard", balance=1.05))
    catalog = ModelCatalog()
    ledger.check_turn()
    spent = ledger.debit({"input_tokens": 1_850, "output_tokens": 5_200}, catalog.rates(None))
    assert spent == pytest.approx(0.08355)
    with pytest.raises(PaymentRequired, match="below the per-turn minimum"):
        ledger.check_turn()
    ledger.set(mode="soft")
    ledger.check_turn()
    cheap = ledger.debit(
        {"input_tokens": 1_850, "output_tokens": 5_200}, catalog.rates("pokee-isaac")
    )
    assert cheap == pytest.approx(0.026555)
    assert ledger.describe()["debits"] == 2


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        # 1,000 input, 2,000 read from the cache, 500 output (U2: $0.30 / $0.10 a million)
        ("pokee-isaac-high-reasoning", (1_000 * 3 + 2_000 * 0.30 + 500 * 15) / 1e6),
        ("pokee-isaac", (1_000 * 0.30 + 2_000 * 0.10 + 500 * 5) / 1e6),
    ],
)
def test_u2_cache_read_input_is_billed_at_the_cache_read_rate(model: str, expected: float) -> None:
    usage = {"input_tokens": 1_000, "cache_read_input_tokens": 2_000, "output_tokens": 500}
    assert ModelCatalog().rates(model).cost(usage) == pytest.approx(expected)
    assert Rates(1, 2).cost({"cache_read_input_tokens": 1_000_000}) == 1  # no rate: as input


def test_s1a_the_catalog_with_models_of_ones_own() -> None:
    catalog = ModelCatalog([("acme-llm", Rates(1, 2)), ("plain", None)])
    assert catalog.names == ("pokee-isaac-high-reasoning", "pokee-isaac", "acme-llm", "plain")
    assert catalog.rates("acme-llm") == Rates(1, 2)
    assert catalog.rates("plain") == catalog.rates(DEFAULT_MODEL) == Rates(3, 15, 0.30)
    with pytest.raises(InvalidRequest, match="; known: pokee-isaac-high-reasoning, pokee-isaac, "):
        catalog.check("nope")
    with pytest.raises(InvalidRequest, match="model: unknown model 'x" + "x" * 79):
        catalog.check("x" * 1000)  # named, but cut short


def test_start_options_for_models_credits_and_limits() -> None:
    args = parser().parse_args(
        [
            "serve",
            "--model",
            "acme-llm=0.5/2",
            "--model",
            "plain",
            "--credits-mode",
            "hard",
            "--credits-balance",
            "12.5",
            "--turns-per-hour",
            "7",
            "--tokens-per-day",
            "1000",
        ]
    )
    settings = settings_from(args)
    assert settings.models == (("acme-llm", Rates(0.5, 2)), ("plain", None))
    assert settings.credits == CreditTerms(mode="hard", balance=12.5)
    assert settings.limits == Limits(turns_per_hour=7, tokens_per_day=1000)


@pytest.mark.parametrize(
    "option",
    [
        ["--credits-balance", "-1"],
        ["--credits-balance", "nan"],
        ["--credits-balance", "inf"],
        ["--credits-balance", "lots"],
        ["--credits-mode", "medium"],
        ["--model", "x=1"],
        ["--model", "x=a/b"],
        ["--model", "=1/2"],
        ["--tokens-per-hour", "0"],
    ],
)
def test_bad_start_options_are_refused(
    option: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        parser().parse_args(["serve", *option])
    assert stopped.value.code == 2
    assert option[0] in capsys.readouterr().err


def test_u2_keyless_credit_settings_reach_every_tenant_new_ones_and_resets() -> None:
    """U2 with C2: without a key, PUT /_mock/credits sets every tenant's credits and what
    new tenants start with; a tenant's reset returns to those; a keyless reset returns
    to the start options."""
    settings = Settings(port=0, credits=CreditTerms(balance=50.0))
    with ThreadedServer(settings) as server, httpx.Client(base_url=server.url) as http:

        def credits(key: str) -> dict[str, Any]:
            headers = {"Authorization": f"Bearer {key}"}
            body: dict[str, Any] = http.get("/v1/usage", headers=headers).json()["credits"]
            return body

        assert credits("pk_old_x") == {"enabled": True, "mode": "soft", "balance": 50.0}
        answer = http.put("/_mock/credits", json={"mode": "hard", "balance": 2})
        assert answer.json() == {"enabled": True, "mode": "hard", "balance": 2}
        assert credits("pk_old_x") == {"enabled": True, "mode": "hard", "balance": 2}
        assert credits("pk_new_x") == {"enabled": True, "mode": "hard", "balance": 2}
        mine = {"Authorization": "Bearer pk_old_x"}
        http.put("/_mock/credits", json={"balance": 9}, headers=mine)
        assert credits("pk_old_x")["balance"] == 9
        assert credits("pk_new_x")["balance"] == 2
        http.post("/_mock/reset", headers=mine)
        assert credits("pk_old_x")["balance"] == 2
        http.post("/_mock/reset")
        assert credits("pk_new_x") == {"enabled": True, "mode": "soft", "balance": 50.0}
        assert server.errors == []


def test_u2_a_negative_balance_is_refused_naming_it() -> None:
    with pytest.raises(ValueError, match=r"^must be a number of dollars, at least 0, not -1$"):
        check_balance(-1)


def test_u1_tokens_leave_the_window_turn_by_turn_and_the_limit_itself_refuses() -> None:
    usage = UsageLedger(Limits(tokens_per_hour=1_000))
    for at, tokens in ((T0, 100), (T0 + 10, 300), (T0 + 20, 600)):
        usage.end_turn(usage.start_turn(at), tokens, at)
    with pytest.raises(RateLimited, match="1000 tokens"):  # exactly the limit: refused
        usage.check(T0 + 30)
    usage.check(T0 + 3600)  # the first turn's 100 have left: 900
    hour = usage.report("t", T0 + 3600)["buckets"]["session_turn"]["windows"][0]
    assert hour["tokens"] == 900
