"""What a ``POST /v1/responses`` asks (contract R1, R2), read strictly.

The settings are a `StrictBody` (unknown fields and explicit nulls refused, A8), the
tools follow S1b (`parse_tools`), and the input items are read here, item by item, so
that a refusal names its place the way a client's code holds it: ``input[3].call_id``.
The endpoint is stateless: a request that points at earlier state
(``previous_response_id``, ``conversation``) is refused and told to send the history.

Items follow OpenAI's Responses input items: messages (with or without ``"type":
"message"``; content a string or ``input_text`` / ``output_text`` parts), function calls,
their outputs, and reasoning items (ignored). The fields OpenAI puts on its own output
items (``id``, ``status``, a part's ``annotations`` and ``logprobs``) are accepted, so a
client may send a response's output back in its next request, as OpenAI's guides do.
Reading is linear in the body; every string was already checked by the JSON reader.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import Field, StrictBool, StrictStr, ValidationError

from mock_pokee.domain.errors import InvalidRequest
from mock_pokee.domain.inputs import parse_object
from mock_pokee.domain.models import DEFAULT_MODEL, ModelCatalog
from mock_pokee.domain.strict import JsonInt, JsonNumber, StrictBody, describe
from mock_pokee.domain.text import shown
from mock_pokee.domain.tools import ClientTool, parse_tools
from mock_pokee.limits import MAX_METADATA_KEY, MAX_METADATA_PAIRS, MAX_METADATA_VALUE

Effort = Literal["minimal", "low", "medium", "high"]
ROLES = ("user", "assistant", "system", "developer")
TOOL_CHOICES = ("auto", "none", "required")
# R1 [C]: fields that point at state kept by the server, which this endpoint has none of.
STATEFUL = ("previous_response_id", "conversation")


class ReasoningSettings(StrictBody):
    """R1: ``{"effort": …}``; left out, or ``minimal``, the model does not think."""

    effort: Effort | None = None


MetadataKey = Annotated[StrictStr, Field(max_length=MAX_METADATA_KEY)]
MetadataValue = Annotated[StrictStr, Field(max_length=MAX_METADATA_VALUE)]


class ResponseBody(StrictBody):
    """R1's fields; ``input``, ``tools`` and ``tool_choice`` are read on their own (R2,
    S1b), so that their messages name an item, a tool or a choice exactly."""

    input: Any
    model: StrictStr | None = None
    tools: list[Any] | None = None
    stream: StrictBool = False
    reasoning: ReasoningSettings | None = None
    instructions: StrictStr | None = None
    tool_choice: Any = None
    parallel_tool_calls: StrictBool | None = None
    max_output_tokens: Annotated[JsonInt, Field(ge=1)] | None = None
    temperature: Annotated[JsonNumber, Field(ge=0, le=2)] | None = None
    top_p: Annotated[JsonNumber, Field(ge=0, le=1)] | None = None
    metadata: (
        Annotated[dict[MetadataKey, MetadataValue], Field(max_length=MAX_METADATA_PAIRS)] | None
    ) = None
    store: StrictBool | None = None
    user: StrictStr | None = None


@dataclass(frozen=True, slots=True)
class Message:
    role: str
    text: str  # the text of its parts, one after another


@dataclass(frozen=True, slots=True)
class FunctionCall:
    call_id: str
    name: str
    arguments: str


@dataclass(frozen=True, slots=True)
class FunctionOutput:
    call_id: str
    output: str


Item = Message | FunctionCall | FunctionOutput


@dataclass(frozen=True)
class ResponseRequest:
    """A request as the fake model reads it; ``settings`` are echoed in the response
    object (R3), as given or at OpenAI's defaults."""

    items: tuple[Item, ...]
    model: str
    tools: tuple[ClientTool, ...] = ()
    tool_choice: str = "auto"  # auto, none, required, or "function" (`forced_tool`)
    forced_tool: str | None = None
    effort: Effort | None = None
    stream: bool = False
    instructions: str = ""
    settings: Mapping[str, Any] = field(default_factory=dict)
    input_chars: int = 0  # of everything the model reads: what its input tokens count (R8)

    @property
    def last_user_message(self) -> str:
        """The text of the last user message (what a scenario's templates quote)."""
        for item in reversed(self.items):
            if isinstance(item, Message) and item.role == "user":
                return item.text
        return ""

    @property
    def ends_with_user_message(self) -> bool:
        last = self.items[-1]
        return isinstance(last, Message) and last.role == "user"

    @property
    def calls_since_user(self) -> int:
        """Function calls made since the last user message: how far a scripted
        conversation has come (each of a scenario's calls is one of them, R4)."""
        count = 0
        for item in reversed(self.items):
            if isinstance(item, Message) and item.role == "user":
                break
            count += isinstance(item, FunctionCall)
        return count

    @property
    def tool_outputs(self) -> tuple[FunctionOutput, ...]:
        """When the input ends with a function call output (R4), the outputs since the
        last message: several calls answered, whether each call's output follows it or
        all outputs follow all calls. Otherwise none."""
        if not isinstance(self.items[-1], FunctionOutput):
            return ()
        outputs: list[FunctionOutput] = []
        for item in reversed(self.items):
            if isinstance(item, Message):
                break
            if isinstance(item, FunctionOutput):
                outputs.append(item)
        return tuple(reversed(outputs))


