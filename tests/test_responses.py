"""A response without HTTP (contract R3, R5, R8): the events a run appends in OpenAI's
order and shapes, the object its terminal event carries, its token counts, and how a
script's steps become its output."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import Any

import pytest

from mock_pokee.clock import Clock
from mock_pokee.domain import openai_events as shapes
from mock_pokee.domain.errors import InvalidRequest
from mock_pokee.domain.models import ModelCatalog
from mock_pokee.domain.response_input import ResponseRequest, parse_request
from mock_pokee.domain.responses import ResponseRun
from mock_pokee.limits import MAX_QUOTED
from mock_pokee.scenarios.responder import ARGUMENT_CHUNK, ResponseScript
from mock_pokee.scenarios.runner import Template
from mock_pokee.scenarios.schema import (
    ClientCall,
    ClientToolStep,
    DropStep,
    FailStep,
    PauseStep,
    Step,
    Streamed,
    TextStep,
    ThinkStep,
    Usage,
    UsageStep,
)

T0 = 1_800_000_000.75
WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Forecast for one city.",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}


def request(**fields: Any) -> ResponseRequest:
    return parse_request({"input": "hi", **fields}, ModelCatalog())


def text(content: str, chunk: int = 4) -> TextStep:
    return TextStep(text=Streamed(content=content, chunk=chunk))


def think(content: str, chunk: int = 4) -> ThinkStep:
    return ThinkStep(think=Streamed(content=content, chunk=chunk))


class Ran:
    """A finished run, its events' types and data, and how often it ended."""

    def __init__(self, run: ResponseRun, ended: list[ResponseRun]):
        self.run = run
        self.ended = ended
        self.types = [event.type for event in run.log.events]
        self.data = [json.loads(event.data) for event in run.log.events]

    def of(self, type_: str) -> list[dict[str, Any]]:
        return [data for data in self.data if data["type"] == type_]


def new_run(call: ResponseRequest, clock: Clock, ended: list[ResponseRun]) -> ResponseRun:
    return ResponseRun(request=call, scenario="s", clock=clock, on_end=ended.append)


def run_steps(steps: Sequence[Step], call: ResponseRequest | None = None) -> Ran:
    async def go() -> Ran:
        clock = Clock("virtual", now=T0)
        ended: list[ResponseRun] = []
        run = new_run(call or request(), clock, ended)
        run.start(ResponseScript(steps))
        await asyncio.wait_for(run.log.until_closed(), 5)
        return Ran(run, ended)

    return asyncio.run(go())


# -- R5: the events, in order ------------------------------------------------------------


def test_r5_a_text_answer_in_openais_order_and_shapes() -> None:
    ran = run_steps([text("Hello there!")])
    assert ran.types == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert [data["sequence_number"] for data in ran.data] == list(range(len(ran.types)))
    assert [data["type"] for data in ran.data] == ran.types
    run = ran.run
    created, in_progress, added, part_added, *deltas = ran.data[:7]
    assert created["id"] == run.id == created["response"]["id"]
    assert created["response"]["status"] == "in_progress"
    assert created["response"]["usage"] is None
    assert created["response"]["output"] == []
    assert created["response"]["created_at"] == int(T0)
    assert in_progress["response"] == created["response"]
    item_id = added["item"]["id"]
    assert item_id.startswith("msg_")
    assert len(item_id) == 28
    assert added == {
        "type": "response.output_item.added",
        "output_index": 0,
        "item": {
            "type": "message",
            "id": item_id,
            "role": "assistant",
            "status": "in_progress",
            "content": [],
        },
        "sequence_number": 2,
    }
    assert part_added == {
        "type": "response.content_part.added",
        "item_id": item_id,
        "output_index": 0,
        "content_index": 0,
        "part": {"type": "output_text", "text": "", "annotations": []},
        "sequence_number": 3,
    }
    assert deltas[0] == {
        "type": "response.output_text.delta",
        "item_id": item_id,
        "output_index": 0,
        "content_index": 0,
        "delta": "Hell",
        "logprobs": [],
        "sequence_number": 4,
    }
    assert [d["delta"] for d in ran.of("response.output_text.delta")] == ["Hell", "o th", "ere!"]
    (text_done,) = ran.of("response.output_text.done")
    assert text_done == {
        "type": "response.output_text.done",
        "item_id": item_id,
        "output_index": 0,
        "content_index": 0,
        "text": "Hello there!",
        "logprobs": [],
        "sequence_number": 7,
    }
    (part_done,) = ran.of("response.content_part.done")
    assert part_done["part"] == {"type": "output_text", "text": "Hello there!", "annotations": []}
    assert (part_done["item_id"], part_done["output_index"], part_done["content_index"]) == (
        item_id,
        0,
        0,
    )
    message = {
        "type": "message",
        "id": item_id,
        "role": "assistant",
        "status": "completed",
        "content": [{"type": "output_text", "text": "Hello there!", "annotations": []}],
    }
    (item_done,) = ran.of("response.output_item.done")
    assert (item_done["output_index"], item_done["item"]) == (0, message)
    (completed,) = ran.of("response.completed")
    assert completed["response"] == run.answer
    assert run.answer is not None
    assert run.answer["output"] == [message]
    assert run.answer["status"] == "completed"
    assert run.status == "completed"
    assert ran.ended == [run]


