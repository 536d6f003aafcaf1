"""Client tools without HTTP: arguments generated to fit a schema (D), and a turn that
waits for its results on the virtual clock (M12)."""

from __future__ import annotations

import asyncio
import json
import re
import tempfile
from pathlib import Path
from typing import Any

import pytest

from mock_pokee.clock import Clock
from mock_pokee.domain.errors import InvalidRequest, NoPendingToolCall
from mock_pokee.domain.sessions import SessionSpec
from mock_pokee.domain.tenants import Tenant, TenantRules
from mock_pokee.domain.toolcalls import TOOL_RESULT_TIMEOUT, ToolResult
from mock_pokee.domain.tools import parse_tools
from mock_pokee.domain.workspace import Workspace
from mock_pokee.scenarios.arguments import arguments_for
from mock_pokee.scenarios.loader import ScenarioBook, ScenarioFileError, load_file
from mock_pokee.scenarios.runner import ScenarioRun

T0 = 1_800_000_000.0


@pytest.mark.parametrize(
    ("schema", "arguments"),
    [
        ({"type": "object"}, {}),
        ({"type": "object", "properties": {"q": {"type": "string"}}}, {"q": "sample q"}),
        (
            {"type": "object", "properties": {"n": {"type": "integer", "minimum": 5}}},
            {"n": 5},
        ),
        (
            {"type": "object", "properties": {"n": {"type": "integer", "exclusiveMaximum": 0}}},
            {"n": -1},
        ),
        (
            {"type": "object", "properties": {"x": {"type": "number", "minimum": 2, "maximum": 3}}},
            {"x": 2.5},
        ),
        ({"type": "object", "properties": {"u": {"enum": ["c", "f"]}}}, {"u": "c"}),
        ({"type": "object", "properties": {"k": {"const": 7}}}, {"k": 7}),
        ({"type": "object", "properties": {"b": {"type": "boolean"}}}, {"b": True}),
        ({"type": "object", "properties": {"z": {"type": ["null", "integer"]}}}, {"z": 1}),
        (
            {"type": "object", "properties": {"d": {"type": "string", "format": "date"}}},
            {"d": "2026-01-15"},
        ),
        (
            {"type": "object", "properties": {"s": {"type": "string", "maxLength": 3}}},
            {"s": "sam"},
        ),
        (
            {"type": "object", "properties": {"s": {"type": "string", "minLength": 12}}},
            {"s": "sample sxxxx"},
        ),
        (
            {
                "type": "object",
                "properties": {
                    "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2}
                },
            },
            {"tags": ["sample tags", "sample tags"]},
        ),
        (
            {"type": "object", "properties": {"o": {"anyOf": [{"type": "integer"}, {}]}}},
            {"o": 1},
        ),
        ({"type": "object", "properties": {"any": True}}, {"any": "sample any"}),
    ],
)
def test_d_arguments_fit_the_parameters_schema(
    schema: dict[str, Any], arguments: dict[str, Any]
) -> None:
    assert arguments_for(schema) == arguments


def test_d_arguments_stay_small_however_deep_the_schema() -> None:
    schema: dict[str, Any] = {"type": "object"}
    for _ in range(30):
        schema = {"type": "object", "properties": {"x": schema}}
    assert len(json.dumps(arguments_for(schema))) < 200


def tenant() -> Tenant:
    unused = Workspace(Path(tempfile.gettempdir()) / "mock-pokee-unit-never-written")
    return Tenant("t", Clock("virtual", now=T0), TenantRules(), unused)


WEATHER: dict[str, Any] = {
    "type": "function",
    "name": "get_weather",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
}


async def started(t: Tenant, scenario: str = "client-tool") -> tuple[str, Any]:
    """A session with the weather tool, its client-tool turn waiting for a result."""
    book = ScenarioBook.load()
    session = t.create_session(SessionSpec(persistent=True, tools=[WEATHER]))
    chosen = book.choose("weather?", scenario, session.tools)
    start = t.start_turn(session.id, "weather?", chosen.name, lambda e: ScenarioRun(chosen, e))
    await t.clock.advance(0)  # the turn runs up to its wait on the clock
    return session.id, start.run


def events(turn: Any) -> list[dict[str, Any]]:
    return [{"type": e.type, **json.loads(e.data)} for e in turn.log.events]


def test_m12_a_turn_waits_for_its_result_then_uses_it() -> None:
    async def go() -> list[dict[str, Any]]:
        t = tenant()
        sid, turn = await started(t)
        (call,) = [e for e in events(turn) if e["type"] == "tool_call.requested"]
        assert json.loads(call["arguments"]) == {"city": "sample city"}
        assert turn.running
        assert t.answer_tool_calls(sid, [ToolResult(call["call_id"], "sunny")]) == 1
        await t.clock.advance(0)
        return events(turn)

    log = asyncio.run(go())
    assert log[-1]["type"] == "message.completed"
    assert "sunny" in "".join(e.get("content", "") for e in log if e["type"] == "text.delta")