def read_request(raw: bytes, models: ModelCatalog) -> tuple[ResponseRequest, str]:
    """The whole reading of a body: JSON within its bounds, then R1 and R2; and a hash of
    the body as an idempotent retry must repeat it (R6, as M9: the same JSON, whatever
    its spacing and key order). Linear in the body, and free of the event loop, so that
    the caller may run it in a worker thread when the body is large."""
    data = parse_object(raw)
    request = parse_request(data, models)
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return request, hashlib.sha256(canonical.encode()).hexdigest()


def parse_request(data: dict[str, Any], models: ModelCatalog) -> ResponseRequest:
    """R1, R2: the request, or `InvalidRequest` naming the field or item at fault."""
    for name in STATEFUL:
        if name in data:
            raise InvalidRequest(
                f"{name}: /v1/responses is stateless and keeps no earlier responses; "
                "send the whole conversation in input"
            )
    try:
        body = ResponseBody.model_validate(data)
    except ValidationError as exc:
        raise InvalidRequest(describe(exc)) from None
    model = models.check(body.model) or DEFAULT_MODEL
    tools = parse_tools(body.tools) if body.tools is not None else ()
    choice, forced = _tool_choice(body.tool_choice, tools)
    items = parse_input(body.input)
    effort = body.reasoning.effort if body.reasoning is not None else None
    settings = {
        "instructions": body.instructions,
        "tools": body.tools or [],
        "tool_choice": "auto" if body.tool_choice is None else body.tool_choice,
        "parallel_tool_calls": True
        if body.parallel_tool_calls is None
        else body.parallel_tool_calls,
        "temperature": 1.0 if body.temperature is None else body.temperature,
        "top_p": 1.0 if body.top_p is None else body.top_p,
        "metadata": body.metadata or {},
        "reasoning": {"effort": effort},
        "max_output_tokens": body.max_output_tokens,
        "store": True if body.store is None else body.store,
        "user": body.user,
    }
    return ResponseRequest(
        items=items,
        model=model,
        tools=tools,
        tool_choice=choice,
        forced_tool=forced,
        effort=effort,
        stream=body.stream,
        instructions=body.instructions or "",
        settings=settings,
        input_chars=_chars(body.instructions or "", items, tools),
    )


def _chars(instructions: str, items: tuple[Item, ...], tools: tuple[ClientTool, ...]) -> int:
    """Characters of what the model reads: instructions, every item's text, and the tools
    (name, description, schema as JSON)."""
    count = len(instructions)
    for item in items:
        if isinstance(item, Message):
            count += len(item.text)
        elif isinstance(item, FunctionCall):
            count += len(item.name) + len(item.arguments)
        else:
            count += len(item.output)
    for tool in tools:
        count += len(tool.name) + len(tool.description) + len(json.dumps(tool.parameters))
    return count


def _tool_choice(raw: object, tools: tuple[ClientTool, ...]) -> tuple[str, str | None]:
    """R1 [O]: ``auto``, ``none``, ``required``, or ``{"type": "function", "name"}``
    naming one of the tools; a choice that needs tools when there are none is refused."""
    if raw is None:
        return "auto", None
    if isinstance(raw, str) and raw in TOOL_CHOICES:
        if raw == "required" and not tools:
            raise InvalidRequest('tool_choice: "required" needs tools; send some, or "auto"')
        return raw, None
    if isinstance(raw, dict) and set(raw) == {"type", "name"} and raw["type"] == "function":
        name = raw["name"]
        if not isinstance(name, str):
            raise InvalidRequest("tool_choice.name: must be a string")
        if not any(tool.name == name for tool in tools):
            known = ", ".join(tool.name for tool in tools) or "none"
            raise InvalidRequest(
                f"tool_choice.name: no function {shown(name)} in tools (given: {known})"
            )
        return "function", name
    raise InvalidRequest(
        'tool_choice: must be "auto", "none", "required" or {"type": "function", "name": …}, '
        f"not {shown(raw)}"
    )


# -- input items (R2) ----------------------------------------------------------------------


