"""The shapes of OpenAI's Responses API, as the stateless surface sends them (R3, R5).

Every object and event a response shows is made here, and nowhere else: the response
object, its output items, and the data of each stream event, with ``type`` repeated
inside as OpenAI does. The run (`mock_pokee.domain.responses`) decides what happens and
when; this module only says how it looks. Field order follows OpenAI's own answers, so a
diff against a recorded one reads clearly.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

Data = dict[str, Any]
Shaped = tuple[str, Data]  # an event's type and its data


def response_object(
    *,
    response_id: str,
    created_at: int,
    status: str,
    model: str,
    settings: Mapping[str, Any],
    output: list[Data],
    usage: Data | None,
    error: Data | None = None,
) -> Data:
    """R3: the response, with the request's settings echoed as the SDKs read them."""
    return {
        "id": response_id,
        "object": "response",
        "created_at": created_at,
        "status": status,
        "error": error,
        "incomplete_details": None,
        "instructions": settings["instructions"],
        "max_output_tokens": settings["max_output_tokens"],
        "model": model,
        "output": output,
        "parallel_tool_calls": settings["parallel_tool_calls"],
        "reasoning": settings["reasoning"],
        "store": settings["store"],
        "temperature": settings["temperature"],
        "tool_choice": settings["tool_choice"],
        "tools": settings["tools"],
        "top_p": settings["top_p"],
        "usage": usage,
        "user": settings["user"],
        "metadata": settings["metadata"],
    }


def usage_object(input_tokens: int, cached: int, output_tokens: int, reasoning: int) -> Data:
    """R3's ``usage``: OpenAI counts cached input inside ``input_tokens`` and reasoning
    inside ``output_tokens``."""
    return {
        "input_tokens": input_tokens,
        "input_tokens_details": {"cached_tokens": cached},
        "output_tokens": output_tokens,
        "output_tokens_details": {"reasoning_tokens": reasoning},
        "total_tokens": input_tokens + output_tokens,
    }


def error_object(error: str) -> Data:
    """A failed response's ``error``: the short name before any ``:`` as its code, the
    whole text as its message (``tool_result_timeout``, ``internal_error: …``)."""
    return {"code": error.partition(":")[0], "message": error}


# -- output items -------------------------------------------------------------------------


def message_item(item_id: str, text: str | None) -> Data:
    """An assistant message: empty and in progress while streamed (``text`` None), then
    completed with its one ``output_text`` part."""
    return {
        "type": "message",
        "id": item_id,
        "role": "assistant",
        "status": "in_progress" if text is None else "completed",
        "content": [] if text is None else [text_part(text)],
    }


def text_part(text: str) -> Data:
    return {"type": "output_text", "text": text, "annotations": []}


def reasoning_item(item_id: str, summary: str | None) -> Data:
    """A reasoning item: no summary while streamed, then one ``summary_text``."""
    parts = [] if summary is None else [{"type": "summary_text", "text": summary}]
    return {"type": "reasoning", "id": item_id, "summary": parts}


def function_call_item(
    item_id: str, call_id: str, name: str, arguments: str, *, done: bool
) -> Data:
    return {
        "type": "function_call",
        "id": item_id,
        "call_id": call_id,
        "name": name,
        "arguments": arguments,
        "status": "completed" if done else "in_progress",
    }


# -- stream events (R5) ---------------------------------------------------------------------


def _event(type_: str, **fields: Any) -> Shaped:
    return type_, {"type": type_, **fields}


def created(response: Data) -> Shaped:
    """Always first; the response id also at ``data.id`` (R5)."""
    return _event("response.created", id=response["id"], response=response)


def in_progress(response: Data) -> Shaped:
    return _event("response.in_progress", response=response)


def item_added(index: int, item: Data) -> Shaped:
    return _event("response.output_item.added", output_index=index, item=item)


def item_done(index: int, item: Data) -> Shaped:
    return _event("response.output_item.done", output_index=index, item=item)


def part_added(item_id: str, index: int) -> Shaped:
    return _event(
        "response.content_part.added",
        item_id=item_id,
        output_index=index,
        content_index=0,
        part=text_part(""),
    )


def part_done(item_id: str, index: int, text: str) -> Shaped:
    return _event(
        "response.content_part.done",
        item_id=item_id,
        output_index=index,
        content_index=0,
        part=text_part(text),
    )


def text_delta(item_id: str, index: int, delta: str) -> Shaped:
    return _event(
        "response.output_text.delta",
        item_id=item_id,
        output_index=index,
        content_index=0,
        delta=delta,
        logprobs=[],
    )


def text_done(item_id: str, index: int, text: str) -> Shaped:
    return _event(
        "response.output_text.done",
        item_id=item_id,
        output_index=index,
        content_index=0,
        text=text,
        logprobs=[],
    )


def summary_delta(item_id: str, index: int, delta: str) -> Shaped:
    return _event(
        "response.reasoning_summary_text.delta",
        item_id=item_id,
        output_index=index,
        summary_index=0,
        delta=delta,
    )


def summary_done(item_id: str, index: int, text: str) -> Shaped:
    return _event(
        "response.reasoning_summary_text.done",
        item_id=item_id,
        output_index=index,
        summary_index=0,
        text=text,
    )


def arguments_delta(item_id: str, index: int, delta: str) -> Shaped:
    return _event(
        "response.function_call_arguments.delta", item_id=item_id, output_index=index, delta=delta
    )


def arguments_done(item_id: str, index: int, arguments: str) -> Shaped:
    return _event(
        "response.function_call_arguments.done",
        item_id=item_id,
        output_index=index,
        arguments=arguments,
    )


TERMINAL = {
    "completed": "response.completed",
    "error": "response.failed",
    "cancelled": "response.cancelled",
}


def terminal(status: str, response: Data) -> Shaped:
    """Exactly one, always last (R5): completed, failed or cancelled."""
    return _event(TERMINAL[status], response=response)
