"""Section R: what stateless calls count and cost (R7), and what the mock's fake model
answers (R8).

R7 measures the tenant's usage as differences (read before and after) and holds the
counts exactly only on the mock, where each test has a tenant of its own; against a
deployment other clients may use the same tenant meanwhile. Credits, limits and 402 need
the control plane (``PUT /_mock/credits``, the clock). R8 is the mock's choice ([C]):
those tests are ``inferred``, and ``mock_only`` where they use a scenario.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from .checks import advance, assert_error, create, freeze
from .cleanup import credit
from .responses import (
    ASK,
    DEFAULT_MODEL,
    HELLO,
    STOCK,
    TOOLS,
    WEATHER,
    Counts,
    answer,
    assemble,
    balance,
    buckets,
    check_response,
    events,
    items,
    output_of,
    post,
    rid_of,
    stream,
    text_of,
    the_call,
    user,
)
from .sse import send
from .target import Target

FORECAST = "Sleet on Tuesday, code 7f3a."


def test_r7_u1_a_call_counts_in_the_response_bucket_not_in_session_turn(
    api: httpx.Client, target: Target
) -> None:
    """R7 with U1: a JSON call and a streamed one each count once in the response bucket,
    with their tokens; (on the mock, where the tenant is the test's, exactly: the calls'
    usage summed, and session_turn untouched)."""
    before = buckets(api)
    plain = answer(api, {"input": HELLO})
    streamed = assemble(stream(api, {"input": HELLO}).frames)
    after = buckets(api)
    used = plain["usage"]["total_tokens"] + streamed["usage"]["total_tokens"]
    assert used > 0
    assert after["response"].calls >= before["response"].calls + 2, (before, after)
    assert after["response"].tokens > before["response"].tokens, (before, after)
    if target.is_mock:
        assert after["response"] == Counts(
            before["response"].calls + 2, before["response"].tokens + used
        )
        assert after["session_turn"] == before["session_turn"]


@pytest.mark.inferred
def test_r7_u1_a_refused_call_counts_nowhere(api: httpx.Client) -> None:
    """R7 with U1 [C] (counts are of calls that really ran): a call refused with 400 — a
    bad body, an orphan function output, an unknown model — counts in neither bucket and
    uses no tokens."""
    before = buckets(api)
    for body in (
        {"input": ""},
        {"input": [user(ASK), output_of("call_nowhere", FORECAST)], "tools": TOOLS},
        {"input": HELLO, "model": "pokee-nonexistent-9"},
    ):
        assert post(api, body).status_code == 400
    assert buckets(api) == before


@pytest.mark.mock_only
@pytest.mark.parametrize("model", [None, "pokee-isaac", "pokee-isaac-high-reasoning"])
def test_r7_u2_calls_are_debited_at_their_models_rates(
    api: httpx.Client, model: str | None
) -> None:
    """R7 with U2: each call's usage is debited at its model's documented rates (the
    tenant's model when none is given), streamed or not."""
    chosen = {} if model is None else {"model": model}
    before = balance(api)
    plain = answer(api, {"input": HELLO, **chosen})
    streamed = assemble(
        stream(api, {"input": HELLO, "reasoning": {"effort": "low"}, **chosen}).frames
    )
    assert plain["model"] == streamed["model"] == (model or DEFAULT_MODEL)
    costs = [credit(body["model"], body["usage"]) for body in (plain, streamed)]
    assert all(cost is not None and cost > 0 for cost in costs), costs
    assert balance(api) == pytest.approx(before - sum(c or 0.0 for c in costs), abs=1e-9)


@pytest.mark.mock_only
@pytest.mark.parametrize(("model", "dollars"), [("pokee-isaac", 0.0043), (DEFAULT_MODEL, 0.015)])
def test_r7_u2_cached_input_is_billed_at_the_cache_read_rate(
    api: httpx.Client, model: str, dollars: float
) -> None:
    """R7 with U2 and R3: input read from the cache is a part of input_tokens
    (input_tokens_details.cached_tokens, as OpenAI counts it) and costs the cache-read
    rate ($0.10 and $0.30 a million): 1,000 fresh and 20,000 cached in, 400 out (the
    contract tests' cached-input scenario)."""
    before = balance(api)
    body = answer(
        api, {"input": HELLO, "model": model}, headers={"X-Mock-Scenario": "cached-input"}
    )
    usage = body["usage"]
    assert (usage["input_tokens"], usage["output_tokens"]) == (21_000, 400), usage
    assert usage["input_tokens_details"]["cached_tokens"] == 20_000, usage
    assert credit(model, usage) == pytest.approx(dollars)
    assert balance(api) == pytest.approx(before - dollars, abs=1e-9)


def set_credits(control: httpx.Client, **fields: object) -> None:
    response = control.put("/_mock/credits", json=fields)
    assert response.status_code == 200, response.text


@pytest.mark.mock_only
def test_r7_u2_hard_credits_refuse_a_call_below_the_minimum_with_402(
    api: httpx.Client, control: httpx.Client
) -> None:
    """R7 with U2: in hard mode, with the balance under the per-call minimum, a call (JSON
    or streamed) → 402 payment_required, counted nowhere; with credit again it runs."""
    set_credits(control, mode="hard", balance=0.5)
    before = buckets(api)
    assert_error(post(api, {"input": HELLO}), 402, "payment_required", "balance")
    assert_error(post(api, {"input": HELLO, "stream": True}), 402, "payment_required")
    assert buckets(api) == before
    set_credits(control, balance=5)
    check_response(answer(api, {"input": HELLO}))


@pytest.mark.mock_only
@pytest.mark.destructive
def test_r7_a7_the_301st_call_in_an_hour_is_429_and_session_turns_still_start(
    api: httpx.Client, control: httpx.Client
) -> None:
    """R7 with U1 and A7: 300 calls an hour fill the response bucket: the next is 429
    rate_limited with Retry-After, JSON or streamed, while a session turn still starts
    (the buckets are independent); once Retry-After has passed, calls run again."""
    freeze(control, 1_900_000_000.0)
    for _ in range(300):
        assert post(api, {"input": "hi"}).status_code == 200
    refused = post(api, {"input": "hi"})
    assert_error(refused, 429, "rate_limited")
    wait = int(refused.headers["retry-after"])
    assert 1 <= wait <= 3600
    assert_error(post(api, {"input": "hi", "stream": True}), 429, "rate_limited")
    assert buckets(api)["response"].calls == 300
    sid = create(api, persistent=True)["id"]
    assert send(api, sid, "hello").terminal.type == "message.completed"
    advance(control, wait)
    check_response(answer(api, {"input": "hi"}))


# -- R8: the fake model ---------------------------------------------------------------


@pytest.mark.inferred
@pytest.mark.parametrize(
    ("message", "choice", "called"),
    [
        pytest.param(ASK, None, "get_weather", id="a-shared-word"),
        pytest.param("Hello there, how are you", None, "lookup_stock", id="else-the-first"),
        pytest.param(ASK, {"type": "function", "name": "lookup_stock"}, "lookup_stock", id="named"),
        pytest.param(ASK, "required", "get_weather", id="required"),
        pytest.param(ASK, "auto", "get_weather", id="auto"),
    ],
)
def test_r8_a_user_message_last_with_tools_gets_one_call(
    api: httpx.Client, message: str, choice: object, called: str
) -> None:
    """R8 [C]: with tools, a tool_choice other than "none" and a user message last, the
    answer is one call: to the tool named, else to one sharing a word with the message,
    else to the first."""
    settings = {} if choice is None else {"tool_choice": choice}
    body = answer(api, {"input": [user(message)], "tools": TOOLS, **settings})
    check_response(body)
    assert [item["type"] for item in body["output"]] == ["function_call"], body["output"]
    assert the_call(body)["name"] == called


@pytest.mark.inferred
def test_r8_arguments_fit_the_tools_schema_and_repeat(api: httpx.Client) -> None:
    """R8 [C]: the call's arguments are made from the tool's parameters schema (its types,
    bounds and enum), the same for the same request."""
    request = {"input": [user(ASK)], "tools": [WEATHER]}
    arguments = json.loads(the_call(answer(api, request))["arguments"])
    assert isinstance(arguments["city"], str), arguments
    assert len(arguments["city"]) >= 2, arguments
    assert isinstance(arguments["days"], int), arguments
    assert 3 <= arguments["days"] <= 7, arguments
    assert arguments.get("units", "metric") in ("metric", "imperial"), arguments
    assert json.loads(the_call(answer(api, request))["arguments"]) == arguments


@pytest.mark.inferred
@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"input": ASK}, id="no-tools"),
        pytest.param({"input": ASK, "tools": TOOLS, "tool_choice": "none"}, id="choice-none"),
        pytest.param(
            {"input": [user(ASK), {"role": "assistant", "content": "One moment."}], "tools": TOOLS},
            id="assistant-last",
        ),
    ],
)
def test_r8_otherwise_the_answer_is_text(api: httpx.Client, body: dict[str, Any]) -> None:
    """R8 [C]: without tools, with tool_choice "none", or with anything but a user message
    last (and no function output), the answer is text and no call."""
    found = answer(api, body)
    check_response(found)
    assert not items(found, "function_call"), found["output"]
    assert text_of(found).strip(), found["output"]


