"""What a recorded turn or response becomes as scenario steps (``mock-pokee record``),
without HTTP: captures made by hand, steps compared whole."""

from __future__ import annotations

import json
from typing import Any

from mock_pokee.recording.capture import (
    CapturedFile,
    ResponseCapture,
    Sample,
    Seen,
    TurnCapture,
)
from mock_pokee.recording.steps import (
    FileSteps,
    Rules,
    Timing,
    escaped,
    response_steps,
    turn_steps,
)

TIMING = Timing(scale=1.0, min_pause=0.1)


def turn(*events: tuple[float, str, dict[str, Any]], **fields: Any) -> TurnCapture:
    seen = [
        Seen(at, kind, {**data, "sequence_number": n}) for n, (at, kind, data) in enumerate(events)
    ]
    return TurnCapture(session_id="ses_1", message="hello", started_at=0.0, events=seen, **fields)


def no_files() -> FileSteps:
    return FileSteps([], lambda file: {"size": file.size})


def steps_of(
    capture: TurnCapture, timing: Timing = TIMING, files: FileSteps | None = None
) -> list[Any]:
    return turn_steps(capture, timing, Rules(), files or no_files()).steps


CREATED = (0.0, "message.created", {"id": "msg_1", "session_id": "ses_1", "status": "in_progress"})
USAGE = {"input_tokens": 3, "output_tokens": 7}


def completed(at: float) -> tuple[float, str, dict[str, Any]]:
    return (at, "message.completed", {"id": "msg_1", "status": "completed", "usage": USAGE})


def test_even_deltas_are_a_content_and_a_chunk_with_the_blocks_pace() -> None:
    capture = turn(
        CREATED,
        (0.0, "text.start", {}),
        (0.02, "text.delta", {"content": "abcd"}),
        (0.04, "text.delta", {"content": "efgh"}),
        (0.06, "text.delta", {"content": "ij"}),
        (0.06, "text.stop", {}),
        completed(0.06),
    )
    assert steps_of(capture) == [
        {"text": {"content": "abcdefghij", "chunk": 4, "pace": 0.02}},
        {"usage": USAGE},
    ]


def test_uneven_deltas_are_kept_one_by_one_and_thinking_is_a_think_step() -> None:
    capture = turn(
        CREATED,
        (0.0, "thinking.start", {}),
        (0.1, "thinking.delta", {"content": "Hm"}),
        (0.2, "thinking.delta", {"content": "mmm, {x}"}),
        (0.2, "thinking.stop", {}),
        completed(0.2),
    )
    assert steps_of(capture)[0] == {"think": {"deltas": ["Hm", "mmm, {{x}}"], "pace": 0.1}}


def test_a_server_tool_is_a_tool_step_and_gaps_become_pauses() -> None:
    tool_input = {"query": "tides"}
    capture = turn(
        CREATED,
        (2.0, "tool_use.start", {"name": "web_search", "id": "toolu_1"}),
        (2.0, "tool_use.input_delta", {"content": json.dumps(tool_input)}),
        (2.0, "tool_use.executing", {"name": "web_search", "id": "toolu_1", "input": tool_input}),
        (62.0, "tool_use.stop", {}),
        (62.0, "tool_result", {"id": "toolu_1", "content": "Found 12 sources.", "is_error": False}),
        completed(107.0),
    )
    assert steps_of(capture) == [
        {"pause": 2.0},
        {
            "tool": {
                "name": "web_search",
                "input": tool_input,
                "result": "Found 12 sources.",
                "duration": 60.0,
            }
        },
        {"usage": USAGE},
    ]


def test_small_gaps_add_up_to_a_pause_instead_of_vanishing() -> None:
    capture = turn(
        CREATED,
        (0.06, "custom.one", {}),
        (0.12, "custom.two", {"a": 1}),
        completed(0.12),
    )
    assert steps_of(capture) == [
        {"event": {"type": "custom.one", "data": {}}},
        {"pause": 0.12},
        {"event": {"type": "custom.two", "data": {"a": 1}}},
        {"usage": USAGE},
    ]


def test_the_upstreams_clock_speed_multiplies_every_duration() -> None:
    capture = turn(CREATED, (0.5, "custom.one", {}), completed(0.5))
    assert steps_of(capture, Timing(scale=60.0, min_pause=0.1))[0] == {"pause": 30.0}


