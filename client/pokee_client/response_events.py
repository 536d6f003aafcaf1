"""The events of a stateless response's stream (R5): one class per event type, on the same
`Event` base as a turn's (``seq``, ``type``, the whole ``data``), and `UnknownEvent` for a
type the client does not know (A8).

The two vocabularies are kept apart: a ``response.completed`` in a turn's stream is no end
of that turn, nor a ``message.completed`` the end of a response. Accessors read ``data``
when called, as a turn's do; those that return records (`Response`, an output item) parse
it then, and raise `ProtocolError` if it is not in R3's shape.
"""

from __future__ import annotations

from typing import Any

from pokee_client.events import Event, UnknownEvent
from pokee_client.response_object import OutputItem, Response, parse_item


class ResponseCreated(Event):
    """Always first: the response has started (its id is ``data.id``, R5)."""

    __slots__ = ()
    TYPE = "response.created"

    @property
    def response_id(self) -> str:
        return str(self.data.get("id", ""))


class ResponseInProgress(Event):
    __slots__ = ()
    TYPE = "response.in_progress"


class _Item(Event):
    __slots__ = ()

    @property
    def output_index(self) -> int:
        index = self.data.get("output_index")
        return index if isinstance(index, int) else -1

    @property
    def item(self) -> OutputItem:
        return parse_item(self.data.get("item"))


class ResponseOutputItemAdded(_Item):
    """An output item begins (a message, a function call, reasoning)."""

    __slots__ = ()
    TYPE = "response.output_item.added"


class ResponseOutputItemDone(_Item):
    """An output item is whole: ``item`` is as it stands in the final response."""

    __slots__ = ()
    TYPE = "response.output_item.done"


class ResponseContentPartAdded(Event):
    __slots__ = ()
    TYPE = "response.content_part.added"


class ResponseContentPartDone(Event):
    __slots__ = ()
    TYPE = "response.content_part.done"


class _Delta(Event):
    __slots__ = ()

    @property
    def delta(self) -> str:
        return str(self.data.get("delta", ""))

    @property
    def item_id(self) -> str:
        return str(self.data.get("item_id", ""))


class ResponseTextDelta(_Delta):
    """A piece of a message's text."""

    __slots__ = ()
    TYPE = "response.output_text.delta"


class ResponseTextDone(Event):
    __slots__ = ()
    TYPE = "response.output_text.done"

    @property
    def text(self) -> str:
        return str(self.data.get("text", ""))


class ResponseArgumentsDelta(_Delta):
    """A piece of a function call's arguments (JSON text)."""

    __slots__ = ()
    TYPE = "response.function_call_arguments.delta"


class ResponseArgumentsDone(Event):
    __slots__ = ()
    TYPE = "response.function_call_arguments.done"

    @property
    def arguments(self) -> str:
        return str(self.data.get("arguments", ""))


class ResponseReasoningDelta(_Delta):
    """A piece of the reasoning's summary."""

    __slots__ = ()
    TYPE = "response.reasoning_summary_text.delta"


class ResponseReasoningDone(Event):
    __slots__ = ()
    TYPE = "response.reasoning_summary_text.done"

    @property
    def text(self) -> str:
        return str(self.data.get("text", ""))


class _Terminal(Event):
    __slots__ = ()
    terminal = True

    @property
    def response(self) -> Response | None:
        """The response object the event carries, if it carries one."""
        carried = self.data.get("response")
        return None if carried is None else Response.from_json(carried)


class ResponseCompleted(_Terminal):
    """Terminal: the response is whole; ``response`` is the same object R3 answers."""

    __slots__ = ()
    TYPE = "response.completed"


class ResponseFailed(_Terminal):
    """Terminal: the response failed; its object's ``error`` says why."""

    __slots__ = ()
    TYPE = "response.failed"


class ResponseCancelled(_Terminal):
    """Terminal: the response was cancelled (R6), and is not billed."""

    __slots__ = ()
    TYPE = "response.cancelled"


RESPONSE_EVENT_CLASSES: dict[str, type[Event]] = {
    cls.TYPE: cls
    for cls in (
        ResponseCreated,
        ResponseInProgress,
        ResponseOutputItemAdded,
        ResponseContentPartAdded,
        ResponseTextDelta,
        ResponseTextDone,
        ResponseContentPartDone,
        ResponseArgumentsDelta,
        ResponseArgumentsDone,
        ResponseReasoningDelta,
        ResponseReasoningDone,
        ResponseOutputItemDone,
        ResponseCompleted,
        ResponseFailed,
        ResponseCancelled,
    )
}


def parse_response_event(seq: int, type_: str, data: dict[str, Any]) -> Event:
    """The typed event for an R5 type, `UnknownEvent` for any other."""
    return RESPONSE_EVENT_CLASSES.get(type_, UnknownEvent)(seq, type_, data)
