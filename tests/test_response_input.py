"""Reading a ``POST /v1/responses`` body without HTTP (contract R1, R2): what is taken,
what it defaults to, and the exact place each refusal names."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from mock_pokee.domain.errors import InvalidRequest
from mock_pokee.domain.models import ModelCatalog
from mock_pokee.domain.response_input import (
    FunctionCall,
    FunctionOutput,
    Message,
    ResponseRequest,
    parse_input,
    parse_request,
    read_request,
)
from mock_pokee.limits import MAX_METADATA_KEY, MAX_METADATA_PAIRS, MAX_METADATA_VALUE

MODELS = ModelCatalog([("house-model", None)])
TOOL = {
    "type": "function",
    "name": "get_weather",
    "description": "Forecast",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
}
CALL = {"type": "function_call", "call_id": "call_1", "name": "get_weather", "arguments": "{}"}
OUTPUT = {"type": "function_call_output", "call_id": "call_1", "output": "sunny"}


def parse(**fields: Any) -> ResponseRequest:
    return parse_request({"input": "hi", **fields}, MODELS)


def refusal(**fields: Any) -> str:
    with pytest.raises(InvalidRequest) as refused:
        parse_request(fields, MODELS)
    return refused.value.message


def input_refusal(raw: object) -> str:
    with pytest.raises(InvalidRequest) as refused:
        parse_input(raw)
    return refused.value.message


# -- R1: the settings ---------------------------------------------------------------------


def test_r1_r3_settings_left_out_take_openais_defaults() -> None:
    request = parse()
    assert request.model == "pokee-isaac-high-reasoning"
    assert request.tools == ()
    assert (request.tool_choice, request.forced_tool) == ("auto", None)
    assert request.effort is None
    assert request.stream is False
    assert request.instructions == ""
    assert dict(request.settings) == {
        "instructions": None,
        "tools": [],
        "tool_choice": "auto",
        "parallel_tool_calls": True,
        "temperature": 1.0,
        "top_p": 1.0,
        "metadata": {},
        "reasoning": {"effort": None},
        "max_output_tokens": None,
        "store": True,
        "user": None,
    }


def test_r1_r3_settings_given_are_echoed_as_given() -> None:
    request = parse(
        model="pokee-isaac",
        tools=[TOOL],
        tool_choice="none",
        stream=True,
        reasoning={"effort": "high"},
        instructions="Be brief.",
        parallel_tool_calls=False,
        temperature=0.25,
        top_p=0.5,
        metadata={"suite": "unit"},
        max_output_tokens=99,
        store=False,
        user="u-1",
    )
    assert request.model == "pokee-isaac"
    assert [tool.name for tool in request.tools] == ["get_weather"]
    assert (request.tool_choice, request.effort, request.stream) == ("none", "high", True)
    assert request.instructions == "Be brief."
    assert dict(request.settings) == {
        "instructions": "Be brief.",
        "tools": [TOOL],
        "tool_choice": "none",
        "parallel_tool_calls": False,
        "temperature": 0.25,
        "top_p": 0.5,
        "metadata": {"suite": "unit"},
        "reasoning": {"effort": "high"},
        "max_output_tokens": 99,
        "store": False,
        "user": "u-1",
    }


def test_r1_a_model_of_the_catalog_is_taken_and_others_refused() -> None:
    assert parse(model="house-model").model == "house-model"
    assert "pokee-nonexistent" in refusal(input="hi", model="pokee-nonexistent")


@pytest.mark.parametrize("name", ["previous_response_id", "conversation"])
def test_r1_history_by_reference_is_refused_as_stateless(name: str) -> None:
    message = refusal(input="hi", **{name: "resp_1"})
    assert message == (
        f"{name}: /v1/responses is stateless and keeps no earlier responses; "
        "send the whole conversation in input"
    )


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"temprature": 1}, "temprature: unknown field"),
        ({"reasoning": {"efort": "low"}}, "reasoning.efort: unknown field"),
        ({"stream": "yes"}, "stream:"),
        ({"temperature": 2.5}, "temperature:"),
        ({"top_p": -0.1}, "top_p:"),
        ({"max_output_tokens": 0}, "max_output_tokens:"),
        ({"reasoning": {"effort": "maximal"}}, "reasoning.effort:"),
        ({"metadata": {"k" * (MAX_METADATA_KEY + 1): "v"}}, "metadata."),
        ({"metadata": {"k": "v" * (MAX_METADATA_VALUE + 1)}}, "metadata.k:"),
        ({"metadata": {str(n): "v" for n in range(MAX_METADATA_PAIRS + 1)}}, "metadata:"),
        ({"instructions": None}, "instructions: must not be null"),
    ],
)
def test_r1_bad_settings_are_refused_naming_the_field(
    fields: dict[str, Any], expected: str
) -> None:
    assert refusal(input="hi", **fields).startswith(expected)


def test_r1_metadata_at_its_bounds_is_taken() -> None:
    metadata = {f"{n:0{MAX_METADATA_KEY}}": "v" * MAX_METADATA_VALUE for n in range(16)}
    assert len(metadata) == MAX_METADATA_PAIRS
    assert parse(metadata=metadata).settings["metadata"] == metadata


def test_r1_input_is_required() -> None:
    assert refusal(model="pokee-isaac").startswith("input:")


# -- tool_choice ---------------------------------------------------------------------------


@pytest.mark.parametrize("choice", ["auto", "none", "required"])
def test_r1_tool_choice_words(choice: str) -> None:
    request = parse(tools=[TOOL], tool_choice=choice)
    assert (request.tool_choice, request.forced_tool) == (choice, None)
    assert request.settings["tool_choice"] == choice


def test_r1_tool_choice_naming_a_function() -> None:
    choice = {"type": "function", "name": "get_weather"}
    request = parse(tools=[TOOL], tool_choice=choice)
    assert (request.tool_choice, request.forced_tool) == ("function", "get_weather")
    assert request.settings["tool_choice"] == choice


def test_r1_required_without_tools_is_refused_but_auto_and_none_are_not() -> None:
    assert refusal(input="hi", tool_choice="required") == (
        'tool_choice: "required" needs tools; send some, or "auto"'
    )
    assert parse(tool_choice="none").tool_choice == "none"
    assert parse(tool_choice="auto").tool_choice == "auto"


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ({"type": "function", "name": "nope"}, "tool_choice.name: no function 'nope' in tools"),
        ({"type": "function", "name": 5}, "tool_choice.name: must be a string"),
        ({"type": "tool", "name": "get_weather"}, "tool_choice: must be"),
        ({"type": "function"}, "tool_choice: must be"),
        ({"type": "function", "name": "get_weather", "x": 1}, "tool_choice: must be"),
        ("sometimes", "tool_choice: must be"),
        (7, "tool_choice: must be"),
    ],
)
def test_r1_bad_tool_choices_are_refused(choice: object, expected: str) -> None:
    assert refusal(input="hi", tools=[TOOL], tool_choice=choice).startswith(expected)


def test_r1_a_named_function_lists_the_tools_there_are() -> None:
    other = {**TOOL, "name": "lookup_stock"}
    named = {"type": "function", "name": "x"}
    message = refusal(input="hi", tools=[TOOL, other], tool_choice=named)
    assert (
        message == "tool_choice.name: no function 'x' in tools (given: get_weather, lookup_stock)"
    )
    message = refusal(input="hi", tool_choice={"type": "function", "name": "x"})
    assert message == "tool_choice.name: no function 'x' in tools (given: none)"
    assert "sometimes" in refusal(input="hi", tool_choice="sometimes")


def test_r1_tools_follow_s1b() -> None:
    assert refusal(input="hi", tools=[{**TOOL, "name": "bad name"}]).startswith("tools[0]")


# -- R2: the input items ---------------------------------------------------------------


def test_r2_a_string_is_one_user_message() -> None:
    assert parse_input("hello") == (Message("user", "hello"),)


def test_r2_every_item_shape_is_read() -> None:
    items = parse_input(
        [
            {"role": "system", "content": "Be kind."},
            {
                "type": "message",
                "role": "developer",
                "content": [{"type": "input_text", "text": "a"}],
            },
            {"type": "reasoning", "id": "rs_1", "summary": []},
            {
                "type": "message",
                "role": "assistant",
                "id": "msg_1",
                "status": "completed",
                "content": [
                    {"type": "output_text", "text": "b", "annotations": [], "logprobs": []},
                    {"type": "output_text", "text": "c"},
                ],
            },
            {"role": "user", "content": "d"},
            {**CALL, "id": "fc_1", "status": "completed"},
            {**OUTPUT, "id": "fco_1", "status": "completed"},
        ]
    )
    assert items == (
        Message("system", "Be kind."),
        Message("developer", "a"),
        Message("assistant", "bc"),
        Message("user", "d"),
        FunctionCall("call_1", "get_weather", "{}"),
        FunctionOutput("call_1", "sunny"),
    )


@pytest.mark.parametrize("empty", ["", []])
def test_r2_empty_input_is_refused(empty: object) -> None:
    assert input_refusal(empty).startswith("input: empty;")


@pytest.mark.parametrize("raw", [5, None, {"role": "user"}, True])
def test_r2_input_is_a_string_or_an_array(raw: object) -> None:
    assert input_refusal(raw) == "input: must be a string or an array of items"


def test_r2_only_reasoning_items_are_refused() -> None:
    assert input_refusal([{"type": "reasoning"}]) == "input: only reasoning items; send a message"


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        (["hi"], "input[0]: must be an object (an input item)"),
        ([{"content": "hi"}], "input[0].type: missing (or role, for a message); known: "),
        ([{"type": "image", "url": "x"}], "input[0].type: unknown item type 'image'; known: "),
        ([{"type": 3}], "input[0].type: unknown item type 3"),
        (
            [{"role": "robot", "content": "x"}],
            "input[0].role: must be one of user, assistant, system, developer, not 'robot'",
        ),
        ([{"role": "user", "content": "x", "name": "me"}], "input[0].name: unknown field"),
        ([{"role": "user", "content": []}], "input[0].content: required, a string or a non-empty"),
        ([{"role": "user", "content": 5}], "input[0].content: required, a string or a non-empty"),
        ([{"role": "user", "content": ["x"]}], "input[0].content[0].type: not an object;"),
        ([{"role": "user", "content": [{"type": ["input_text"]}]}], "input[0].content[0].type: ["),
        (
            [{"role": "user", "content": [{"type": "input_image"}]}],
            "input[0].content[0].type: 'input_image'; a part is input_text or output_text",
        ),
        (
            [{"role": "user", "content": [{"type": "input_text", "text": "a", "annotations": []}]}],
            "input[0].content[0].annotations: unknown field",
        ),
        (
            [{"role": "user", "content": [{"type": "output_text", "text": "a", "logprobs": {}}]}],
            "input[0].content[0].logprobs: must be an array",
        ),
        (
            [{"role": "user", "content": [{"type": "output_text", "text": "a", "annotations": 1}]}],
            "input[0].content[0].annotations: must be an array",
        ),
        (
            [{"role": "user", "content": [{"type": "input_text"}]}],
            "input[0].content[0].text: required, a string",
        ),
        (
            [{"role": "user", "content": "x", "status": "done"}],
            "input[0].status: must be in_progress",
        ),
        ([{"role": "user", "content": "x", "id": 5}], "input[0].id: must be a string"),
        ([{**CALL, "call_id": ""}], "input[0].call_id: must not be empty"),
        ([{**CALL, "name": ""}], "input[0].name: must not be empty"),
        ([{**CALL, "arguments": {}}], "input[0].arguments: required, a string"),
        ([{**CALL, "output": "x"}], "input[0].output: unknown field"),
        ([{**CALL, "status": "bad"}], "input[0].status: must be in_progress"),
        ([CALL, {**OUTPUT, "output": 1}], "input[1].output: required, a string"),
        ([CALL, {**OUTPUT, "name": "x"}], "input[1].name: unknown field"),
        ([CALL, {**OUTPUT, "status": "x"}], "input[1].status: must be in_progress"),
        ([CALL, {**OUTPUT, "call_id": ""}], "input[1].call_id: must not be empty"),
    ],
)
def test_r2_malformed_items_name_their_place(items: list[Any], expected: str) -> None:
    assert input_refusal(items).startswith(expected)


def test_r2_an_unknown_item_type_lists_the_known_ones() -> None:
    assert input_refusal([{"type": "image"}]) == (
        "input[0].type: unknown item type 'image'; known: message, function_call, "
        "function_call_output, reasoning (a message may leave type out)"
    )


def test_r2_a_bad_status_is_quoted() -> None:
    assert input_refusal([{"role": "user", "content": "x", "status": "done"}]) == (
        "input[0].status: must be in_progress, completed or incomplete, not 'done'"
    )


def test_r2_statuses_openai_gives_are_taken() -> None:
    for status in ("in_progress", "completed", "incomplete"):
        items = parse_input([{"role": "user", "content": "x", "status": status, "id": "m"}])
        assert items == (Message("user", "x"),)


def test_r2_an_unknown_field_with_a_strange_name_is_quoted() -> None:
    long_name = "x" * 65
    assert input_refusal([{"role": "user", "content": "x", long_name: 1}]).startswith(
        "input[0].'xxxx"
    )
    assert input_refusal([{"role": "user", "content": "x", "a\nb": 1}]).startswith(
        "input[0].'a\\nb': unknown field"
    )
    name64 = "y" * 64
    assert input_refusal([{"role": "user", "content": "x", name64: 1}]) == (
        f"input[0].{name64}: unknown field"
    )


def test_r2_an_output_needs_its_call_before_it() -> None:
    message = input_refusal([{"role": "user", "content": "x"}, OUTPUT, CALL])
    assert message == (
        "input[1].call_id: no function_call with call_id 'call_1' comes before it in input; "
        "send the call, then its output"
    )
    assert parse_input([CALL, OUTPUT])[-1] == FunctionOutput("call_1", "sunny")


def test_r2_an_empty_output_and_empty_arguments_are_taken() -> None:
    items = parse_input([{**CALL, "arguments": ""}, {**OUTPUT, "output": ""}])
    assert items == (FunctionCall("call_1", "get_weather", ""), FunctionOutput("call_1", ""))


def test_r2_the_message_text_may_be_empty() -> None:
    assert parse_input([{"role": "user", "content": ""}]) == (Message("user", ""),)
    assert parse_input([{"role": "user", "content": [{"type": "input_text", "text": ""}]}]) == (
        Message("user", ""),
    )


# -- what the model reads of a request ---------------------------------------------------


def request_of(items: list[Any]) -> ResponseRequest:
    return parse(input=items)


def test_r8_the_last_user_message_and_whether_it_comes_last() -> None:
    request = request_of(
        [{"role": "user", "content": "first"}, {"role": "assistant", "content": "a"}]
    )
    assert request.last_user_message == "first"
    assert not request.ends_with_user_message
    request = request_of([{"role": "assistant", "content": "a"}, {"role": "user", "content": "b"}])
    assert request.last_user_message == "b"
    assert request.ends_with_user_message
    request = request_of([{"role": "system", "content": "s"}])
    assert request.last_user_message == ""
    assert not request.ends_with_user_message


def test_r4_the_outputs_the_input_ends_with() -> None:
    second = {**CALL, "call_id": "call_2"}
    request = request_of(
        [
            {"role": "user", "content": "q"},
            CALL,
            OUTPUT,
            second,
            {**OUTPUT, "call_id": "call_2", "output": "rain"},
            {**OUTPUT, "output": "again"},
        ]
    )
    assert [item.output for item in request.tool_outputs] == ["sunny", "rain", "again"]
    assert request.calls_since_user == 2
    assert request_of([{"role": "user", "content": "q"}]).tool_outputs == ()
    answered_then_asked = [CALL, OUTPUT, {"role": "user", "content": "q"}, CALL, OUTPUT]
    assert [item.output for item in request_of(answered_then_asked).tool_outputs] == ["sunny"]
    assert request_of([{"role": "user", "content": "q"}, CALL, OUTPUT, CALL]).tool_outputs == ()
    after_assistant = [CALL, OUTPUT, {"role": "assistant", "content": "a"}, CALL, OUTPUT]
    assert len(request_of(after_assistant).tool_outputs) == 1


def test_r4_calls_are_counted_since_the_last_user_message_only() -> None:
    request = request_of(
        [CALL, OUTPUT, {"role": "user", "content": "q"}, {**CALL, "call_id": "c2"}]
    )
    assert request.calls_since_user == 1
    assert request.tool_outputs == ()
    assert request_of([{"role": "user", "content": "q"}]).calls_since_user == 0
    assert request_of([CALL, OUTPUT]).calls_since_user == 1
    assistant_then_call = [
        {"role": "user", "content": "q"},
        {"role": "assistant", "content": "a"},
        CALL,
    ]
    assert request_of(assistant_then_call).calls_since_user == 1


def test_r8_input_characters_count_everything_the_model_reads() -> None:
    request = parse(
        input=[{"role": "user", "content": "abcd"}, CALL, OUTPUT],
        instructions="xy",
        tools=[TOOL],
    )
    tool_chars = len("get_weather") + len("Forecast") + len(json.dumps(TOOL["parameters"]))
    calls = len("get_weather") + len("{}")
    assert request.input_chars == 2 + 4 + calls + len("sunny") + tool_chars
    assert parse(input="abc").input_chars == 3


# -- the whole body -----------------------------------------------------------------------


def test_r6_the_body_hash_ignores_spacing_and_key_order() -> None:
    one, hash_one = read_request(b'{"input": "hi", "stream": true}', MODELS)
    _, hash_two = read_request(b'{"stream":true,"input":"hi"}', MODELS)
    _, hash_three = read_request(b'{"stream":true,"input":"ho"}', MODELS)
    assert one.items == (Message("user", "hi"),)
    assert hash_one == hash_two != hash_three
    assert hash_one == hashlib.sha256(b'{"input":"hi","stream":true}').hexdigest()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(b"", "body: missing"), (b"[1]", "body: must be a JSON object"), (b"{", "body:")],
)
def test_r1_a_body_that_is_not_a_json_object_is_refused(raw: bytes, expected: str) -> None:
    with pytest.raises(InvalidRequest, match=f"^{expected}"):
        read_request(raw, MODELS)
