"""The events of both streams, by type, with the data fields each type carries.

Kept in one place for everything that reads streams: the contract tests' checker
(`contract_tests/sse.py`) holds a stream to the types, and the recorder's drift report
(`mock_pokee.recording.drift`) tells a deployment's new types and fields from the known
ones. The fields are what the contract names and the mock sends: M4 and M12 for a session
turn (`mock_pokee.domain.turns`, `mock_pokee.scenarios.runner`,
`mock_pokee.domain.toolcalls`), R5 for a stateless response
(`mock_pokee.domain.openai_events`).
"""

from __future__ import annotations

from collections.abc import Mapping

# M3, R5: every event's data repeats its seq.
EVERY_EVENT = frozenset({"sequence_number"})

TURN_TERMINAL = frozenset({"message.completed", "message.error", "message.cancelled"})
_DELTA = frozenset({"content"})
_TOOL = frozenset({"name", "id"})
TURN_EVENTS: Mapping[str, frozenset[str]] = {
    "message.created": frozenset({"id", "session_id", "status"}),
    **{f"{kind}.start": frozenset() for kind in ("text", "thinking")},
    **{f"{kind}.delta": _DELTA for kind in ("text", "thinking")},
    **{f"{kind}.stop": frozenset() for kind in ("text", "thinking")},
    "tool_use.start": _TOOL,
    "tool_use.input_delta": _DELTA,
    "tool_use.executing": _TOOL | {"input"},
    "tool_use.stop": frozenset(),
    "tool_result": frozenset({"id", "content", "is_error"}),
    "tool_call.requested": frozenset({"call_id", "name", "arguments"}),  # M12
    "message.completed": frozenset({"id", "status", "usage"}),
    "message.error": frozenset({"id", "error"}),
    "message.cancelled": frozenset({"id", "status"}),
}

# R5: OpenAI's events repeat their type inside their data.
EVERY_RESPONSE_EVENT = EVERY_EVENT | {"type"}
RESPONSE_TERMINAL = frozenset({"response.completed", "response.failed", "response.cancelled"})
_IN_ITEM = frozenset({"item_id", "output_index"})
_IN_PART = _IN_ITEM | {"content_index"}
_IN_SUMMARY = _IN_ITEM | {"summary_index"}
RESPONSE_EVENTS: Mapping[str, frozenset[str]] = {
    "response.created": frozenset({"id", "response"}),
    "response.in_progress": frozenset({"response"}),
    "response.output_item.added": frozenset({"output_index", "item"}),
    "response.output_item.done": frozenset({"output_index", "item"}),
    "response.content_part.added": _IN_PART | {"part"},
    "response.content_part.done": _IN_PART | {"part"},
    "response.output_text.delta": _IN_PART | {"delta", "logprobs"},
    "response.output_text.done": _IN_PART | {"text", "logprobs"},
    "response.function_call_arguments.delta": _IN_ITEM | {"delta"},
    "response.function_call_arguments.done": _IN_ITEM | {"arguments"},
    # OpenAI frames a reasoning summary's text in parts, as it does an output's content;
    # the mock sends only the text events, the parts carry OpenAI's fields.
    "response.reasoning_summary_part.added": _IN_SUMMARY | {"part"},
    "response.reasoning_summary_part.done": _IN_SUMMARY | {"part"},
    "response.reasoning_summary_text.delta": _IN_SUMMARY | {"delta"},
    "response.reasoning_summary_text.done": _IN_SUMMARY | {"text"},
    **{terminal: frozenset({"response"}) for terminal in sorted(RESPONSE_TERMINAL)},
}
