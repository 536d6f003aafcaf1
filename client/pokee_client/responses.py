"""Stateless responses (R) as flows: the request body (R1, R2), and a response's stream
read exactly once to its final response object (R5, R6).

A response has no session: one call, one answer. Its stream is resumed as a turn's is (the
loop is `pokee_client.resumable`'s): every ``stream: true`` request carries an
``Idempotency-Key``, so a request whose answer was lost is sent again and replays the same
response instead of paying for a second (R6); a stream cut after its first event is picked
up with ``Last-Event-ID`` from the last event delivered. When the rest cannot be had (the
events were evicted 120 s after the end), there is no session to poll for the outcome, so
the stream fails with `TransportError`.

A stream's final response is the object its terminal event carries. A ``response.failed``
or ``response.cancelled`` without one (R5 fixes no shape for them) ends with the last
object the stream carried, its status set to the ending; a ``response.completed`` must
carry the whole answer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypedDict

import httpx

from pokee_client.base import ClientCore
from pokee_client.effects import Flow
from pokee_client.errors import ProtocolError, TransportError
from pokee_client.events import Event
from pokee_client.response_events import ResponseCreated, parse_response_event
from pokee_client.response_object import Response
from pokee_client.resumable import StreamReader, follow

Input = str | Sequence[Mapping[str, Any]]

# How each terminal event without a response object ends the last one the stream carried.
_ENDINGS = {"response.failed": "failed", "response.cancelled": "cancelled"}


ToolChoice = str | Mapping[str, Any]


class ResponseOptions(TypedDict, total=False):
    """The settings of a response besides its input, as R1 names them: the keyword
    arguments of ``responses.create`` and ``responses.stream``. A setting left out or
    given as None is not sent, so the server's default applies.

    ``model`` (the tenant's default otherwise), ``instructions`` (a system message),
    ``tools`` (function tools, ``{"type": "function", "name", "description",
    "parameters"}``), ``tool_choice`` (``"auto"``, ``"none"``, ``"required"`` or
    ``{"type": "function", "name": …}``), ``parallel_tool_calls``, ``reasoning``
    (``{"effort": "low"}``; ``"medium"``, ``"high"``; none or ``"minimal"`` for no
    reasoning), ``max_output_tokens``, ``temperature``, ``top_p``, ``metadata``, ``store``,
    ``user``.
    """

    model: str | None
    instructions: str | None
    tools: Sequence[Mapping[str, Any]] | None
    tool_choice: ToolChoice | None
    parallel_tool_calls: bool | None
    reasoning: Mapping[str, Any] | None
    max_output_tokens: int | None
    temperature: float | None
    top_p: float | None
    metadata: Mapping[str, Any] | None
    store: bool | None
    user: str | None


def response_body(input: Input, options: ResponseOptions, *, stream: bool) -> dict[str, Any]:
    """R1's body: ``input`` is one user message (a string) or R2's items, sent as given."""
    body: dict[str, Any] = {"input": _plain(input)}
    body.update((name, _plain(value)) for name, value in options.items() if value is not None)
    if stream:
        body["stream"] = True
    return body


def _plain(value: object) -> Any:
    """Mappings and sequences as the dicts and lists JSON is written from."""
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return [_plain(item) for item in value]
    return value


class ResponseReader(StreamReader):
    """What has been received of one response's stream, and its final response object."""

    def __init__(self, response_id: str | None = None, after: int = -1):
        super().__init__(parse_response_event, response_id, after)
        self._carried: object = None  # the last response object an event carried
        self._terminal: Event | None = None

    def taken(self, event: Event) -> None:
        carried = event.data.get("response")
        if carried is not None:
            self._carried = carried
        if event.terminal:
            self._terminal = event
        elif type(event) is ResponseCreated and self.response_id is None:
            self.response_id = event.response_id

    def final(self) -> Response:
        """The response object at the end of the stream (see the module docstring)."""
        terminal = self._terminal
        assert terminal is not None, "final() before the terminal event"
        carried = terminal.data.get("response")
        if carried is None and terminal.type in _ENDINGS and isinstance(self._carried, dict):
            carried = {**self._carried, "status": _ENDINGS[terminal.type]}
        if carried is None:
            raise ProtocolError(
                f"response {self.response_id}: its stream ended with {terminal.type} "
                "but carried no response object"
            )
        return Response.from_json(carried)


def stream_response(
    core: ClientCore, reader: ResponseReader, request: httpx.Request
) -> Flow[Response]:
    """Emit the response's events from ``request`` (R5, or a resume, R6) to the end, and
    return the final response object."""
    if (yield from follow(core, reader, request, core.requests.resume_response)):
        return reader.final()
    raise TransportError(
        f"{request.method} {request.url.path}: the stream of {reader.response_id or 'the response'}"
        f" broke after {reader.received} events and the rest could not be had (resumed "
        f"{reader.resumes} times; R6 keeps a response's events 120 s after its end)"
    )