def test_r3_r5_reasoning_then_a_function_call() -> None:
    call = request(tools=[WEATHER])
    steps: list[Step] = [
        think("Think hard"),
        ClientToolStep(client_tool=[ClientCall(tool="get_weather", arguments={"city": "Oslo"})]),
    ]
    ran = run_steps(steps, call)
    assert ran.types == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.reasoning_summary_text.delta",
        "response.reasoning_summary_text.delta",
        "response.reasoning_summary_text.delta",
        "response.reasoning_summary_text.done",
        "response.output_item.done",
        "response.output_item.added",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
        "response.output_item.done",
        "response.completed",
    ]
    reasoning_added, call_added = ran.of("response.output_item.added")
    rs_id = reasoning_added["item"]["id"]
    assert rs_id.startswith("rs_")
    assert reasoning_added["item"] == {"type": "reasoning", "id": rs_id, "summary": []}
    first = ran.of("response.reasoning_summary_text.delta")[0]
    assert first == {
        "type": "response.reasoning_summary_text.delta",
        "item_id": rs_id,
        "output_index": 0,
        "summary_index": 0,
        "delta": "Thin",
        "sequence_number": 3,
    }
    (summary_done,) = ran.of("response.reasoning_summary_text.done")
    assert (summary_done["item_id"], summary_done["output_index"]) == (rs_id, 0)
    assert (summary_done["summary_index"], summary_done["text"]) == (0, "Think hard")
    fc = call_added["item"]
    assert call_added["output_index"] == 1
    assert fc["id"].startswith("fc_")
    assert fc["call_id"].startswith("call_")
    assert fc == {
        "type": "function_call",
        "id": fc["id"],
        "call_id": fc["call_id"],
        "name": "get_weather",
        "arguments": "",
        "status": "in_progress",
    }
    (delta,) = ran.of("response.function_call_arguments.delta")
    assert delta == {
        "type": "response.function_call_arguments.delta",
        "item_id": fc["id"],
        "output_index": 1,
        "delta": '{"city":"Oslo"}',
        "sequence_number": 9,
    }
    (arguments_done,) = ran.of("response.function_call_arguments.done")
    assert arguments_done == {
        "type": "response.function_call_arguments.done",
        "item_id": fc["id"],
        "output_index": 1,
        "arguments": '{"city":"Oslo"}',
        "sequence_number": 10,
    }
    answer = ran.run.answer
    assert answer is not None
    assert answer["output"] == [
        {
            "type": "reasoning",
            "id": rs_id,
            "summary": [{"type": "summary_text", "text": "Think hard"}],
        },
        {**fc, "arguments": '{"city":"Oslo"}', "status": "completed"},
    ]
    assert [d["output_index"] for d in ran.of("response.output_item.done")] == [0, 1]


