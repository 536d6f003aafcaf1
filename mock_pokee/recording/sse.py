"""Reading Server-Sent Events out of raw bytes as they pass through the recording proxy.

The proxy hands the client the upstream's bytes untouched and reads a copy here, so this
parser never shapes what a client sees; it only has to find the events in chunks cut
anywhere (mid-line, mid-character, between ``\\r`` and ``\\n``). It follows the SSE
framing: ``field: value`` lines, comment lines starting with ``:``, and an empty line that
ends an event. A ``data`` that is not a JSON object is kept as ``{"_raw": text}``, so a
malformed frame (C5) is recorded as what it was rather than lost.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from mock_pokee.domain.errors import InvalidRequest
from mock_pokee.domain.inputs import parse_json
from mock_pokee.limits import MAX_RECORDED_EVENT

Json = dict[str, Any]

_LINE_END = re.compile(rb"\r\n|\r|\n")
# An event whose lines are longer than `MAX_RECORDED_EVENT` together is not one anyone can
# replay: it is skipped, and the parser's memory stays bounded whatever the upstream sends.


@dataclass(frozen=True)
class ParsedEvent:
    id: str | None  # the ``id:`` field (M3: the event's seq), None if it had none
    type: str
    data: Json


def _data_of(text: str) -> Json:
    """The data as JSON when the mock could keep it (`parse_json`: no NaN, no lone
    surrogate, 64 levels at most), else as the text it was."""
    try:
        value = parse_json(text, "data")
    except InvalidRequest:
        return {"_raw": text}
    return value if isinstance(value, dict) else {"_raw": text}


class EventParser:
    """Feed it chunks; it returns each event whose closing empty line has arrived."""

    def __init__(self) -> None:
        self._buffer = bytearray()  # the start of a line whose end has not come yet
        self._id: str | None = None
        self._type = ""
        self._data: list[str] = []
        self._size = 0  # bytes of the current event's lines so far
        self._spoiled = False  # the current event passed MAX_RECORDED_EVENT

    def feed(self, chunk: bytes) -> list[ParsedEvent]:
        buffer = self._buffer
        scan = max(len(buffer) - 1, 0)  # what was kept holds no line end, bar a last "\r"
        buffer += chunk
        events: list[ParsedEvent] = []
        start = 0
        for end in _LINE_END.finditer(buffer, scan):
            if end.group() == b"\r" and end.end() == len(buffer):
                break  # perhaps the first half of "\r\n": wait for the next chunk
            event = self._line(buffer[start : end.start()])
            start = end.end()
            if event is not None:
                events.append(event)
        del buffer[:start]
        if len(buffer) > MAX_RECORDED_EVENT:
            buffer.clear()
            self._spoiled = True
        return events

    def _line(self, raw: bytearray) -> ParsedEvent | None:
        if not raw:
            return self._dispatch()
        if raw.startswith(b":"):
            return None  # a comment, e.g. M3's ": ping"
        self._size += len(raw)
        if self._spoiled or self._size > MAX_RECORDED_EVENT:
            self._spoiled, self._data = True, []
            return None
        line = raw.decode("utf-8", errors="replace")
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._type = value
        elif name == "id":
            self._id = value
        return None

    def _dispatch(self) -> ParsedEvent | None:
        event = None
        if (self._data or self._type) and not self._spoiled:
            event = ParsedEvent(self._id, self._type or "message", _data_of("\n".join(self._data)))
        self._id, self._type, self._data, self._size, self._spoiled = None, "", [], 0, False
        return event