def test_tool_events_in_another_order_are_kept_as_events() -> None:
    capture = turn(
        CREATED,
        (0.0, "tool_use.start", {"name": "t", "id": "toolu_1"}),
        (0.0, "tool_use.stop", {}),
        (0.0, "tool_use.input_delta", {"content": "{}"}),
        (0.0, "tool_use.executing", {"name": "t", "id": "toolu_1", "input": {}}),
        (0.0, "tool_result", {"id": "toolu_1", "content": "", "is_error": False}),
        completed(0.0),
    )
    kinds = [step["event"]["type"] for step in steps_of(capture)[:-1]]
    assert kinds == [
        "tool_use.start",
        "tool_use.stop",
        "tool_use.input_delta",
        "tool_use.executing",
        "tool_result",
    ]


def test_a_write_file_tool_naming_a_turn_file_is_a_write_and_other_files_are_quiet() -> None:
    files = [CapturedFile("out/a.md", 5, b"hello"), CapturedFile("notes.txt", 2, b"hi")]
    source = FileSteps(files, lambda file: {"fixture": f"fixtures/x/{file.path}"})
    tool_input = {"path": "out/a.md"}
    capture = turn(
        CREATED,
        (0.0, "tool_use.start", {"name": "write_file", "id": "toolu_1"}),
        (0.0, "tool_use.input_delta", {"content": json.dumps(tool_input)}),
        (0.0, "tool_use.executing", {"name": "write_file", "id": "toolu_1", "input": tool_input}),
        (0.0, "tool_use.stop", {}),
        (
            0.0,
            "tool_result",
            {"id": "toolu_1", "content": "wrote out/a.md (5 bytes)", "is_error": False},
        ),
        completed(0.0),
    )
    assert steps_of(capture, files=source) == [
        {"write": {"path": "out/a.md", "fixture": "fixtures/x/out/a.md"}},
        {"write": {"path": "notes.txt", "fixture": "fixtures/x/notes.txt", "quiet": True}},
        {"usage": USAGE},
    ]


def test_client_calls_requested_together_are_one_step_and_the_clients_time_is_left_out() -> None:
    capture = turn(
        CREATED,
        (
            1.0,
            "tool_call.requested",
            {"call_id": "call_1", "name": "lookup", "arguments": '{"q":"x"}'},
        ),
        (
            1.0,
            "tool_call.requested",
            {"call_id": "call_2", "name": "lookup", "arguments": '{"q": "y"}'},
        ),
        (40.0, "tool_result", {"id": "call_1", "content": "a", "is_error": False}),
        (41.0, "tool_result", {"id": "call_2", "content": "b", "is_error": False}),
        (41.5, "custom.after", {}),
        completed(41.5),
    )
    assert steps_of(capture) == [
        {"pause": 1.0},
        {
            "client_tool": [
                {"tool": "lookup", "arguments": {"q": "x"}},
                {"tool": "lookup", "arguments": '{{"q": "y"}}'},
            ]
        },
        {"pause": 0.5},
        {"event": {"type": "custom.after", "data": {}}},
        {"usage": USAGE},
    ]


def test_metadata_goes_where_the_polls_saw_it_and_drops_where_the_stream_broke() -> None:
    capture = turn(
        CREATED,
        (0.0, "custom.a", {}),
        (10.0, "custom.b", {}),
        completed(20.0),
        metadata_before={"keep": 1},
        samples=[
            Sample(5.0, {"keep": 1, "stage": "one"}),
            Sample(25.0, {"keep": 1, "stage": "two", "done": True}),
        ],
        drops=[2],
    )
    assert steps_of(capture) == [
        {"event": {"type": "custom.a", "data": {}}},
        {"pause": 5.0},
        {"metadata": {"stage": "one"}},
        {"drop": True},
        {"pause": 5.0},
        {"event": {"type": "custom.b", "data": {}}},
        {"pause": 10.0},
        {"metadata": {"stage": "two", "done": True}},
        {"usage": USAGE},
    ]


def test_an_error_is_a_fail_step_and_a_cancel_waits_for_the_next_one() -> None:
    failed = turn(CREATED, (3.0, "message.error", {"id": "msg_1", "error": "boom: {x}"}))
    assert steps_of(failed) == [{"pause": 3.0}, {"fail": "boom: {{x}}"}]
    cancelled = turn(CREATED, (1.0, "message.cancelled", {"id": "msg_1", "status": "cancelled"}))
    recorded = turn_steps(cancelled, TIMING, Rules(), no_files())
    assert recorded.steps == [{"pause": "90m"}]
    assert any("cancelled" in note for note in recorded.notes)