@pytest.mark.inferred
def test_r8_required_forces_a_call_whatever_comes_last(api: httpx.Client) -> None:
    """R8 [C]: tool_choice "required" makes the answer a call even where the model would
    otherwise answer in text (an assistant message last)."""
    history = [user(ASK), {"role": "assistant", "content": "One moment."}]
    body = answer(api, {"input": history, "tools": TOOLS, "tool_choice": "required"})
    assert items(body, "function_call"), body["output"]


@pytest.mark.inferred
def test_r4_r8_after_a_function_output_the_answer_quotes_it(api: httpx.Client) -> None:
    """R4 with R8 [C]: with a function_call_output last (tool_choice left to the model),
    the answer is text that quotes the function's output."""
    call = the_call(answer(api, {"input": [user(ASK)], "tools": TOOLS}))
    history = [
        user(ASK),
        {k: call[k] for k in ("type", "call_id", "name", "arguments")},
        output_of(call["call_id"], FORECAST),
    ]
    body = answer(api, {"input": history, "tools": TOOLS})
    assert not items(body, "function_call"), body["output"]
    assert FORECAST in text_of(body), body["output"]


@pytest.mark.inferred
def test_r8_token_counts_repeat_for_the_same_input(api: httpx.Client) -> None:
    """R8 [C]: one input, the same usage every time."""
    request = {"input": [user(ASK)], "tools": [STOCK], "reasoning": {"effort": "low"}}
    first, second = answer(api, request), answer(api, request)
    assert first["usage"] == second["usage"]
    assert first["usage"]["output_tokens_details"]["reasoning_tokens"] > 0


