"""The events of a turn (M4): one class per event type, and a generic one for the rest.

Every event keeps its ``seq`` (M3), its ``type`` and its whole ``data``; the classes add
typed accessors for the fields M4 documents. An event type the client does not know yet
arrives as `UnknownEvent`, never as an error: the API grows additively (A8).

Accessors read ``data`` when called instead of copying fields at parse time, because a turn
can stream tens of thousands of deltas and most callers read one field of few of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True, slots=True)
class Event:
    """One event of a turn. ``data`` includes ``sequence_number``, equal to ``seq``."""

    seq: int
    type: str
    data: dict[str, Any]

    TYPE: ClassVar[str] = ""
    terminal: ClassVar[bool] = False


class UnknownEvent(Event):
    """An event type this client does not know; read ``type`` and ``data``."""

    __slots__ = ()


class MessageCreated(Event):
    """Always first: the turn has started."""

    __slots__ = ()
    TYPE = "message.created"

    @property
    def response_id(self) -> str:
        return str(self.data.get("id", ""))

    @property
    def session_id(self) -> str:
        return str(self.data.get("session_id", ""))


class _Content(Event):
    __slots__ = ()

    @property
    def content(self) -> str:
        return str(self.data.get("content", ""))


class TextStart(Event):
    __slots__ = ()
    TYPE = "text.start"


class TextDelta(_Content):
    """A piece of the answer's text."""

    __slots__ = ()
    TYPE = "text.delta"


class TextStop(Event):
    __slots__ = ()
    TYPE = "text.stop"


class ThinkingStart(Event):
    __slots__ = ()
    TYPE = "thinking.start"


class ThinkingDelta(_Content):
    __slots__ = ()
    TYPE = "thinking.delta"


class ThinkingStop(Event):
    __slots__ = ()
    TYPE = "thinking.stop"


class _Tool(Event):
    __slots__ = ()

    @property
    def name(self) -> str:
        return str(self.data.get("name", ""))

    @property
    def tool_use_id(self) -> str:
        return str(self.data.get("id", ""))


class ToolUseStart(_Tool):
    __slots__ = ()
    TYPE = "tool_use.start"


class ToolUseInputDelta(_Content):
    __slots__ = ()
    TYPE = "tool_use.input_delta"


class ToolUseExecuting(_Tool):
    __slots__ = ()
    TYPE = "tool_use.executing"

    @property
    def input(self) -> Any:
        return self.data.get("input")


class ToolUseStop(Event):
    __slots__ = ()
    TYPE = "tool_use.stop"


class ToolResult(_Content):
    __slots__ = ()
    TYPE = "tool_result"

    @property
    def tool_use_id(self) -> str:
        return str(self.data.get("id", ""))

    @property
    def is_error(self) -> bool:
        return bool(self.data.get("is_error", False))


class MessageCompleted(Event):
    """Terminal: the turn completed; ``usage`` has ``input_tokens`` and ``output_tokens``."""

    __slots__ = ()
    TYPE = "message.completed"
    terminal = True

    @property
    def response_id(self) -> str:
        return str(self.data.get("id", ""))

    @property
    def usage(self) -> dict[str, int]:
        """The counts that are whole numbers (a server may send anything else)."""
        usage = self.data.get("usage")
        if not isinstance(usage, dict):
            return {}
        return {
            str(k): v for k, v in usage.items() if isinstance(v, int) and not isinstance(v, bool)
        }


class MessageError(Event):
    """Terminal: the turn failed; ``error`` names why (``turn_timeout``, ``session_expired`` …)."""

    __slots__ = ()
    TYPE = "message.error"
    terminal = True

    @property
    def response_id(self) -> str:
        return str(self.data.get("id", ""))

    @property
    def error(self) -> str:
        return str(self.data.get("error", ""))


class MessageCancelled(Event):
    """Terminal: the turn was cancelled (M8, or its session deleted)."""

    __slots__ = ()
    TYPE = "message.cancelled"
    terminal = True

    @property
    def response_id(self) -> str:
        return str(self.data.get("id", ""))


EVENT_CLASSES: dict[str, type[Event]] = {
    cls.TYPE: cls
    for cls in (
        MessageCreated,
        TextStart,
        TextDelta,
        TextStop,
        ThinkingStart,
        ThinkingDelta,
        ThinkingStop,
        ToolUseStart,
        ToolUseInputDelta,
        ToolUseExecuting,
        ToolUseStop,
        ToolResult,
        MessageCompleted,
        MessageError,
        MessageCancelled,
    )
}


def parse_event(seq: int, type_: str, data: dict[str, Any]) -> Event:
    """The typed event for an M4 type, `UnknownEvent` for any other."""
    return EVENT_CLASSES.get(type_, UnknownEvent)(seq, type_, data)
