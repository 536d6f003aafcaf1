"""The response object of the stateless surface (R3) as typed values: what the model
answered (its output items) and what it cost (usage).

As in `pokee_client.records`, fields the contract does not name are ignored (A8) and a
named field that is missing or of the wrong type is a `ProtocolError`, raised here. The
object as the server sent it stays at ``Response.data``: R3 echoes the request's settings
beside the answer, and ``pokee respond --json`` prints the whole of it.

An output item of a type the client does not know arrives as `UnknownItem`, never as an
error. To continue a conversation (R4) the caller sends the whole history again:
``as_input()`` turns output items back into input items of R2's shapes with nothing else
in them, since the server refuses any field it does not know, at any depth (A8).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeAlias

from pokee_client.errors import ProtocolError
from pokee_client.records import _field, _object


@dataclass(frozen=True)
class OutputMessage:
    """A message of the model: its text is in its ``output_text`` parts, in order."""

    id: str
    role: str
    status: str
    parts: tuple[str, ...]

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def as_input(self) -> dict[str, Any]:
        """This message as an input item (R2), for the next call's history."""
        content = [{"type": "output_text", "text": part} for part in self.parts]
        return {"type": "message", "role": self.role, "content": content}


@dataclass(frozen=True)
class FunctionCall:
    """The model asks the caller to run one of the request's tools: ``name`` with
    ``arguments`` (JSON text). Run it, then send `answer` with the history (R4)."""

    id: str
    call_id: str
    name: str
    arguments: str
    status: str

    def answer(self, output: str) -> dict[str, Any]:
        """The ``function_call_output`` input item that gives this call its result."""
        return {"type": "function_call_output", "call_id": self.call_id, "output": output}

    def as_input(self) -> dict[str, Any]:
        """This call as an input item (R2), for the next call's history."""
        return {
            "type": "function_call",
            "call_id": self.call_id,
            "name": self.name,
            "arguments": self.arguments,
        }


@dataclass(frozen=True)
class Reasoning:
    """The summary of the model's reasoning, asked for with a reasoning effort (R1)."""

    id: str
    summary: tuple[str, ...]

    @property
    def text(self) -> str:
        return "\n\n".join(self.summary)


@dataclass(frozen=True)
class UnknownItem:
    """An output item of a type this client does not know; read ``type`` and ``data``."""

    type: str
    data: dict[str, Any]


OutputItem: TypeAlias = OutputMessage | FunctionCall | Reasoning | UnknownItem


def parse_item(body: object) -> OutputItem:
    """The typed output item of a JSON object (R3)."""
    item = _object(body, "output item")
    kind = item.get("type")
    what = f"output item {item.get('id')!r}"
    if kind == "message":
        parts = []
        for value in _field(item, "content", list, what):
            part = _object(value, f"{what} content")
            if part.get("type") == "output_text":  # other kinds of part carry no answer text
                parts.append(_field(part, "text", str, f"{what} content"))
        return OutputMessage(
            id=_field(item, "id", str, what),
            role=_field(item, "role", str, what),
            status=_field(item, "status", str, what),
            parts=tuple(parts),
        )
    if kind == "function_call":
        return FunctionCall(
            id=_field(item, "id", str, what),
            call_id=_field(item, "call_id", str, what),
            name=_field(item, "name", str, what),
            arguments=_field(item, "arguments", str, what),
            status=_field(item, "status", str, what),
        )
    if kind == "reasoning":
        summary = _field(item, "summary", list, what)
        return Reasoning(
            id=_field(item, "id", str, what),
            summary=tuple(_field(_object(s, what), "text", str, what) for s in summary),
        )
    return UnknownItem(type=str(kind), data=dict(item))


@dataclass(frozen=True)
class ResponseUsage:
    """The tokens of one call (R3), as billed (U1, U2): ``cached_tokens`` of the input
    were read from cache, ``reasoning_tokens`` of the output were spent thinking."""

    input_tokens: int
    cached_tokens: int
    output_tokens: int
    reasoning_tokens: int
    total_tokens: int

    @classmethod
    def from_json(cls, body: object) -> ResponseUsage:
        usage = _object(body, "response usage")
        inputs = _object(usage.get("input_tokens_details"), "usage input_tokens_details")
        outputs = _object(usage.get("output_tokens_details"), "usage output_tokens_details")
        return cls(
            input_tokens=_field(usage, "input_tokens", int, "usage"),
            cached_tokens=_field(inputs, "cached_tokens", int, "usage"),
            output_tokens=_field(usage, "output_tokens", int, "usage"),
            reasoning_tokens=_field(outputs, "reasoning_tokens", int, "usage"),
            total_tokens=_field(usage, "total_tokens", int, "usage"),
        )


@dataclass(frozen=True)
class Response:
    """A stateless response (R3): ``status`` is ``"completed"`` (or, at the end of a
    stream, ``"failed"`` or ``"cancelled"``, with ``error`` saying why when the server
    says); ``output`` the items in order; ``text`` the answer's text. ``usage`` is None
    only in the objects a stream carries before its end. ``data`` is the object as sent."""

    id: str
    status: str
    model: str
    created_at: float
    output: tuple[OutputItem, ...]
    usage: ResponseUsage | None
    error: dict[str, Any] | None
    data: dict[str, Any] = field(repr=False, compare=False)

    @property
    def text(self) -> str:
        """The text of every message of the output, in order."""
        return "".join(item.text for item in self.output if isinstance(item, OutputMessage))

    @property
    def function_calls(self) -> tuple[FunctionCall, ...]:
        """The calls the model asks the caller to run, in order."""
        return tuple(item for item in self.output if isinstance(item, FunctionCall))

    @property
    def reasoning_summary(self) -> str:
        """The summaries of the output's reasoning items ("" without reasoning)."""
        return "\n\n".join(item.text for item in self.output if isinstance(item, Reasoning))

    def as_input(self) -> list[dict[str, Any]]:
        """The output's messages and function calls as input items (R2), to follow the
        history in the next call; reasoning is left out (R2 ignores it) and so are items
        of unknown types."""
        kept = (item for item in self.output if isinstance(item, OutputMessage | FunctionCall))
        return [item.as_input() for item in kept]

    @classmethod
    def from_json(cls, body: object) -> Response:
        record = _object(body, "response object")
        what = f"response {record.get('id')!r}"
        usage = record.get("usage")
        error = record.get("error")
        if error is not None and not isinstance(error, dict):
            raise ProtocolError(f"{what}: field 'error' is {error!r}, expected an object")
        return cls(
            id=_field(record, "id", str, what),
            status=_field(record, "status", str, what),
            model=_field(record, "model", str, what),
            created_at=_field(record, "created_at", float, what),
            output=tuple(parse_item(item) for item in _field(record, "output", list, what)),
            usage=None if usage is None else ResponseUsage.from_json(usage),
            error=error,
            data=dict(record),
        )