def test_a_turn_the_recording_did_not_see_end_says_so() -> None:
    recorded = turn_steps(turn(CREATED, (0.0, "custom.a", {})), TIMING, Rules(), no_files())
    assert recorded.steps == [{"event": {"type": "custom.a", "data": {}}}]
    assert recorded.notes == ["the recording ended before the turn did (no terminal event)"]


def test_redacted_text_is_streamed_again_in_even_chunks() -> None:
    capture = turn(
        CREATED,
        (0.0, "text.start", {}),
        (0.0, "text.delta", {"content": "key sk-1"}),
        (0.0, "text.delta", {"content": "23 ok"}),
        (0.0, "text.stop", {}),
        completed(0.0),
    )
    rules = Rules(text=lambda text: text.replace("sk-123", "[redacted]"))
    recorded = turn_steps(capture, TIMING, rules, no_files())
    assert recorded.steps[0] == {"text": {"content": "key [redacted] ok", "chunk": 8, "pace": 0.0}}


def test_escaped_doubles_braces_in_values_not_keys() -> None:
    assert escaped({"{k}": ["{a}", 1, {"b": "}"}]}) == {"{k}": ["{{a}}", 1, {"b": "}}"}]}


# -- responses --------------------------------------------------------------------------


def response(*events: tuple[float, str, dict[str, Any]]) -> ResponseCapture:
    seen = [
        Seen(at, kind, {"type": kind, **data, "sequence_number": n})
        for n, (at, kind, data) in enumerate(events)
    ]
    return ResponseCapture(request={"input": "hi"}, started_at=0.0, events=seen, complete=True)


def final(status: str, **fields: Any) -> dict[str, Any]:
    return {"response": {"id": "resp_1", "status": status, **fields}}


def test_a_streamed_response_is_its_items_in_order() -> None:
    call = {
        "type": "function_call",
        "id": "fc_1",
        "call_id": "call_1",
        "name": "get",
        "arguments": '{"a":1}',
    }
    capture = response(
        (0.0, "response.created", final("in_progress")),
        (0.0, "response.output_item.added", {"item": {"type": "reasoning", "id": "rs_1"}}),
        (0.1, "response.reasoning_summary_text.delta", {"delta": "Thi"}),
        (0.2, "response.reasoning_summary_text.delta", {"delta": "nking"}),
        (0.2, "response.output_item.done", {"item": {"type": "reasoning", "id": "rs_1"}}),
        (0.2, "response.output_item.added", {"item": {**call, "arguments": ""}}),
        (0.2, "response.function_call_arguments.delta", {"delta": '{"a":1}'}),
        (0.2, "response.output_item.done", {"item": call}),
        (
            0.2,
            "response.completed",
            final(
                "completed",
                usage={
                    "input_tokens": 10,
                    "input_tokens_details": {"cached_tokens": 4},
                    "output_tokens": 5,
                },
            ),
        ),
    )
    assert response_steps(capture, TIMING, Rules()).steps == [
        {"think": {"deltas": ["Thi", "nking"], "pace": 0.1}},
        {"client_tool": [{"tool": "get", "arguments": {"a": 1}}]},
        {"usage": {"input_tokens": 6, "output_tokens": 5, "cache_read_input_tokens": 4}},
    ]


def test_a_failed_response_fails_with_its_message() -> None:
    capture = response(
        (0.0, "response.created", final("in_progress")),
        (1.0, "response.failed", final("failed", error={"code": "x", "message": "x: went wrong"})),
    )
    assert response_steps(capture, TIMING, Rules()).steps == [
        {"pause": 1.0},
        {"fail": "x: went wrong"},
    ]


def test_a_json_response_is_made_from_its_output_items() -> None:
    capture = ResponseCapture(
        request={"input": "hi"},
        started_at=0.0,
        answered_at=0.05,
        answer={
            "status": "completed",
            "output": [
                {"type": "message", "content": [{"type": "output_text", "text": "Hi {there}"}]},
                {"type": "function_call", "name": "f", "arguments": "{}"},
                {"type": "function_call", "name": "g", "arguments": "{}"},
                {"type": "web_search_call"},
            ],
            "usage": {"input_tokens": 2, "output_tokens": 3},
        },
    )
    recorded = response_steps(capture, TIMING, Rules())
    assert recorded.steps == [
        {"text": {"content": "Hi {{there}}"}},
        {"client_tool": [{"tool": "f", "arguments": {}}, {"tool": "g", "arguments": {}}]},
        {"usage": {"input_tokens": 2, "output_tokens": 3}},
    ]
    assert recorded.notes == [
        "an output item of type 'web_search_call' cannot be replayed and was left out"
    ]