def test_m12_the_wait_is_ten_minutes_of_clock_time() -> None:
    async def go() -> list[dict[str, Any]]:
        t = tenant()
        sid, turn = await started(t)
        await t.clock.advance(TOOL_RESULT_TIMEOUT - 0.001)
        assert turn.running
        await t.clock.advance(0.001)
        assert not turn.running
        with pytest.raises(NoPendingToolCall) as refused:
            t.answer_tool_calls(sid, [ToolResult("call_x", "late")])
        assert refused.value.message == f"session {sid}: no tool call is waiting for a result"
        return events(turn)

    last = asyncio.run(go())[-1]
    assert (last["type"], last["error"]) == ("message.error", "tool_result_timeout")


def test_m12_an_answer_is_all_or_nothing() -> None:
    async def go() -> None:
        t = tenant()
        sid, turn = await started(t, "parallel-tool-calls")
        first, second = (e["call_id"] for e in events(turn) if "call_id" in e)
        with pytest.raises(InvalidRequest, match="call_nope"):
            t.answer_tool_calls(sid, [ToolResult(first, "a"), ToolResult("call_nope", "b")])
        assert [e for e in events(turn) if e["type"] == "tool_result"] == []
        t.answer_tool_calls(sid, [ToolResult(first, "a")])
        with pytest.raises(InvalidRequest, match="already answered"):
            t.answer_tool_calls(sid, [ToolResult(first, "a")])
        t.answer_tool_calls(sid, [ToolResult(second, "b")])
        await t.clock.advance(0)
        assert events(turn)[-1]["type"] == "message.completed"

    asyncio.run(go())


def test_m12_a_scenario_naming_a_tool_the_session_lacks_ends_with_an_error() -> None:
    async def go() -> str:
        t = tenant()
        book = ScenarioBook.load()
        session = t.create_session(SessionSpec(persistent=True))
        chosen = book.choose("x", "client-tool")
        start = t.start_turn(session.id, "x", chosen.name, lambda e: ScenarioRun(chosen, e))
        await t.clock.advance(0)
        return str(events(start.run)[-1]["error"])

    assert asyncio.run(go()) == "client_tool_unavailable: the session has no tools"


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("  - client_tool: 'get weather'\n", "step 1 (client_tool): 0.tool"),
        ("  - client_tool: []\n", "step 1 (client_tool)"),
        ("  - client_tool: {tool: $first, args: {}}\n", "step 1 (client_tool): 0.args"),
        ("  - client_tool: {tool: $first, arguments: [1]}\n", "0.arguments"),
        ("  - text: '{tool_outputs}'\n", "unknown template field"),
    ],
)
def test_d_a_bad_client_tool_step_is_refused_at_load(
    tmp_path: Path, text: str, complaint: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: bad\nsteps:\n" + text)
    with pytest.raises(ScenarioFileError, match=re.escape(complaint)):
        load_file(path)


@pytest.mark.parametrize(
    ("tool", "named"),
    [
        ({"description": "\ud800"}, "description: not valid Unicode"),
        ({"parameters": {"type": "object", "title": "\udfff"}}, "parameters: not valid Unicode"),
        (
            {"parameters": {"type": "object", "properties": {"\ud800": {}}}},
            r"not valid Unicode \(a lone surrogate in a key\)",
        ),
    ],
)
def test_s1b_a_tool_holding_a_lone_surrogate_is_refused_without_http(
    tool: dict[str, Any], named: str
) -> None:
    """S1b: what a session stores must be servable, also when a test makes the session
    in Python (no JSON parser in between to refuse the surrogate first)."""
    given = {"type": "function", "name": "lookup", "parameters": {"type": "object"}, **tool}
    with pytest.raises(InvalidRequest, match=named):
        parse_tools([given])


def test_s1b_parameters_of_another_type_are_refused_naming_that_type() -> None:
    given = {"type": "function", "name": "lookup", "parameters": {"type": "array"}}
    with pytest.raises(InvalidRequest, match=r'parameters: type: must be "object", not .*array'):
        parse_tools([given])


def test_s1b_a_tool_of_another_type_is_refused_naming_that_type() -> None:
    given = {"type": "tool", "name": "lookup", "parameters": {"type": "object"}}
    with pytest.raises(InvalidRequest, match=r'type: must be "function", not .tool.$'):
        parse_tools([given])
