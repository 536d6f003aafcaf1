"""Section R, the stateless ``POST /v1/responses``: what a request may hold (R1, R2), the
response object it is answered with (R3), and a tool call's round trip (R4).

Every call here is stateless: it makes nothing on the target to clean up. The streams (R5,
R6) are in test_response_streams.py; usage, credits and the fake model's choices (R7, R8)
in test_response_usage.py.
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest

from .checks import assert_error, freeze
from .responses import (
    ASK,
    DEFAULT_MODEL,
    HELLO,
    STOCK,
    TOOLS,
    WEATHER,
    answer,
    check_response,
    items,
    output_of,
    post,
    text_of,
    the_call,
    user,
)
from .target import Target

FORECAST = "Rain all week, 9 to 12 degrees."


def test_r1_r3_a_string_input_is_answered_with_a_response_object(api: httpx.Client) -> None:
    """R1 and R3: a string is one user message; the answer is 200 JSON, a response object
    whose id the X-Response-Id header carries, with a text message (no tools, no call)."""
    body = answer(api, {"input": HELLO})
    check_response(body)
    assert items(body, "message"), body["output"]
    assert text_of(body).strip(), body["output"]
    assert not items(body, "function_call"), body["output"]


@pytest.mark.inferred
def test_r3_response_ids_are_resp_and_24_hex_digits(api: httpx.Client) -> None:
    """R3 [C]: the id is resp_ followed by 24 lowercase hex digits; two calls, two ids."""
    first, second = answer(api, {"input": HELLO}), answer(api, {"input": HELLO})
    for body in (first, second):
        assert re.fullmatch(r"resp_[0-9a-f]{24}", body["id"]), body["id"]
    assert first["id"] != second["id"]


@pytest.mark.mock_only
def test_r3_r8_created_at_is_whole_seconds_of_the_tenants_clock(
    api: httpx.Client, control: httpx.Client
) -> None:
    """R3 with R8 and C1: created_at is an integer of epoch seconds read from the tenant's
    own clock."""
    freeze(control, 1_900_000_123.25)
    assert answer(api, {"input": HELLO})["created_at"] == 1_900_000_123


def test_r1_r3_the_request_settings_come_back_in_the_response(api: httpx.Client) -> None:
    """R1 and R3: the optional settings OpenAI's reference lists are accepted, and the
    ones the SDK reads are echoed in the answer."""
    body = answer(
        api,
        {
            "input": HELLO,
            "instructions": "Answer briefly.",
            "tools": [WEATHER],
            "tool_choice": "none",
            "parallel_tool_calls": False,
            "max_output_tokens": 512,
            "temperature": 0.25,
            "top_p": 0.5,
            "metadata": {"suite": "contract"},
            "store": False,
            "user": "contract-tests",
            "reasoning": {"effort": "minimal"},
        },
    )
    check_response(body)
    assert body["instructions"] == "Answer briefly."
    assert [(t["type"], t["name"]) for t in body["tools"]] == [("function", "get_weather")]
    assert body["tool_choice"] == "none"
    assert body["parallel_tool_calls"] is False
    assert (body["temperature"], body["top_p"]) == (0.25, 0.5)
    assert body["metadata"] == {"suite": "contract"}
    assert body["reasoning"]["effort"] == "minimal"
    assert not items(body, "function_call"), body["output"]  # "none": no call


def test_r1_the_model_given_is_the_model_that_answers(api: httpx.Client, target: Target) -> None:
    """R1 with S1a: a model of the catalog is used when given; without one, the tenant's
    model answers (on the mock, a new tenant's default)."""
    assert answer(api, {"input": HELLO, "model": "pokee-isaac"})["model"] == "pokee-isaac"
    default = answer(api, {"input": HELLO})["model"]
    if target.is_mock:
        assert default == DEFAULT_MODEL


def test_r1_an_unknown_model_is_400(api: httpx.Client) -> None:
    """R1 with S1a and A5: a model outside the catalog is refused, naming it."""
    response = post(api, {"input": HELLO, "model": "pokee-nonexistent-9"})
    assert_error(response, 400, "invalid_request", "pokee-nonexistent-9")


@pytest.mark.parametrize(
    ("body", "mention"),
    [
        (b'{"model": "pokee-isaac"}', "input"),
        (b'{"input": 5}', "input"),
        (b'{"input": "hi", "stream": "yes"}', "stream"),
        (b'{"input": "hi", "reasoning": {"effort": "maximal"}}', "effort"),
        (b'{"input": "hi", "tool_choice": "sometimes"}', "tool_choice"),
        (b'{"input": "hi", "temperature": "warm"}', "temperature"),
        (b'{"input": "hi", "tools": {"name": "x"}}', "tools"),
        (b"not json", "JSON"),
        (b'["input"]', "object"),
    ],
)
def test_r1_bad_bodies_are_400(api: httpx.Client, body: bytes, mention: str) -> None:
    """R1 with A5: a missing input, or a field of the wrong type or value → 400 naming it."""
    response = api.post("/v1/responses", content=body)
    assert_error(response, 400, "invalid_request", mention)


@pytest.mark.inferred
@pytest.mark.parametrize(
    ("extra", "mention"),
    [
        ({"temprature": 0.5}, "temprature"),
        ({"reasoning": {"efort": "low"}}, "efort"),
        ({"input": [{"role": "user", "content": "hi", "colour": "red"}]}, "colour"),
    ],
)
def test_r1_unknown_fields_are_400_naming_them(
    api: httpx.Client, extra: dict[str, Any], mention: str
) -> None:
    """R1 [C] with A8: a field the endpoint does not know, at any depth, is refused by
    name instead of ignored."""
    assert_error(post(api, {"input": "hi", **extra}), 400, "invalid_request", mention)


@pytest.mark.inferred
@pytest.mark.parametrize(
    "extra", [{"previous_response_id": "resp_" + "0" * 24}, {"conversation": "conv_123"}]
)
def test_r1_history_by_reference_is_400_the_endpoint_is_stateless(
    api: httpx.Client, extra: dict[str, Any]
) -> None:
    """R1 [C]: a reference to a stored response or conversation is refused; the message
    names the field and says the endpoint keeps no state (send the whole history)."""
    (name,) = extra
    assert_error(post(api, {"input": "hi", **extra}), 400, "invalid_request", name, "stateless")


@pytest.mark.inferred
@pytest.mark.parametrize("empty", ["", []])
def test_r1_r2_an_empty_input_is_400(api: httpx.Client, empty: object) -> None:
    """R2 [C]: an empty string or an empty list of items is no request."""
    assert_error(post(api, {"input": empty}), 400, "invalid_request", "input")


def tool(name: str, description: str = "A tool.") -> dict[str, Any]:
    return {
        "type": "function",
        "name": name,
        "description": description,
        "parameters": {"type": "object", "properties": {}},
    }


def test_r1_tools_up_to_the_documented_limits_are_accepted(api: httpx.Client) -> None:
    """R1 with S1b: 128 tools, a name of 64 characters and a description of 16 KiB are
    within the documented limits."""
    tools = [tool(f"tool_{n}") for n in range(126)]
    tools += [tool("n" * 64), tool("long_description", "d" * 16384)]
    check_response(answer(api, {"input": HELLO, "tools": tools, "tool_choice": "none"}))


@pytest.mark.parametrize(
    ("tools", "mention"),
    [
        ([tool(f"tool_{n}") for n in range(129)], "128"),
        ([tool("n" * 65)], "n" * 65),
        ([tool("too_long", "d" * 16385)], "too_long"),
        pytest.param([tool("has space")], "has space", marks=pytest.mark.inferred),
        pytest.param([tool("twice"), tool("twice")], "twice", marks=pytest.mark.inferred),
        pytest.param(
            [{**tool("no_schema"), "parameters": "object"}], "no_schema", marks=pytest.mark.inferred
        ),
    ],
)
def test_r1_tools_past_the_s1b_rules_are_400(
    api: httpx.Client, tools: list[dict[str, Any]], mention: str
) -> None:
    """R1 with S1b: more than 128 tools, a name over 64 characters or a description over
    16 KiB → 400; (S1b [C]) so are a name with other characters than letters, digits, _
    and -, a name twice, and parameters that are not a schema object — naming the tool."""
    assert_error(post(api, {"input": "hi", "tools": tools}), 400, "invalid_request", mention)


# -- R2: input items ------------------------------------------------------------------


def test_r2_input_items_of_every_documented_shape_are_accepted(api: httpx.Client) -> None:
    """R2: messages of each role, with string or typed content, with or without "type":
    "message"; a function call and its output; a reasoning item (ignored)."""
    call = {"type": "function_call", "call_id": "call_r2", "name": "get_weather"}
    history = [
        {"role": "system", "content": "You are terse."},
        {
            "type": "message",
            "role": "developer",
            "content": [{"type": "input_text", "text": "Be kind."}],
        },
        {"role": "user", "content": [{"type": "input_text", "text": "Weather in Oslo?"}]},
        {"type": "reasoning", "id": "rs_" + "0" * 24, "summary": []},
        {**call, "arguments": json.dumps({"city": "Oslo", "days": 3})},
        output_of("call_r2", FORECAST),
        {
            "type": "message",
            "role": "assistant",
            "content": [{"type": "output_text", "text": "Rain."}],
        },
        {"role": "assistant", "content": "Anything else?"},
        user(HELLO),
    ]
    body = answer(api, {"input": history, "tools": [WEATHER], "tool_choice": "none"})
    check_response(body)
    assert text_of(body).strip(), body["output"]


@pytest.mark.inferred
@pytest.mark.parametrize("where", ["alone", "before its call"])
def test_r2_an_output_without_its_call_before_it_is_400_naming_the_call(
    api: httpx.Client, where: str
) -> None:
    """R2 [C]: a function_call_output whose call_id no earlier function_call has → 400
    naming that call id."""
    call = {"type": "function_call", "call_id": "call_orphan7", "name": "get_weather"}
    history: list[dict[str, Any]] = [user(ASK), output_of("call_orphan7", FORECAST)]
    if where == "before its call":
        history.append({**call, "arguments": "{}"})
    response = post(api, {"input": history, "tools": [WEATHER]})
    assert_error(response, 400, "invalid_request", "call_orphan7")


@pytest.mark.parametrize(
    ("item", "mention"),
    [
        ({"role": "robot", "content": "hi"}, "role"),
        ({"role": "user", "content": 5}, "content"),
        ({"role": "user", "content": [{"type": "input_text"}]}, "text"),
        ({"type": "teleport", "to": "Oslo"}, "teleport"),
        ({"type": "function_call", "name": "get_weather", "arguments": "{}"}, "call_id"),
    ],
)
def test_r2_malformed_items_are_400(api: httpx.Client, item: dict[str, Any], mention: str) -> None:
    """R2 with A5: an item of no documented shape → 400 naming what is wrong with it."""
    response = post(api, {"input": [item, user("hi")], "tools": [WEATHER]})
    assert_error(response, 400, "invalid_request", mention)


# -- R4: a tool call's round trip ----------------------------------------------------


def call_weather(api: httpx.Client, **extra: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """A call that must ask for get_weather (tool_choice names it); the answer and its
    function_call item."""
    body = answer(
        api,
        {
            "input": [user(ASK)],
            "tools": TOOLS,
            "tool_choice": {"type": "function", "name": "get_weather"},
            **extra,
        },
    )
    check_response(body)
    return body, the_call(body)


def test_r3_r4_a_tool_call_then_the_answer_from_its_output(api: httpx.Client) -> None:
    """R3 and R4: the named tool is called (an output function_call with JSON arguments);
    sent back with the whole history and the function's output, the call is answered in
    text."""
    _, call = call_weather(api)
    assert call["name"] == "get_weather"
    history = [
        user(ASK),
        {k: call[k] for k in ("type", "call_id", "name", "arguments")},
        output_of(call["call_id"], FORECAST),
    ]
    second = answer(api, {"input": history, "tools": TOOLS, "tool_choice": "none"})
    check_response(second)
    assert text_of(second).strip(), second["output"]
    assert not items(second, "function_call"), second["output"]


def test_r2_r4_an_answers_output_items_go_back_as_they_came(api: httpx.Client) -> None:
    """R2 and R4 (OpenAI's reference): the items of an answer — reasoning and function
    call, with their ids and status — are valid input as they are, the way the SDK's
    ``input += response.output`` sends them back."""
    first, call = call_weather(api, reasoning={"effort": "low"})
    history = [user(ASK), *first["output"], output_of(call["call_id"], FORECAST)]
    second = answer(api, {"input": history, "tools": TOOLS, "tool_choice": "none"})
    check_response(second)
    assert text_of(second).strip(), second["output"]


def test_r3_reasoning_effort_puts_a_reasoning_item_first(api: httpx.Client) -> None:
    """R3 with R1: with effort low, medium or high the answer starts with a reasoning item
    carrying a summary; omitted or minimal, there is none."""
    for effort in ("low", "medium", "high"):
        body = answer(api, {"input": HELLO, "reasoning": {"effort": effort}})
        check_response(body)
        first = body["output"][0]
        assert first["type"] == "reasoning", (effort, body["output"])
        assert first["summary"], first
        assert first["summary"][0]["text"].strip(), first
        assert len(items(body, "reasoning")) == 1, body["output"]
    for settings in ({}, {"reasoning": {"effort": "minimal"}}):
        body = answer(api, {"input": HELLO, **settings})
        assert not items(body, "reasoning"), (settings, body["output"])


def test_r1_r3_tool_choice_naming_a_tool_calls_that_tool(api: httpx.Client) -> None:
    """R1 and R3 ([O] tool_choice): a tool named in tool_choice is the one called, even
    when the message speaks of another."""
    body = answer(
        api,
        {
            "input": [user(ASK)],
            "tools": TOOLS,
            "tool_choice": {"type": "function", "name": "lookup_stock"},
        },
    )
    assert the_call(body)["name"] == STOCK["name"]