@pytest.mark.mock_only
def test_r8_a_scenario_header_scripts_the_response(api: httpx.Client) -> None:
    """R8 with C6: X-Mock-Scenario picks the script instead of the default model: the
    quick answer's text, no call, although tools are given; an unknown name → 400
    naming it."""
    request = {"input": [user(ASK)], "tools": TOOLS}
    body = answer(api, request, headers={"X-Mock-Scenario": "quick-answer"})
    assert not items(body, "function_call"), body["output"]
    assert text_of(body) == f"Here is a quick answer from mock-pokee to: {ASK}"
    response = post(api, request, headers={"X-Mock-Scenario": "no-such-script"})
    assert_error(response, 400, "invalid_request", "X-Mock-Scenario", "no-such-script")


@pytest.mark.mock_only
def test_r5_r8_a_failing_scenario_ends_the_stream_with_response_failed(
    api: httpx.Client, control: httpx.Client
) -> None:
    """R8 with R5 and C1: the turn-error script streams some text, waits 2 s of clock time,
    then fails: the stream ends with response.failed, whose response is failed with an
    error giving the reason; (U2 [C]) a failed response is billed, as an errored turn."""
    freeze(control)
    before = balance(api)
    rid = rid_of(
        stream(api, {"input": HELLO}, stop_after=1, headers={"X-Mock-Scenario": "turn-error"})
    )
    advance(control, 2)
    terminal = events(api, rid).terminal
    assert terminal.type == "response.failed"
    failed = terminal.data["response"]
    assert (failed["id"], failed["status"]) == (rid, "failed")
    assert "upstream_model_error" in json.dumps(failed["error"])
    cost = credit(failed["model"], failed["usage"])
    assert cost is not None
    assert cost > 0
    assert balance(api) == pytest.approx(before - cost, abs=1e-9)