Event = tuple[float, str, dict[str, Any]]


def tool_events(
    at: float,
    took: float,
    tool_input: dict[str, Any],
    *,
    result: str = "",
    is_error: bool = False,
    result_id: str = "toolu_1",
) -> list[Event]:
    """The five events of a server tool ``t`` as M4 orders them, ``took`` seconds long."""
    return [
        (at, "tool_use.start", {"name": "t", "id": "toolu_1"}),
        (at, "tool_use.input_delta", {"content": json.dumps(tool_input)}),
        (at, "tool_use.executing", {"name": "t", "id": "toolu_1", "input": tool_input}),
        (at + took, "tool_use.stop", {}),
        (at + took, "tool_result", {"id": result_id, "content": result, "is_error": is_error}),
    ]


def write_tool(at: float, took: float, path: str = "out/a.md", size: int = 5) -> list[Event]:
    tool_input = {"path": path}
    return [
        (at, "tool_use.start", {"name": "write_file", "id": "toolu_1"}),
        (at, "tool_use.input_delta", {"content": json.dumps(tool_input)}),
        (at, "tool_use.executing", {"name": "write_file", "id": "toolu_1", "input": tool_input}),
        (at + took, "tool_use.stop", {}),
        (
            at + took,
            "tool_result",
            {"id": "toolu_1", "content": f"wrote {path} ({size} bytes)", "is_error": False},
        ),
    ]


def test_a_write_that_took_time_stays_a_tool_and_its_file_is_written_quietly_after() -> None:
    files = FileSteps([CapturedFile("out/a.md", 5, b"hello")], lambda file: {"size": file.size})
    capture = turn(CREATED, *write_tool(0.0, 12.0), completed(12.0))
    assert steps_of(capture, files=files) == [
        {
            "tool": {
                "name": "write_file",
                "input": {"path": "out/a.md"},
                "result": "wrote out/a.md (5 bytes)",
                "duration": 12.0,
            }
        },
        {"write": {"path": "out/a.md", "size": 5, "quiet": True}},
        {"usage": USAGE},
    ]


def test_metadata_seen_while_a_tool_ran_goes_to_the_nearer_end_of_it() -> None:
    tool_input = {"q": 1}
    capture = turn(
        CREATED,
        *tool_events(1.0, 60.0, tool_input),
        completed(61.0),
        samples=[Sample(2.0, {"stage": "searching"}), Sample(60.0, {"stage": "searched"})],
    )
    assert steps_of(capture) == [
        {"pause": 1.0},
        {"metadata": {"stage": "searching"}},
        {"tool": {"name": "t", "input": tool_input, "result": "", "duration": 60.0}},
        {"metadata": {"stage": "searched"}},
        {"usage": USAGE},
    ]


def test_time_counts_from_the_first_event_not_from_the_request() -> None:
    late = TurnCapture(
        session_id="ses_1",
        message="hello",
        started_at=0.0,
        events=[
            Seen(2.0, CREATED[1], CREATED[2]),
            Seen(2.05, "custom.a", {}),
            Seen(2.05, "message.completed", {"id": "msg_1", "usage": USAGE}),
        ],
    )
    assert steps_of(late) == [{"event": {"type": "custom.a", "data": {}}}, {"usage": USAGE}]


def test_a_responses_reasoning_tokens_are_kept() -> None:
    capture = response(
        (0.0, "response.created", final("in_progress")),
        (
            0.0,
            "response.completed",
            final(
                "completed",
                usage={
                    "input_tokens": 4,
                    "output_tokens": 9,
                    "output_tokens_details": {"reasoning_tokens": 6},
                },
            ),
        ),
    )
    assert response_steps(capture, TIMING, Rules()).steps == [
        {"usage": {"input_tokens": 4, "output_tokens": 9, "reasoning_tokens": 6}}
    ]


# -- edges the mutation run found untested ---------------------------------------------------


def test_an_empty_text_block_is_an_empty_content() -> None:
    capture = turn(CREATED, (0.0, "text.start", {}), (0.0, "text.stop", {}), completed(0.0))
    assert steps_of(capture)[0] == {"text": {"content": "", "chunk": 16, "pace": 0.0}}


