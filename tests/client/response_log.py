"""A stateless response as a server sends it, for the client's tests that script the
server: the R3 response object and its items, and the R5 events of its stream, in the
shapes and order the contract gives (frames as `tests.client.flaky.frame` writes them)."""

from __future__ import annotations

from typing import Any

RESPONSE_ID = "resp_" + "0123456789ab" * 2
MESSAGE_ID = "msg_" + "cd" * 12
MODEL = "pokee-isaac"
WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "The weather in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
}


def message(text: str, status: str = "completed") -> dict[str, Any]:
    content = [{"type": "output_text", "text": text, "annotations": []}] if text else []
    return {
        "type": "message",
        "id": MESSAGE_ID,
        "role": "assistant",
        "status": status,
        "content": content,
    }


def function_call(arguments: str = '{"city": "Paris"}') -> dict[str, Any]:
    return {
        "type": "function_call",
        "id": "fc_" + "ef" * 12,
        "call_id": "call_" + "12" * 12,
        "name": "get_weather",
        "arguments": arguments,
        "status": "completed",
    }


def reasoning(text: str) -> dict[str, Any]:
    return {
        "type": "reasoning",
        "id": "rs_" + "34" * 12,
        "summary": [{"type": "summary_text", "text": text}],
    }


def usage(inputs: int = 12, outputs: int = 5) -> dict[str, Any]:
    return {
        "input_tokens": inputs,
        "input_tokens_details": {"cached_tokens": 2},
        "output_tokens": outputs,
        "output_tokens_details": {"reasoning_tokens": 1},
        "total_tokens": inputs + outputs,
    }


def response_object(
    output: list[dict[str, Any]] | None = None, *, status: str = "completed", **changes: Any
) -> dict[str, Any]:
    """R3's object; ``output`` defaults to one message, "Hello there."."""
    return {
        "id": RESPONSE_ID,
        "object": "response",
        "created_at": 1_700_000_000,
        "status": status,
        "model": MODEL,
        "output": [message("Hello there.")] if output is None else output,
        "usage": usage() if status == "completed" else None,
        "tools": [],
        "tool_choice": "auto",
        "parallel_tool_calls": True,
        "temperature": 1.0,
        "top_p": 1.0,
        "metadata": {},
        "instructions": None,
        "reasoning": {"effort": None},
        "error": None,
        "incomplete_details": None,
        **changes,
    }


def response_log(
    pieces: tuple[str, ...] = ("Hello", " there", "."),
) -> list[tuple[str, dict[str, Any]]]:
    """R5's events of a text answer made of ``pieces``: created first, completed last."""
    started = response_object([], status="in_progress")
    where = {"item_id": MESSAGE_ID, "output_index": 0, "content_index": 0}
    part = {"type": "output_text", "text": "", "annotations": []}
    text = "".join(pieces)
    done = message(text)
    events: list[tuple[str, dict[str, Any]]] = [
        ("response.created", {"id": RESPONSE_ID, "response": started}),
        ("response.in_progress", {"response": started}),
        ("response.output_item.added", {"output_index": 0, "item": message("", "in_progress")}),
        ("response.content_part.added", {**where, "part": part}),
    ]
    events += [("response.output_text.delta", {**where, "delta": piece}) for piece in pieces]
    events += [
        ("response.output_text.done", {**where, "text": text}),
        ("response.content_part.done", {**where, "part": {**part, "text": text}}),
        ("response.output_item.done", {"output_index": 0, "item": done}),
        ("response.completed", {"response": response_object([done])}),
    ]
    return [(type_, {"type": type_, **data}) for type_, data in events]
