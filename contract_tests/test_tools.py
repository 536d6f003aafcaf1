"""Session tools (S1b) and client tool calls (M12), over real sockets.

The calls come from the mock's ``client-tool`` and ``parallel-tool-calls`` scenarios, so
the turn tests are ``mock_only``; the payload shapes of M12 are [C], so they are
``inferred`` too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from .checks import advance, assert_error, create, created, freeze, session_ids
from .sse import Follower
from .target import Target, client_for

WEATHER: dict[str, object] = {
    "type": "function",
    "name": "get_weather",
    "description": "The current weather in a city.",
    "parameters": {
        "type": "object",
        "properties": {
            "city": {"type": "string", "minLength": 2},
            "days": {"type": "integer", "minimum": 3, "maximum": 7},
            "units": {"type": "string", "enum": ["metric", "imperial"]},
        },
        "required": ["city"],
    },
}
CLOCK: dict[str, object] = {
    "type": "function",
    "name": "get_time",
    "description": "The local time in a time zone.",
    "parameters": {"type": "object", "properties": {"zone": {"type": "string"}}},
}
ASK = "What's the weather in Oslo this week?"
TOOL_RESULT_TIMEOUT = 600  # M12: ten minutes of clock time


def tool(name: str = "t", **fields: object) -> dict[str, object]:
    return {"type": "function", "name": name, "parameters": {"type": "object"}, **fields}


@pytest.fixture
def streams(target: Target, key: str) -> Iterator[list[Follower]]:
    """Followers opened by a test, each on its own connection; all closed at the end."""
    opened: list[Follower] = []
    yield opened
    for follower in opened:
        follower.close()


def follow(
    streams: list[Follower],
    target: Target,
    key: str,
    method: str,
    path: str,
    **kwargs: Any,
) -> Follower:
    follower = Follower(client_for(target, key), method, path, **kwargs)
    streams.append(follower)
    return follower


def start(
    streams: list[Follower],
    target: Target,
    key: str,
    sid: str,
    message: str = ASK,
    scenario: str | None = None,
) -> Follower:
    """M1: post a message and follow its stream."""
    headers = {"X-Mock-Scenario": scenario} if scenario else {}
    return follow(
        streams,
        target,
        key,
        "POST",
        f"/v1/sessions/{sid}/messages",
        json={"message": message},
        headers=headers,
    )


def answer(api: httpx.Client, sid: str, *results: tuple[str, str]) -> httpx.Response:
    body = {"results": [{"call_id": call_id, "output": output} for call_id, output in results]}
    return api.post(f"/v1/sessions/{sid}/tool_results", json=body)


def session_with_tools(api: httpx.Client, *tools: dict[str, object]) -> str:
    return str(create(api, persistent=True, tools=list(tools or [WEATHER]))["id"])


@pytest.mark.mock_only
@pytest.mark.inferred
def test_m12_a_client_tool_round_trip(
    api: httpx.Client, target: Target, key: str, streams: list[Follower]
) -> None:
    """M12 and D client-tool: a message that asks for what a tool does gets a
    tool_call.requested with arguments fitting its parameters; the session stays busy;
    the result is accepted (202), appears as tool_result, and the answer uses it."""
    sid = session_with_tools(api, CLOCK, WEATHER)
    live = start(streams, target, key, sid)
    (requested,) = live.wait_for("tool_call.requested")
    call = requested.data
    assert re.fullmatch(r"call_[0-9a-f]{24}", call["call_id"])
    assert call["name"] == "get_weather"
    arguments = json.loads(call["arguments"])
    assert isinstance(arguments["city"], str)
    assert len(arguments["city"]) >= 2
    assert 3 <= arguments["days"] <= 7
    assert arguments["units"] == "metric"
    assert api.get(f"/v1/sessions/{sid}").json()["busy"] is True

    response = answer(api, sid, (call["call_id"], "Sunny, 21 °C"))
    assert response.status_code == 202, response.text
    assert response.json() == {"accepted": 1}

    live.finish()
    after = live.types[live.types.index("tool_call.requested") + 1 :]
    assert after[0] == "tool_result"
    result = live.of("tool_result")[0].data
    assert result == {
        "id": call["call_id"],
        "content": "Sunny, 21 °C",
        "is_error": False,
        "sequence_number": result["sequence_number"],
    }
    text = "".join(f.data["content"] for f in live.of("text.delta"))
    assert "Sunny, 21 °C" in text
    assert live.types[-1] == "message.completed"
    assert api.get(f"/v1/sessions/{sid}").json()["busy"] is False


@pytest.mark.mock_only
@pytest.mark.inferred
def test_m12_forced_client_tool_calls_the_first_tool_when_none_is_asked_for(
    api: httpx.Client, target: Target, key: str, streams: list[Follower]
) -> None:
    """C6/D: X-Mock-Scenario: client-tool on any message; with no tool asked for, the
    session's first tool is called."""
    sid = session_with_tools(api, CLOCK, WEATHER)
    live = start(streams, target, key, sid, "hello", scenario="client-tool")
    (requested,) = live.wait_for("tool_call.requested")
    assert requested.data["name"] == "get_time"
    assert json.loads(requested.data["arguments"]) == {"zone": "sample zone"}
    assert answer(api, sid, (requested.data["call_id"], "09:30")).status_code == 202
    assert live.finish().types[-1] == "message.completed"