def test_r8_arguments_come_from_the_schema_in_pieces_when_the_step_gives_none() -> None:
    long_schema = {
        "type": "object",
        "properties": {"note": {"type": "string", "minLength": 70}},
        "required": ["note"],
    }
    tool = {**WEATHER, "parameters": long_schema}
    ran = run_steps(
        [ClientToolStep(client_tool=[ClientCall(tool="get_weather")])], request(tools=[tool])
    )
    pieces = [d["delta"] for d in ran.of("response.function_call_arguments.delta")]
    whole = "".join(pieces)
    assert len(json.loads(whole)["note"]) >= 70
    assert all(len(piece) == ARGUMENT_CHUNK for piece in pieces[:-1])
    assert 0 < len(pieces[-1]) <= ARGUMENT_CHUNK
    assert ran.of("response.function_call_arguments.done")[0]["arguments"] == whole


def test_r8_given_arguments_are_templates() -> None:
    step = ClientToolStep(
        client_tool=[ClientCall(tool="get_weather", arguments={"city": "{message}"})]
    )
    ran = run_steps([step], request(input="Lisbon", tools=[WEATHER]))
    assert json.loads(ran.of("response.function_call_arguments.done")[0]["arguments"]) == {
        "city": "Lisbon"
    }


def test_r8_a_step_naming_a_tool_the_request_lacks_fails_the_response() -> None:
    ran = run_steps(
        [ClientToolStep(client_tool=[ClientCall(tool="nope")])], request(tools=[WEATHER])
    )
    assert ran.types[-1] == "response.failed"
    answer = ran.run.answer
    assert answer is not None
    assert answer["error"]["code"] == "client_tool_unavailable"
    assert "the request has no tool 'nope'" in answer["error"]["message"]
    ran = run_steps([ClientToolStep(client_tool=[ClientCall(tool="$first")])])
    assert ran.run.error == "client_tool_unavailable: the request has no tools"


def test_r8_several_calls_of_one_step_are_several_items() -> None:
    step = ClientToolStep(client_tool=[ClientCall(tool="get_weather"), ClientCall(tool="$first")])
    ran = run_steps([step], request(tools=[WEATHER]))
    answer = ran.run.answer
    assert answer is not None
    calls = answer["output"]
    assert [item["name"] for item in calls] == ["get_weather", "get_weather"]
    assert calls[0]["call_id"] != calls[1]["call_id"]


# -- the end: failed, cancelled ----------------------------------------------------------


def test_r5_a_failing_step_ends_with_response_failed_carrying_the_error() -> None:
    ran = run_steps([text("Start"), FailStep(fail="upstream_model_error: it broke")])
    assert ran.types[-1] == "response.failed"
    assert "response.completed" not in ran.types
    failed = ran.of("response.failed")[0]["response"]
    assert failed["status"] == "failed"
    assert failed["error"] == {
        "code": "upstream_model_error",
        "message": "upstream_model_error: it broke",
    }
    assert [item["type"] for item in failed["output"]] == ["message"]
    assert failed["usage"] is not None
    assert ran.run.status == "error"


def test_r6_a_cancelled_response_ends_once_with_what_it_finished() -> None:
    async def go() -> Ran:
        clock = Clock("virtual", now=T0)
        ended: list[ResponseRun] = []
        run = new_run(request(), clock, ended)
        run.start(ResponseScript([text("one"), PauseStep(pause=60), text("two")]))
        for _ in range(20):
            await asyncio.sleep(0)
        run.end("cancelled")
        run.end("completed")  # the first end wins
        await clock.advance(120)
        return Ran(run, ended)

    ran = asyncio.run(go())
    assert ran.types[-1] == "response.cancelled"
    assert ran.types.count("response.output_item.done") == 1
    cancelled = ran.of("response.cancelled")[0]["response"]
    assert cancelled["status"] == "cancelled"
    assert cancelled["error"] is None
    assert [item["content"][0]["text"] for item in cancelled["output"]] == ["one"]
    assert ran.ended == [ran.run]


