"""Reading untrusted text: JSON documents and whole numbers, with bounds (A5).

Every request body, the ``X-Mock-Fault`` header, and every integer in a header or a query
parameter is read here, so one set of limits holds everywhere and whatever is accepted can
be stored and served back:

- JSON is UTF-8 (RFC 8259); NaN, Infinity and numbers that overflow to them are refused,
  as are integers of more than `MAX_JSON_DIGITS` digits;
- arrays and objects nest at most `MAX_JSON_DEPTH` levels (a body nested 50,000 deep is a 400,
  not a crash, and nothing stored comes close to the interpreter's recursion limit);
- no string, key or value, holds a lone surrogate (``"\\ud800"``): it could not be
  encoded back as UTF-8, so every later read of it would fail;
- a whole number in a header or parameter is ASCII digits only, at most `MAX_DIGITS` of
  them (``²`` and 4,300-digit numbers are refused, never converted).

Everything here is linear in the input's size. Messages name the field and show at most
a short prefix of what was sent.
"""

from __future__ import annotations

import json
import math
import threading
from typing import Any

from mock_pokee.domain.errors import InvalidRequest
from mock_pokee.limits import (
    MAX_DIGITS,
    MAX_JSON_DEPTH,
    MAX_JSON_DIGITS,
)

_SHOWN = 40  # characters of a refused value quoted back in a message


def shown(value: str) -> str:
    """``value`` as a message quotes it: its repr, cut short if long."""
    if len(value) <= _SHOWN:
        return repr(value)
    return f"{value[:_SHOWN]!r}… ({len(value)} characters)"


def whole_number(text: str, name: str) -> int:
    """A non-negative integer written in ASCII digits, or `InvalidRequest` naming ``name``."""
    if not (text.isascii() and text.isdigit() and len(text) <= MAX_DIGITS):
        raise InvalidRequest(
            f"{name}: must be a whole number of at most {MAX_DIGITS} digits, not {shown(text)}"
        )
    return int(text)


class _Refused:
    """Put in the parsed value where a number cannot be kept (NaN, Infinity, an overflow,
    too many digits), so that the walk below refuses it naming its field."""

    def __init__(self, reason: str):
        self.reason = reason


class _Reader:
    """A JSON decoder noting whether its last document had anything refused.

    Building a decoder costs more than reading a small body, so each thread keeps one
    (see `_reader`) and resets it per document; a decoder's hooks never parse JSON
    themselves, so one document is read at a time per thread.
    """

    refused: bool  # set by `decode`, before the hooks run

    def __init__(self) -> None:
        self.decoder = json.JSONDecoder(
            parse_constant=self.read_constant,
            parse_float=self.read_float,
            parse_int=self.read_int,
        )

    def decode(self, text: str) -> Any:
        self.refused = False
        return self.decoder.decode(text)

    def refuse(self, reason: str) -> _Refused:
        self.refused = True
        return _Refused(reason)

    def read_constant(self, name: str) -> Any:
        return self.refuse(f"{name} is not valid JSON")

    def read_float(self, text: str) -> Any:
        value = float(text)
        if math.isfinite(value):
            return value
        return self.refuse(f"the number {text[:_SHOWN]} is out of range")

    def read_int(self, text: str) -> Any:
        digits = len(text.lstrip("-"))
        if digits > MAX_JSON_DIGITS:
            return self.refuse(f"an integer of {digits} digits; at most {MAX_JSON_DIGITS}")
        return int(text)


_per_thread = threading.local()


def _reader() -> _Reader:
    reader: _Reader | None = getattr(_per_thread, "reader", None)
    if reader is None:
        reader = _per_thread.reader = _Reader()
    return reader