@pytest.mark.mock_only
def test_d_a_session_without_matching_tools_runs_the_usual_scenario(api: httpx.Client) -> None:
    """D: client-tool is chosen only when a session tool fits the message."""
    sid = session_with_tools(api, WEATHER)
    api.post(f"/v1/sessions/{sid}/messages", json={"message": "hello there"}).read()
    tools_less = str(create(api)["id"])
    api.post(f"/v1/sessions/{tools_less}/messages", json={"message": ASK}).read()
    state = api.get("/_mock/state").json()
    assert [t["scenario"] for t in state["turns"]] == ["quick-answer", "quick-answer"]


@pytest.mark.mock_only
@pytest.mark.inferred
@pytest.mark.parametrize("together", [True, False], ids=["one-request", "two-requests"])
def test_m12_two_pending_calls(
    api: httpx.Client, target: Target, key: str, streams: list[Follower], together: bool
) -> None:
    """M12 [C]: two calls pending at once; the turn goes on only when both are answered,
    whether in one request or in two, and each result becomes a tool_result."""
    sid = session_with_tools(api, CLOCK, WEATHER)
    live = start(streams, target, key, sid, scenario="parallel-tool-calls")
    first, second = (f.data for f in live.wait_for("tool_call.requested", 2))
    assert (first["name"], second["name"]) == ("get_time", "get_weather")
    assert first["call_id"] != second["call_id"]
    if together:
        response = answer(api, sid, (first["call_id"], "09:30"), (second["call_id"], "rain"))
        assert response.json() == {"accepted": 2}
    else:
        assert answer(api, sid, (second["call_id"], "rain")).json() == {"accepted": 1}
        live.wait_for("tool_result")
        assert api.get(f"/v1/sessions/{sid}").json()["busy"] is True
        assert "text.start" not in live.types
        again = answer(api, sid, (second["call_id"], "rain again"))
        assert_error(again, 400, "invalid_request", second["call_id"], "already answered")
        assert answer(api, sid, (first["call_id"], "09:30")).json() == {"accepted": 1}
    live.finish()
    results = [f.data["id"] for f in live.of("tool_result")]
    assert sorted(results) == sorted([first["call_id"], second["call_id"]])
    text = "".join(f.data["content"] for f in live.of("text.delta"))
    assert "09:30\nrain" in text  # outputs in the order the calls were requested
    assert live.types[-1] == "message.completed"


@pytest.mark.mock_only
@pytest.mark.inferred
def test_m12_an_unknown_call_id_is_400_and_changes_nothing(
    api: httpx.Client, target: Target, key: str, streams: list[Follower]
) -> None:
    """M12 [C]: an unknown call_id → 400 naming it; a request that mixes it with a real
    one records neither; the real call can still be answered."""
    sid = session_with_tools(api)
    live = start(streams, target, key, sid)
    call_id = live.wait_for("tool_call.requested")[0].data["call_id"]
    unknown = "call_" + "0" * 24
    assert_error(answer(api, sid, (unknown, "x")), 400, "invalid_request", unknown)
    mixed = answer(api, sid, (call_id, "real"), (unknown, "x"))
    assert_error(mixed, 400, "invalid_request", unknown)
    twice = answer(api, sid, (call_id, "a"), (call_id, "b"))
    assert_error(twice, 400, "invalid_request", call_id, "twice")
    assert live.of("tool_result") == []
    assert answer(api, sid, (call_id, "real")).json() == {"accepted": 1}
    assert live.finish().of("tool_result")[0].data["content"] == "real"


@pytest.mark.inferred
def test_m12_no_pending_call_is_409(api: httpx.Client) -> None:
    """M12 [C]: results for a session with no call waiting → 409 no_pending_tool_call."""
    sid = session_with_tools(api)
    response = answer(api, sid, ("call_" + "1" * 24, "x"))
    assert_error(response, 409, "no_pending_tool_call", sid)


def test_m12_an_unknown_session_is_404(api: httpx.Client) -> None:
    response = answer(api, "sess_000000000000", ("call_" + "1" * 24, "x"))
    assert_error(response, 404, "not_found", "sess_000000000000")