def parse_input(raw: object) -> tuple[Item, ...]:
    """R2: a string is one user message; an array holds items, reasoning items left out.
    Empty input, an unknown item or part, a field out of place, or an output for a call
    that nothing in the input made is refused, naming its place."""
    if isinstance(raw, str):
        if not raw:
            raise InvalidRequest("input: empty; send a message, or an array of items")
        return (Message("user", raw),)
    if not isinstance(raw, list):
        raise InvalidRequest("input: must be a string or an array of items")
    if not raw:
        raise InvalidRequest("input: empty; send at least one item")
    items: list[Item] = []
    calls: set[str] = set()
    for index, value in enumerate(raw):
        where = f"input[{index}]"
        if not isinstance(value, dict):
            raise InvalidRequest(f"{where}: must be an object (an input item)")
        kind = value.get("type", "message" if "role" in value else None)
        reader = _ITEMS.get(kind) if isinstance(kind, str) else None
        if reader is None:
            raise InvalidRequest(
                f"{where}.type: {_kind_shown(value)}; known: {', '.join(_ITEMS)} "
                "(a message may leave type out)"
            )
        item = reader(value, where)
        if isinstance(item, FunctionCall):
            calls.add(item.call_id)
        elif isinstance(item, FunctionOutput) and item.call_id not in calls:
            raise InvalidRequest(
                f"{where}.call_id: no function_call with call_id {shown(item.call_id)} "
                "comes before it in input; send the call, then its output"
            )
        if item is not None:
            items.append(item)
    if not items:
        raise InvalidRequest("input: only reasoning items; send a message")
    return tuple(items)


def _kind_shown(value: dict[str, Any]) -> str:
    if "type" not in value:
        return "missing (or role, for a message)"
    return f"unknown item type {shown(value['type'])}"


def _fields(value: dict[str, Any], where: str, allowed: frozenset[str]) -> None:
    for name in value:
        if name not in allowed:
            raise InvalidRequest(f"{where}.{_name(name)}: unknown field")


def _name(name: str) -> str:
    return name if len(name) <= 64 and name.isprintable() else shown(name)


def _text(value: dict[str, Any], where: str, name: str, *, empty: bool = True) -> str:
    given = value.get(name)
    if not isinstance(given, str):
        raise InvalidRequest(f"{where}.{name}: required, a string")
    if not empty and not given:
        raise InvalidRequest(f"{where}.{name}: must not be empty")
    return given


def _status(value: dict[str, Any], where: str) -> None:
    if "status" in value and value["status"] not in ("in_progress", "completed", "incomplete"):
        raise InvalidRequest(
            f"{where}.status: must be in_progress, completed or incomplete, "
            f"not {shown(value['status'])}"
        )
    if "id" in value and not isinstance(value["id"], str):
        raise InvalidRequest(f"{where}.id: must be a string")


_MESSAGE = frozenset({"type", "role", "content", "id", "status"})
_PARTS: Mapping[str, frozenset[str]] = {
    "input_text": frozenset({"type", "text"}),
    "output_text": frozenset({"type", "text", "annotations", "logprobs"}),
}


def _message(value: dict[str, Any], where: str) -> Message:
    _fields(value, where, _MESSAGE)
    role = value.get("role")
    if role not in ROLES:
        raise InvalidRequest(f"{where}.role: must be one of {', '.join(ROLES)}, not {shown(role)}")
    _status(value, where)
    content = value.get("content")
    if isinstance(content, str):
        return Message(role, content)
    if not isinstance(content, list) or not content:
        raise InvalidRequest(f"{where}.content: required, a string or a non-empty array of parts")
    texts = []
    for index, part in enumerate(content):
        at = f"{where}.content[{index}]"
        kind = part.get("type") if isinstance(part, dict) else None
        allowed = _PARTS.get(kind) if isinstance(kind, str) else None
        if allowed is None:
            got = shown(kind) if isinstance(part, dict) else "not an object"
            raise InvalidRequest(f"{at}.type: {got}; a part is input_text or output_text")
        _fields(part, at, allowed)
        texts.append(_text(part, at, "text"))
        for listed in ("annotations", "logprobs"):
            if listed in part and not isinstance(part[listed], list):
                raise InvalidRequest(f"{at}.{listed}: must be an array")
    return Message(role, "".join(texts))


def _function_call(value: dict[str, Any], where: str) -> FunctionCall:
    _fields(value, where, frozenset({"type", "call_id", "name", "arguments", "id", "status"}))
    _status(value, where)
    return FunctionCall(
        _text(value, where, "call_id", empty=False),
        _text(value, where, "name", empty=False),
        _text(value, where, "arguments"),
    )


def _function_output(value: dict[str, Any], where: str) -> FunctionOutput:
    _fields(value, where, frozenset({"type", "call_id", "output", "id", "status"}))
    _status(value, where)
    return FunctionOutput(
        _text(value, where, "call_id", empty=False), _text(value, where, "output")
    )


def _reasoning(value: dict[str, Any], where: str) -> None:
    """R2: a reasoning item (one a response returned, sent back) is taken and ignored."""
    return None


_ITEMS: Mapping[str, Callable[[dict[str, Any], str], Item | None]] = {
    "message": _message,
    "function_call": _function_call,
    "function_call_output": _function_output,
    "reasoning": _reasoning,
}
