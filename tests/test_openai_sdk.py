"""OpenAI's own Python SDK, unmodified, against the mock's `/v1/responses` (contract R):
the acceptance client the issue names. It runs on a real uvicorn server on an ephemeral
port; the SDK's own retries are off (``max_retries=0``) so that every error it raises is
the mock's first answer, and nothing here waits on real time (the clock is virtual, or
autojumps while a call waits on a scripted pause)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openai
import pytest
from openai import OpenAI
from openai.types.responses import Response

from mock_pokee.domain.usage import Limits
from mock_pokee.testing import MockServer, TenantHandle

WEATHER: Any = {  # the SDK types its tools narrowly; these are plain JSON
    "type": "function",
    "name": "get_weather",
    "description": "Forecast for one city.",
    "parameters": {
        "type": "object",
        "properties": {
            "city": {"type": "string", "minLength": 2},
            "days": {"type": "integer", "minimum": 3, "maximum": 7},
        },
        "required": ["city", "days"],
    },
}
STOCK: Any = {
    "type": "function",
    "name": "lookup_stock",
    "description": "Quote a ticker symbol.",
    "parameters": {"type": "object", "properties": {"symbol": {"type": "string"}}},
}
ASK = "Will it rain in Oslo? Check the weather"

SLOW = """\
name: slow-forecast
surface: response
match: '\\bforecast\\b'
steps:
  - think: "The user wants a forecast for {topic}."
  - client_tool: {tool: get_weather, arguments: {city: "Bergen", days: 4}}
  - pause: 30s
  - text: "It will be {tool_output} in Bergen."
  - usage: {input_tokens: 1200, output_tokens: 300}
"""


@dataclass
class Mock:
    server: MockServer
    tenant: TenantHandle
    sdk: OpenAI


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MockServer]:
    folder: Path = tmp_path_factory.mktemp("scenarios")
    (folder / "slow-forecast.yaml").write_text(SLOW)
    with MockServer(scenario_folders=(folder,)) as running:
        yield running


@pytest.fixture
def mock(server: MockServer) -> Iterator[Mock]:
    """A fresh tenant, and the SDK pointed at it as Pokee's docs say."""
    with server.tenant() as tenant:
        assert tenant.key is not None
        sdk = OpenAI(base_url=server.url + "/v1", api_key=tenant.key, max_retries=0)
        with sdk:
            yield Mock(server, tenant, sdk)


def the_call(response: Response) -> Any:
    (call,) = [item for item in response.output if item.type == "function_call"]
    return call


def comparable(response: Response) -> dict[str, Any]:
    """A response without what differs between two calls of one request (ids) and what
    the SDK adds to a streamed one on its own (``parsed_arguments``)."""
    data = response.model_dump(mode="json")
    data.pop("id")
    for item in data["output"]:
        for name in ("id", "call_id", "parsed_arguments"):
            item.pop(name, None)
    return data


def test_r1_r3_a_text_answer(mock: Mock) -> None:
    response = mock.sdk.responses.create(model="pokee-isaac", input="What is a spring tide?")
    assert response.status == "completed"
    assert response.id.startswith("resp_")
    assert response.model == "pokee-isaac"
    assert (
        response.output_text == "Here is a quick answer from mock-pokee to: What is a spring tide?"
    )
    assert response.usage is not None
    assert response.usage.total_tokens == response.usage.input_tokens + response.usage.output_tokens


def test_r3_r4_r8_a_tool_call_then_the_answer_quoting_its_output(mock: Mock) -> None:
    history: list[Any] = [{"role": "user", "content": ASK}]
    first = mock.sdk.responses.create(input=history, tools=[STOCK, WEATHER])
    call = the_call(first)
    assert call.name == "get_weather"
    arguments = json.loads(call.arguments)
    assert isinstance(arguments["city"], str)
    assert len(arguments["city"]) >= 2
    assert 3 <= arguments["days"] <= 7
    history += [
        {
            "type": "function_call",
            "call_id": call.call_id,
            "name": call.name,
            "arguments": call.arguments,
        },
        {"type": "function_call_output", "call_id": call.call_id, "output": "21 °C and sunny"},
    ]
    second = mock.sdk.responses.create(input=history, tools=[STOCK, WEATHER])
    assert [item.type for item in second.output] == ["message"]
    assert "21 °C and sunny" in second.output_text


def test_r2_r4_the_output_items_go_back_as_they_came(mock: Mock) -> None:
    """OpenAI's guides append ``response.output`` to the history as it is."""
    first = mock.sdk.responses.create(
        input=ASK,
        tools=[WEATHER],
        reasoning={"effort": "low"},
    )
    call = the_call(first)
    history: list[Any] = [{"role": "user", "content": ASK}]
    history += [item.model_dump(exclude_none=True) for item in first.output]
    history.append({"type": "function_call_output", "call_id": call.call_id, "output": "rain"})
    second = mock.sdk.responses.create(input=history, tools=[WEATHER])
    assert "rain" in second.output_text


def test_r3_reasoning_comes_first(mock: Mock) -> None:
    response = mock.sdk.responses.create(
        input="Why is the sea salty?", reasoning={"effort": "high"}
    )
    assert [item.type for item in response.output] == ["reasoning", "message"]
    reasoning = response.output[0]
    assert reasoning.type == "reasoning"
    assert reasoning.summary[0].text.startswith("The request is about")
    assert response.usage is not None
    assert response.usage.output_tokens_details.reasoning_tokens > 0