def test_r6_a_response_whose_task_is_cancelled_ends_cancelled() -> None:
    """A task cancelled from outside (a loop shutting down) still ends the response with
    its terminal event."""

    async def go() -> Ran:
        clock = Clock("virtual", now=T0)
        ended: list[ResponseRun] = []
        run = new_run(request(), clock, ended)
        run.start(ResponseScript([PauseStep(pause=60)]))
        await asyncio.sleep(0)
        assert run.task is not None
        run.task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await run.task
        return Ran(run, ended)

    ran = asyncio.run(go())
    assert ran.run.status == "cancelled"
    assert ran.types[-1] == "response.cancelled"
    assert ran.ended == [ran.run]


def test_r5_an_error_without_words_and_a_refused_step_fail_the_response() -> None:
    async def go() -> tuple[ResponseRun, ResponseRun]:
        clock = Clock("virtual", now=T0)
        quiet = new_run(request(), clock, [])
        assert quiet.answer is None
        quiet.end("error")

        async def refused(run: ResponseRun) -> None:
            raise InvalidRequest("nope: not here")

        refusing = new_run(request(), clock, [])
        refusing.start(refused)
        await asyncio.wait_for(refusing.log.until_closed(), 5)
        return quiet, refusing

    quiet, refusing = asyncio.run(go())
    assert quiet.answer is not None
    assert quiet.answer["error"] == {"code": "", "message": ""}
    assert (refusing.status, refusing.error) == ("error", "invalid_request: nope: not here")
    assert refusing.log.events[-1].type == "response.failed"


def test_r8_a_pause_waits_on_the_clock() -> None:
    async def go() -> tuple[bool, bool, str]:
        clock = Clock("virtual", now=T0)
        run = new_run(request(), clock, [])
        run.start(ResponseScript([PauseStep(pause=30), text("late")]))
        await clock.advance(29)
        early = run.running
        await clock.advance(1)
        await asyncio.wait_for(run.log.until_closed(), 5)
        return early, run.running, run.log.events[-1].type

    assert asyncio.run(go()) == (True, False, "response.completed")


def test_r8_a_drop_step_marks_where_live_streams_drop() -> None:
    ran = run_steps([text("ab", chunk=2), DropStep(drop=True), text("cd")])
    cut = ran.run.log.drop_after
    assert cut == {ran.types.index("response.output_item.done") + 1}


# -- usage (R3, R8) --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("effort", "weight"),
    [(None, 1), ("minimal", 1), ("low", 1), ("medium", 2), ("high", 4)],
)
def test_r8_token_counts_follow_the_characters_and_the_effort(
    effort: str | None, weight: int
) -> None:
    settings = {} if effort is None else {"reasoning": {"effort": effort}}
    call = request(input="x" * 41, **settings)
    ran = run_steps([think("r" * 23), text("t" * 43)], call)
    reasoning = 23 // 4 * weight
    answer = ran.run.answer
    assert answer is not None
    assert answer["usage"] == {
        "input_tokens": 41 // 4 + 1,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": 43 // 4 + reasoning,
        "output_tokens_details": {"reasoning_tokens": reasoning},
        "total_tokens": 41 // 4 + 1 + 43 // 4 + reasoning,
    }
    assert ran.run.billed() == {
        "input_tokens": 11,
        "cache_read_input_tokens": 0,
        "output_tokens": 43 // 4 + reasoning,
    }


def test_r8_every_item_counts_as_output() -> None:
    ran = run_steps([text("a" * 8), think("b" * 8), text("c" * 8), think("d" * 8)])
    usage = ran.run.usage()
    assert usage["output_tokens_details"]["reasoning_tokens"] == 4
    assert usage["output_tokens"] == 4 + 4


def test_r8_arguments_count_as_output() -> None:
    step = ClientToolStep(client_tool=[ClientCall(tool="get_weather", arguments={"city": "Oslo"})])
    ran = run_steps([step], request(tools=[WEATHER]))
    assert ran.run.usage()["output_tokens"] == len('{"city":"Oslo"}') // 4


