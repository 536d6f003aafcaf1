"""What the fake model answers (contract R8), and which part of a scripted conversation a
call runs (D for responses), without HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from mock_pokee.domain.errors import InvalidRequest
from mock_pokee.domain.models import ModelCatalog
from mock_pokee.domain.response_input import ResponseRequest, parse_request
from mock_pokee.scenarios.model import MODEL_ANSWER, answer_steps, tool_to_call
from mock_pokee.scenarios.responder import plan, script_for
from mock_pokee.scenarios.schema import (
    ClientCall,
    ClientToolStep,
    PauseStep,
    Scenario,
    Step,
    Streamed,
    TextStep,
    ThinkStep,
)


def tool(name: str, description: str = "Does a thing.") -> dict[str, Any]:
    return {
        "type": "function",
        "name": name,
        "description": description,
        "parameters": {"type": "object"},
    }


STOCK = tool("lookup_stock", "Quote a ticker symbol.")
WEATHER = tool("get_weather", "Forecast for one city.")
CLOCK = tool("lookup", "The local time in a city.")
ASK = {"role": "user", "content": "Will it rain in Oslo? Check the weather"}


def call(name: str, call_id: str = "call_1") -> dict[str, Any]:
    return {"type": "function_call", "call_id": call_id, "name": name, "arguments": "{}"}


def output(text: str, call_id: str = "call_1") -> dict[str, Any]:
    return {"type": "function_call_output", "call_id": call_id, "output": text}


def request(items: Any = "hi", **fields: Any) -> ResponseRequest:
    return parse_request({"input": items, **fields}, ModelCatalog())


def called(items: Any = "hi", **fields: Any) -> str | None:
    chosen = tool_to_call(request(items, **fields))
    return None if chosen is None else chosen.name


# -- which tool, if any ---------------------------------------------------------------------


def test_r8_no_tools_no_call() -> None:
    assert called([ASK]) is None
    assert called([ASK], tools=[]) is None


def test_r8_a_user_message_last_calls_the_tool_it_shares_a_word_with() -> None:
    assert called([ASK], tools=[STOCK, WEATHER]) == "get_weather"


def test_r8_a_description_word_counts_too() -> None:
    assert called("What time is it in Lima?", tools=[STOCK, CLOCK]) == "lookup"


def test_r8_else_the_first_tool() -> None:
    assert called("Tell me a joke", tools=[STOCK, WEATHER]) == "lookup_stock"


def test_r8_none_forbids_a_call_and_a_named_function_forces_its_tool() -> None:
    assert called([ASK], tools=[STOCK, WEATHER], tool_choice="none") is None
    named = {"type": "function", "name": "lookup_stock"}
    assert called([ASK], tools=[STOCK, WEATHER], tool_choice=named) == "lookup_stock"
    after_output = [ASK, call("get_weather"), output("rain")]
    assert called(after_output, tools=[STOCK, WEATHER], tool_choice=named) == "lookup_stock"


def test_r8_after_an_output_or_an_assistant_message_auto_answers_and_required_calls() -> None:
    after_output = [ASK, call("get_weather"), output("rain")]
    assert called(after_output, tools=[STOCK, WEATHER]) is None
    assert called(after_output, tools=[STOCK, WEATHER], tool_choice="required") == "get_weather"
    assistant_last = [ASK, {"role": "assistant", "content": "Checking"}]
    assert called(assistant_last, tools=[WEATHER]) is None
    assert called(assistant_last, tools=[WEATHER], tool_choice="auto") is None
    assert called(assistant_last, tools=[STOCK], tool_choice="required") == "lookup_stock"


# -- the answer as steps --------------------------------------------------------------------


def only_content(steps: list[Step]) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for step in steps:
        if isinstance(step, TextStep):
            found.append(("text", step.text.content))
        elif isinstance(step, ThinkStep):
            found.append(("think", step.think.content))
        elif isinstance(step, ClientToolStep):
            found += [("call", each.tool) for each in step.client_tool]
    return found


def test_r8_a_call_is_one_client_tool_step_with_generated_arguments() -> None:
    (step,) = answer_steps(request([ASK], tools=[STOCK, WEATHER]))
    assert isinstance(step, ClientToolStep)
    assert step.client_tool == [ClientCall(tool="get_weather")]
    assert step.client_tool[0].arguments is None


def test_r8_text_quotes_the_outputs_or_answers_the_message() -> None:
    after_output = request([ASK, call("get_weather"), output("rain")], tools=[WEATHER])
    assert only_content(answer_steps(after_output)) == [
        ("text", "Here is what your tool returned: {tool_output}")
    ]
    assert only_content(answer_steps(request("hi"))) == [
        ("text", "Here is a quick answer from mock-pokee to: {message}")
    ]
    (step,) = answer_steps(request("hi"))
    assert isinstance(step, TextStep)
    assert step.text.chunk == 8


@pytest.mark.parametrize("effort", ["low", "medium", "high"])
def test_r8_reasoning_comes_first_when_asked(effort: str) -> None:
    reasoning = {"effort": effort}
    assert only_content(answer_steps(request("hi", reasoning=reasoning))) == [
        ("think", "The request is about {topic}. I can answer it directly."),
        ("text", "Here is a quick answer from mock-pokee to: {message}"),
    ]
    assert only_content(answer_steps(request([ASK], tools=[WEATHER], reasoning=reasoning))) == [
        ("think", "The request is about {topic}. The get_weather tool can answer it."),
        ("call", "get_weather"),
    ]
    answered = request([ASK, call("get_weather"), output("rain")], reasoning=reasoning)
    assert only_content(answer_steps(answered))[0] == (
        "think",
        "The request is about {topic}. The tool has answered.",
    )


@pytest.mark.parametrize("settings", [{}, {"reasoning": {"effort": "minimal"}}])
def test_r8_no_reasoning_without_effort(settings: dict[str, Any]) -> None:
    assert [kind for kind, _ in only_content(answer_steps(request("hi", **settings)))] == ["text"]


# -- a scripted conversation over several calls -----------------------------------------


def text(content: str) -> TextStep:
    return TextStep(text=Streamed(content=content))


def calls(*names: str) -> ClientToolStep:
    return ClientToolStep(client_tool=[ClientCall(tool=name) for name in names])


SCRIPT: list[Step] = [
    text("a"),
    calls("x", "y"),
    text("b"),
    PauseStep(pause=1),
    calls("z"),
    text("c"),
]


def test_d_r4_each_call_runs_up_to_the_next_unmade_calls() -> None:
    first = request([ASK])
    assert script_for(SCRIPT, first) == SCRIPT[:2]
    one_made = request([ASK, call("x"), output("1")])
    assert script_for(SCRIPT, one_made) == SCRIPT[:2]  # the step's two calls are one round
    two_made = request([ASK, call("x"), output("1"), call("y", "c2"), output("2", "c2")])
    assert script_for(SCRIPT, two_made) == SCRIPT[2:5]
    three = [*two_made.items]
    assert len(three) == 5
    all_made = request(
        [
            ASK,
            call("x"),
            call("y", "c2"),
            output("1"),
            output("2", "c2"),
            call("z", "c3"),
            output("3", "c3"),
        ]
    )
    assert script_for(SCRIPT, all_made) == SCRIPT[5:]
    more = request([ASK, *(call("x", f"c{n}") for n in range(6)), output("o", "c0")])
    assert script_for(SCRIPT, more) == SCRIPT[5:]


def test_d_a_script_without_calls_runs_whole_and_one_ending_on_calls_runs_out() -> None:
    plain: list[Step] = [text("a"), text("b")]
    assert script_for(plain, request([ASK, call("x"), output("1")])) == plain
    ending: list[Step] = [text("a"), calls("x")]
    assert script_for(ending, request([ASK, call("x"), output("1")])) == []


def scenario(steps: list[dict[str, Any]], surface: str = "response") -> Scenario:
    return Scenario.model_validate({"name": "s", "surface": surface, "steps": steps})


def test_r8_plan_without_a_scenario_is_the_models_answer() -> None:
    name, steps = plan(None, request("hi"))
    assert name == MODEL_ANSWER == "model-answer"
    assert only_content(list(steps)) == [
        ("text", "Here is a quick answer from mock-pokee to: {message}")
    ]


def test_d_plan_runs_the_scenarios_part_then_the_model_when_it_has_run_out() -> None:
    script = scenario([{"text": "first"}, {"client_tool": "$first"}])
    name, steps = plan(script, request([ASK], tools=[WEATHER]))
    assert name == "s"
    assert only_content(list(steps)) == [("text", "first"), ("call", "$first")]
    name, steps = plan(script, request([ASK, call("get_weather"), output("rain")], tools=[WEATHER]))
    assert name == "s"
    assert only_content(list(steps)) == [("text", "Here is what your tool returned: {tool_output}")]


def test_c6_a_forced_turn_scenario_needing_a_session_is_refused_naming_it() -> None:
    script = scenario([{"text": "x"}, {"metadata": {"k": "v"}}], surface="turn")
    with pytest.raises(InvalidRequest) as refused:
        plan(script, request("hi"))
    assert refused.value.message == (
        "X-Mock-Scenario: scenario 's' cannot script a response: step 2 (metadata): needs a "
        "session, and a response has none"
    )
    runnable = scenario([{"text": "x"}], surface="turn")
    assert only_content(list(plan(runnable, request("hi"))[1])) == [("text", "x")]


def test_d_a_response_scenario_with_a_session_step_is_refused_at_load() -> None:
    with pytest.raises(ValueError, match=r"step 1 \(write\): needs a session"):
        scenario([{"write": {"path": "a.txt", "content": "x"}}])