def test_no_gap_is_no_pause_even_with_no_minimum() -> None:
    capture = turn(CREATED, (0.0, "custom.a", {}), (0.0, "custom.b", {}), completed(0.0))
    assert {"pause": 0.0} not in steps_of(capture, Timing(scale=1.0, min_pause=0.0))


def test_a_short_tool_keeps_its_duration() -> None:
    capture = turn(CREATED, *tool_events(0.0, 0.5, {"q": 1}), completed(0.5))
    assert steps_of(capture)[0]["tool"]["duration"] == 0.5


def test_a_metadata_key_removed_during_the_turn_is_noted() -> None:
    capture = turn(
        CREATED,
        completed(1.0),
        metadata_before={"a": 1, "b": 2},
        samples=[Sample(0.5, {"a": 1})],
    )
    recorded = turn_steps(capture, TIMING, Rules(), no_files())
    assert recorded.notes == ["metadata keys removed during the turn are kept: ['b']"]


def test_a_streamed_response_dropped_and_cancelled_says_both() -> None:
    capture = response(
        (0.0, "response.created", final("in_progress")),
        (0.0, "response.cancelled", final("cancelled")),
    )
    capture.drops.append(1)
    recorded = response_steps(capture, TIMING, Rules())
    assert recorded.steps == [{"drop": True}, {"pause": "90m"}]
    assert recorded.notes == ["the client cancelled it: the replay waits up to 90m"]


def test_a_cancelled_json_response_waits_for_a_cancel_too() -> None:
    capture = ResponseCapture(
        request={"input": "hi"}, started_at=0.0, answer={"status": "cancelled", "output": []}
    )
    recorded = response_steps(capture, TIMING, Rules())
    assert recorded.steps == [{"pause": "90m"}]
    assert recorded.notes == ["the client cancelled it: the replay waits up to 90m"]


def test_a_json_responses_items_each_become_their_step_in_order() -> None:
    capture = ResponseCapture(
        request={"input": "hi"},
        started_at=0.0,
        answer={
            "status": "completed",
            "output": [
                {"type": "reasoning", "summary": [{"type": "summary_text", "text": "Plan"}]},
                {"type": "message", "content": [{"type": "output_text", "text": "Hi"}]},
                {"type": "function_call", "name": "f", "arguments": "{}"},
                {"type": "function_call", "name": "g", "arguments": "{}"},
            ],
        },
    )
    assert response_steps(capture, TIMING, Rules()).steps == [
        {"think": {"content": "Plan"}},
        {"text": {"content": "Hi"}},
        {"client_tool": [{"tool": "f", "arguments": {}}, {"tool": "g", "arguments": {}}]},
    ]


def test_tool_events_whose_ids_disagree_are_kept_as_events() -> None:
    capture = turn(CREATED, *tool_events(0.0, 0.0, {"q": 1}, result_id="toolu_2"), completed(0.0))
    assert [next(iter(step)) for step in steps_of(capture)] == ["event"] * 5 + ["usage"]


def test_a_failed_tool_says_so() -> None:
    capture = turn(CREATED, *tool_events(0.0, 0.0, {}, result="no", is_error=True), completed(0.0))
    assert steps_of(capture)[0] == {
        "tool": {"name": "t", "input": {}, "result": "no", "is_error": True}
    }


def test_a_blocks_pace_is_its_own_time_wherever_it_starts() -> None:
    capture = turn(
        CREATED,
        (1.0, "text.start", {}),
        (1.1, "text.delta", {"content": "ab"}),
        (1.2, "text.delta", {"content": "c"}),
        (1.2, "text.stop", {}),
        completed(1.2),
    )
    assert steps_of(capture)[:2] == [
        {"pause": 1.0},
        {"text": {"content": "abc", "chunk": 2, "pace": 0.1}},
    ]


def test_a_turn_with_no_events_puts_its_metadata_at_its_start() -> None:
    capture = TurnCapture(
        session_id="s", message="m", started_at=0.0, samples=[Sample(5.0, {"a": 1})]
    )
    assert steps_of(capture) == [{"metadata": {"a": 1}}]


def test_a_streamed_response_without_its_end_says_so() -> None:
    capture = response((0.0, "response.created", final("in_progress")))
    recorded = response_steps(capture, TIMING, Rules())
    assert recorded.steps == []
    assert recorded.notes == ["the recording ended before the response did"]