def test_r8_a_usage_step_says_its_own_counts_and_cached_input_is_billed_apart() -> None:
    given = Usage(input_tokens=100, output_tokens=40, cache_read_input_tokens=30)
    ran = run_steps([text("abc"), UsageStep(usage=given)])
    assert ran.run.usage() == {
        "input_tokens": 130,
        "input_tokens_details": {"cached_tokens": 30},
        "output_tokens": 40,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": 170,
    }
    assert ran.run.billed() == {
        "input_tokens": 100,
        "cache_read_input_tokens": 30,
        "output_tokens": 40,
    }
    plain = run_steps([UsageStep(usage=Usage(input_tokens=5, output_tokens=6))])
    assert plain.run.usage()["input_tokens_details"] == {"cached_tokens": 0}
    assert plain.run.usage()["total_tokens"] == 11


def test_c3_a_response_describes_itself() -> None:
    ran = run_steps([think("x"), text("y")], request(model="pokee-isaac", stream=True))
    described = ran.run.describe()
    assert described["id"] == ran.run.id
    assert described["model"] == "pokee-isaac"
    assert described["stream"] is True
    assert described["output"] == ["reasoning", "message"]
    assert described["status"] == "completed"
    assert described["events"] == len(ran.types)
    assert (described["started_at"], described["ended_at"]) == (T0, T0)
    assert described["scenario"] == "s"
    assert ran.run.kind == "response"
    assert ran.run.session_id is None


def test_r3_the_object_echoes_the_settings_in_openais_order() -> None:
    ran = run_steps([text("x")], request(model="pokee-isaac", instructions="Be brief.", user="u"))
    answer = ran.run.answer
    assert answer is not None
    assert list(answer) == [
        "id",
        "object",
        "created_at",
        "status",
        "error",
        "incomplete_details",
        "instructions",
        "max_output_tokens",
        "model",
        "output",
        "parallel_tool_calls",
        "reasoning",
        "store",
        "temperature",
        "tool_choice",
        "tools",
        "top_p",
        "usage",
        "user",
        "metadata",
    ]
    assert (answer["object"], answer["model"], answer["user"]) == ("response", "pokee-isaac", "u")
    assert (answer["instructions"], answer["incomplete_details"]) == ("Be brief.", None)
    assert answer["id"].startswith("resp_")
    assert len(answer["id"]) == 29


def test_shapes_error_codes_and_terminal_names() -> None:
    assert shapes.error_object("tool_result_timeout") == {
        "code": "tool_result_timeout",
        "message": "tool_result_timeout",
    }
    assert shapes.error_object("internal_error: KeyError: x")["code"] == "internal_error"
    assert shapes.terminal("error", {})[0] == "response.failed"
    assert shapes.terminal("cancelled", {})[0] == "response.cancelled"
    assert shapes.terminal("completed", {"id": "r"}) == (
        "response.completed",
        {"type": "response.completed", "response": {"id": "r"}},
    )


# -- templates -----------------------------------------------------------------------------


def test_r8_templates_quote_the_message_and_the_outputs_within_bounds() -> None:
    call_item = {"type": "function_call", "call_id": "c", "name": "get_weather", "arguments": "{}"}
    items = [
        {"role": "user", "content": "Build a deck on tides"},
        call_item,
        {"type": "function_call_output", "call_id": "c", "output": "one"},
        {**call_item, "call_id": "d"},
        {"type": "function_call_output", "call_id": "d", "output": "two"},
    ]
    run = ResponseRun(
        request=request(input=items), scenario="s", clock=Clock("virtual", now=T0), on_end=print
    )
    template = Template.for_response(run)
    assert template.message == "Build a deck on tides"
    assert template.topic == "tides"
    assert template.slug == "tides"
    assert template.tool_output == "one\ntwo"
    assert (template.session_id, template.response_id) == ("", run.id)
    huge = "x" * (MAX_QUOTED + 5)
    big = ResponseRun(
        request=request(input=huge), scenario="s", clock=Clock("virtual", now=T0), on_end=print
    )
    quoted = Template.for_response(big).message
    assert quoted == "x" * MAX_QUOTED + f"… ({MAX_QUOTED + 5} characters in all)"
    exact = ResponseRun(
        request=request(input="y" * MAX_QUOTED),
        scenario="s",
        clock=Clock("virtual", now=T0),
        on_end=print,
    )
    assert Template.for_response(exact).message == "y" * MAX_QUOTED