@pytest.mark.mock_only
@pytest.mark.inferred
def test_m12_no_answer_in_ten_minutes_ends_the_turn(
    api: httpx.Client, control: httpx.Client, target: Target, key: str, streams: list[Follower]
) -> None:
    """M12 [C]: no result within 10 minutes of clock time → message.error
    tool_result_timeout; the session is idle and usable, the call no longer pending."""
    freeze(control)
    sid = session_with_tools(api)
    live = start(streams, target, key, sid)
    call_id = live.wait_for("tool_call.requested")[0].data["call_id"]
    advance(control, TOOL_RESULT_TIMEOUT - 0.001)
    assert api.get(f"/v1/sessions/{sid}").json()["busy"] is True
    advance(control, 0.001)
    live.finish()
    assert live.types[-1] == "message.error"
    assert live.frames[-1].data["error"] == "tool_result_timeout"
    assert api.get(f"/v1/sessions/{sid}").json()["busy"] is False
    assert_error(answer(api, sid, (call_id, "late")), 409, "no_pending_tool_call")


@pytest.mark.mock_only
@pytest.mark.inferred
def test_m12_cancel_while_waiting(
    api: httpx.Client, target: Target, key: str, streams: list[Follower]
) -> None:
    """M12/M8: cancel works while a call is pending; afterwards nothing is pending."""
    sid = session_with_tools(api)
    live = start(streams, target, key, sid)
    call_id = live.wait_for("tool_call.requested")[0].data["call_id"]
    rid = live.headers["x-response-id"]
    cancelled = api.post(f"/v1/sessions/{sid}/responses/{rid}/cancel")
    assert cancelled.status_code == 202
    assert live.finish().types[-1] == "message.cancelled"
    assert api.get(f"/v1/sessions/{sid}").json()["busy"] is False
    assert_error(answer(api, sid, (call_id, "late")), 409, "no_pending_tool_call")


@pytest.mark.mock_only
@pytest.mark.inferred
def test_m12_pings_go_on_and_a_dropped_stream_resumes_while_waiting(
    api: httpx.Client,
    control: httpx.Client,
    target: Target,
    key: str,
    streams: list[Follower],
) -> None:
    """M12 with M3 and M7: while a call waits, pings go on (15 s of clock time each); the
    client can drop, resume after the request, answer, and read the rest."""
    freeze(control)
    sid = session_with_tools(api)
    live = start(streams, target, key, sid)
    requested = live.wait_for("tool_call.requested")[0]
    advance(control, 31)
    live.wait_for_pings(2)
    live.close()
    assert api.get(f"/v1/sessions/{sid}").json()["busy"] is True
    rid = live.headers["x-response-id"]
    resumed = follow(
        streams,
        target,
        key,
        "GET",
        f"/v1/sessions/{sid}/responses/{rid}/events",
        headers={"Last-Event-ID": str(requested.seq)},
    )
    assert answer(api, sid, (requested.data["call_id"], "cloudy")).status_code == 202
    resumed.finish()
    assert resumed.frames[0].seq == requested.seq + 1
    assert resumed.types[0] == "tool_result"
    assert resumed.types[-1] == "message.completed"


@pytest.mark.mock_only
@pytest.mark.inferred
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "results"),
        ({"results": []}, "results"),
        ({"results": "x"}, "results"),
        ({"results": [{"call_id": "CALL"}]}, "results.0.output"),
        ({"results": [{"output": "x"}]}, "results.0.call_id"),
        ({"results": [{"call_id": "CALL", "output": 5}]}, "results.0.output"),
        ({"results": [{"call_id": 5, "output": "x"}]}, "results.0.call_id"),
        ({"results": [{"call_id": "CALL", "output": "x", "is_error": True}]}, "is_error"),
        ({"results": [{"call_id": "CALL", "output": "\ud800"}]}, "results.0.output"),
        ({"results": [{"call_id": "CALL", "output": "x"}], "extra": 1}, "extra"),
    ],
)
def test_m12_malformed_tool_results_are_400_and_change_nothing(
    api: httpx.Client,
    target: Target,
    key: str,
    streams: list[Follower],
    body: dict[str, Any],
    field: str,
) -> None:
    """M12 with A5/A8: a malformed body → 400 naming the field; the call stays pending."""
    sid = session_with_tools(api)
    live = start(streams, target, key, sid)
    call_id = live.wait_for("tool_call.requested")[0].data["call_id"]
    text = json.dumps(body).replace("CALL", call_id)
    response = api.post(f"/v1/sessions/{sid}/tool_results", content=text.encode())
    assert_error(response, 400, "invalid_request", field)
    assert live.of("tool_result") == []
    assert answer(api, sid, (call_id, "ok")).json() == {"accepted": 1}
    live.finish()