def test_r5_the_sdks_stream_assembles_the_json_answer(mock: Mock) -> None:
    request: dict[str, Any] = {
        "model": "pokee-isaac-high-reasoning",  # the SDK's stream() insists on one
        "input": ASK,
        "tools": [WEATHER],
        "reasoning": {"effort": "medium"},
        "instructions": "Be brief.",
    }
    deltas: list[str] = []
    with mock.sdk.responses.stream(**request) as stream:
        for event in stream:
            if event.type == "response.function_call_arguments.delta":
                deltas.append(event.delta)
        final = stream.get_final_response()
    answer = mock.sdk.responses.create(**request)
    assert comparable(final) == comparable(answer)
    assert "".join(deltas) == the_call(final).arguments


def test_r5_a_text_stream_with_create_stream_true(mock: Mock) -> None:
    events = list(mock.sdk.responses.create(input="Tell me about neap tides", stream=True))
    assert events[0].type == "response.created"
    assert events[-1].type == "response.completed"
    assert [event.sequence_number for event in events] == list(range(len(events)))
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert text == events[-1].response.output_text


def test_r1_a_bad_request_is_bad_request_error_naming_the_place(mock: Mock) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        mock.sdk.responses.create(
            input=[{"type": "function_call_output", "call_id": "call_nowhere", "output": "x"}]
        )
    assert refused.value.status_code == 400
    assert refused.value.body == "invalid_request"  # the SDK keeps A5's ``error`` field
    message = refused.value.response.json()["message"]
    assert message.startswith("input[0].call_id: no function_call with call_id 'call_nowhere'")
    with pytest.raises(openai.BadRequestError) as stateful:
        mock.sdk.responses.create(input="hi", previous_response_id="resp_0123")
    assert "is stateless" in stateful.value.response.json()["message"]


def test_u2_r7_hard_credits_below_the_minimum_are_402(mock: Mock) -> None:
    mock.tenant.http.put("/_mock/credits", json={"mode": "hard", "balance": 0.5}).raise_for_status()
    with pytest.raises(openai.APIStatusError) as refused:
        mock.sdk.responses.create(input="hi")
    assert refused.value.status_code == 402
    assert refused.value.body == "payment_required"


def test_r7_a_full_window_is_rate_limit_error_with_retry_after(mock: Mock) -> None:
    mock.tenant.faults.add(
        {"type": "status", "status": 429, "retry_after": 7},
        match={"path": "/v1/responses"},
        schedule={"times": 1},
    )
    with pytest.raises(openai.RateLimitError) as refused:
        mock.sdk.responses.create(input="hi")
    assert refused.value.response.headers["Retry-After"] == "7"
    assert mock.sdk.responses.create(input="hi").status == "completed"


def test_r7_the_response_windows_limit_is_rate_limit_error_until_it_has_room() -> None:
    """R7 with U1: past the hour's calls, 429 with the seconds until the oldest call
    leaves the window; session turns are counted apart and still start."""
    with (
        MockServer(clock_mode="virtual", limits=Limits(turns_per_hour=2)) as server,
        server.tenant() as tenant,
        OpenAI(base_url=server.url + "/v1", api_key=str(tenant.key), max_retries=0) as sdk,
    ):
        sdk.responses.create(input="one")
        tenant.clock.advance(600)
        sdk.responses.create(input="two")
        with pytest.raises(openai.RateLimitError) as refused:
            sdk.responses.create(input="three")
        assert refused.value.response.headers["Retry-After"] == "3000"
        sid = tenant.http.post("/v1/sessions", json={}).json()["id"]
        turn = tenant.http.post(f"/v1/sessions/{sid}/messages", json={"message": "hi"})
        assert turn.status_code == 200
        tenant.clock.advance(3000)
        assert sdk.responses.create(input="four").status == "completed"


def test_r8_a_scripted_conversation_over_two_calls_on_the_clock(mock: Mock) -> None:
    """A response scenario (D with R8): the first call ends at its function call; the
    second, carrying the output, runs on after it: a 30 s pause on the autojump clock (no
    real wait) and its text quoting the output, with the tokens it gives."""
    tools: list[Any] = [WEATHER]
    ask = "What is the forecast?"
    first = mock.sdk.responses.create(input=ask, tools=tools, reasoning={"effort": "low"})
    assert [item.type for item in first.output] == ["reasoning", "function_call"]
    call = the_call(first)
    assert json.loads(call.arguments) == {"city": "Bergen", "days": 4}
    before = mock.tenant.clock.now
    history: list[Any] = [
        {"role": "user", "content": ask},
        {
            "type": "function_call",
            "call_id": call.call_id,
            "name": call.name,
            "arguments": call.arguments,
        },
        {"type": "function_call_output", "call_id": call.call_id, "output": "sunny"},
    ]
    second = mock.sdk.responses.create(input=history, tools=tools)
    assert second.output_text == "It will be sunny in Bergen."
    assert mock.tenant.clock.now >= before + 30
    assert second.usage is not None
    assert (second.usage.input_tokens, second.usage.output_tokens) == (1200, 300)


def test_c6_a_forced_scenario_that_fails_is_a_failed_response(mock: Mock) -> None:
    with mock.sdk.responses.stream(
        model="pokee-isaac", input="hi", extra_headers={"X-Mock-Scenario": "turn-error"}
    ) as stream:
        types = [event.type for event in stream]
    assert types[-1] == "response.failed"