def parse_json(raw: bytes | bytearray | str, where: str) -> Any:
    """The JSON value of ``raw`` within the limits above; ``where`` names it in messages
    (``"body"``, or a header's name)."""
    try:
        text = raw if isinstance(raw, str) else raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        byte = exc.object[exc.start]
        message = f"{where}: invalid JSON (not UTF-8: byte {exc.start} is {byte:#x})"
        raise InvalidRequest(message) from None
    reader = _reader()
    try:
        value = reader.decode(text)
    except RecursionError:
        raise InvalidRequest(f"{where}: nested deeper than {MAX_JSON_DEPTH} levels") from None
    except ValueError as exc:
        raise InvalidRequest(f"{where}: invalid JSON ({exc})") from None
    # Only a document with many brackets can be too deep, and only a \u escape can make
    # a lone surrogate (the text itself was decoded strictly): most skip the walk.
    if reader.refused or "\\u" in text or text.count("[") + text.count("{") > MAX_JSON_DEPTH:
        check_value(value, where)
    return value


def parse_object(raw: bytes) -> dict[str, Any]:
    """A request body that must be a JSON object (A5 names what it is instead)."""
    if not raw.strip():
        raise InvalidRequest("body: missing; send a JSON object")
    data = parse_json(raw, "body")
    if not isinstance(data, dict):
        raise InvalidRequest(f"body: must be a JSON object, not {_json_type(data)}")
    return data


def _json_type(value: object) -> str:
    names = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")


# Where a value sits in a document: its parent's trail and its key or index (None at the
# root). Pushing a child costs one small tuple, whatever the depth and the keys' lengths;
# the dotted path is spelled out only for the one value a message names (`_dotted`).
Trail = tuple["Trail", str | int] | None


def check_value(value: Any, where: str) -> None:
    """Refuse nesting beyond `MAX_JSON_DEPTH`, lone surrogates and numbers that cannot be
    kept, naming the field. Iterative, so its own depth is never a problem, and linear in
    the document's size: a child's place is kept as a link to its parent's, not as a
    copy of its whole path (ten 5 KB keys above a 10,000-item array would otherwise cost
    500 MB). Also for values from elsewhere that will be stored and served (YAML can spell
    "\\ud800" too, and ``.nan``, and keys that are not text)."""
    stack: list[tuple[Any, Trail, int]] = [(value, None, 0)]
    while stack:
        item, trail, depth = stack.pop()
        if isinstance(item, str):
            _check_text(item, trail, where)
        elif isinstance(item, _Refused):
            raise InvalidRequest(f"{_field(where, trail)}: {item.reason}")
        elif isinstance(item, float) and not math.isfinite(item):  # YAML spells .nan, .inf
            raise InvalidRequest(f"{_field(where, trail)}: {item} is not a number JSON can hold")
        elif isinstance(item, dict | list):
            if depth == MAX_JSON_DEPTH:
                field = _field(where, trail)
                raise InvalidRequest(f"{field}: nested deeper than {MAX_JSON_DEPTH} levels")
            if isinstance(item, dict):
                for key, child in item.items():
                    if not isinstance(key, str):  # YAML keys may be numbers, dates, lists
                        raise InvalidRequest(
                            f"{_field(where, trail)}: the key {key!r} is not text; JSON keys are"
                        )
                    _check_text(key, trail, where, key=True)
                    stack.append((child, (trail, key), depth + 1))
            else:
                stack.extend((child, (trail, index), depth + 1) for index, child in enumerate(item))


def _check_text(text: str, trail: Trail, where: str, *, key: bool = False) -> None:
    if text.isascii():
        return
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        what = f"the key {text[:_SHOWN]!a}" if key else "the text"
        raise InvalidRequest(
            f"{_field(where, trail)}: {what} holds a lone surrogate (an unpaired \\ud800-\\udfff "
            "escape), which is not valid Unicode"
        ) from None


def _field(where: str, trail: Trail) -> str:
    """How a message names a place in a document: ``metadata.a.0`` in a body, or
    ``X-Mock-Fault: message`` in a header's value."""
    path = _dotted(trail)
    if not path:
        return where
    return path if where == "body" else f"{where}: {path}"


def _dotted(trail: Trail) -> str:
    """The dotted path a trail leads along, root first (an empty key at the start adds
    no dot): spelled out once, for the message."""
    keys: list[str | int] = []
    while trail is not None:
        trail, key = trail
        keys.append(key)
    path = ""
    for key in reversed(keys):
        path = f"{path}.{key}" if path else str(key)
    return path