def nested(levels: int) -> dict[str, object]:
    """An object schema with ``levels`` levels of properties (two JSON containers each)."""
    schema: dict[str, object] = {"type": "object"}
    for _ in range(levels):
        schema = {"type": "object", "properties": {"x": schema}}
    return schema


@pytest.mark.inferred
@pytest.mark.parametrize(
    ("tools", "mentions"),
    [
        ({"name": "x"}, ["tools", "list"]),
        (["get_weather"], ["tools[0]", "object"]),
        ([{"name": "t", "parameters": {"type": "object"}}], ["tools[0] (t)", "type"]),
        ([tool(type="tool")], ["tools[0] (t)", "type"]),
        ([{"type": "function", "parameters": {"type": "object"}}], ["tools[0]", "name"]),
        ([tool("get weather")], ["tools[0]", "name", "get weather"]),
        ([tool("x" * 65)], ["tools[0]", "name"]),
        ([tool("ok"), tool("a"), tool("ok")], ["tools[2] (ok)", "name", "twice"]),
        ([tool(description=5)], ["tools[0] (t)", "description"]),
        ([tool(description="é" * 8193)], ["tools[0] (t)", "description", "16 KiB"]),
        ([tool(description="\ud800")], ["tools.0.description", "lone surrogate"]),
        ([tool(strict="yes")], ["tools[0] (t)", "strict"]),
        ([tool(color="red")], ["tools[0] (t)", "color"]),
        ([{"type": "function", "name": "t"}], ["tools[0] (t)", "parameters"]),
        ([tool(parameters="{}")], ["tools[0] (t)", "parameters"]),
        ([tool(parameters={"type": "array"})], ["tools[0] (t)", "parameters", "type"]),
        ([tool(parameters={"type": "object", "properties": []})], ["(t)", "properties"]),
        ([tool(parameters={"type": "object", "properties": {"a": 1}})], ["(t)", "properties"]),
        ([tool(parameters={"type": "object", "required": "a"})], ["(t)", "required"]),
        ([tool(parameters=nested(20))], ["tools[0] (t)", "parameters", "deeper"]),
        ([tool(parameters={"type": "object", "\ud800": 1})], ["tools.0.parameters", "surrogate"]),
        ([tool(f"t{n}") for n in range(129)], ["tools", "129", "128"]),
    ],
)
def test_s1b_malformed_tools_are_400_naming_the_tool_and_field(
    api: httpx.Client, tools: object, mentions: list[str]
) -> None:
    """S1b [C]: every malformed or oversize tool definition → 400 naming the tool and the
    field; no session is created (the tenant lists the same sessions as before)."""
    before = session_ids(api)
    body = json.dumps({"tools": tools}).encode()  # lone surrogates as JSON escapes
    response = api.post("/v1/sessions", content=body)
    assert_error(response, 400, "invalid_request", *mentions)
    assert session_ids(api) == before


@pytest.mark.inferred
def test_s1b_the_limits_themselves_are_accepted(api: httpx.Client) -> None:
    """S1b [C]: a session takes the limits the docs give for a request (128 tools,
    64-character names, 16 KiB descriptions), and strict and nested parameters."""
    tools = [tool(f"t{n:03d}" + "x" * 60, description="é" * 8192) for n in range(128)]
    tools[0] = tool("t" * 64, strict=True, parameters=nested(15))
    body = json.dumps({"tools": tools[:40]}, ensure_ascii=False)  # 40 × 16 KiB < 1 MiB
    created(api, api.post("/v1/sessions", content=body.encode()))
    small = [tool(f"t{n}") for n in range(128)]
    created(api, api.post("/v1/sessions", json={"tools": small}))


@pytest.mark.mock_only
@pytest.mark.inferred
def test_m12_a_result_shaped_as_openais_function_call_output_item_is_accepted(
    api: httpx.Client, target: Target, key: str, streams: list[Follower]
) -> None:
    """M12 [C]: an item may carry ``"type": "function_call_output"`` (OpenAI's shape);
    any other type is refused naming the field."""
    sid = session_with_tools(api)
    live = start(streams, target, key, sid)
    call_id = live.wait_for("tool_call.requested")[0].data["call_id"]
    url = f"/v1/sessions/{sid}/tool_results"
    wrong = {"results": [{"type": "message", "call_id": call_id, "output": "x"}]}
    assert_error(api.post(url, json=wrong), 400, "invalid_request", "type")
    item = {"type": "function_call_output", "call_id": call_id, "output": "sunny"}
    assert api.post(url, json={"results": [item]}).json() == {"accepted": 1}
    assert live.finish().of("tool_result")[0].data["content"] == "sunny"
