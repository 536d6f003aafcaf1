"""Arguments for a client tool call (contract M12, D ``client-tool``), made to fit the
tool's ``parameters`` schema.

A small deterministic generator, not a JSON Schema implementation: ``const`` and the first
of ``enum`` win; otherwise a value of the schema's ``type`` (the first non-null one of a
list, or the first branch of ``anyOf`` / ``oneOf`` / ``allOf``), inside ``minimum`` /
``maximum``, ``minLength`` / ``maxLength`` and ``minItems`` / ``maxItems``, with a few
string ``format``s (date, date-time, email, uri, uuid). Every property of an object is
filled, required or not. ``pattern`` and ``$ref`` are not followed. The same schema
always gives the same arguments, so a test can assert on them.

The schema is the client's (S1b), so what it may ask is bounded here, whatever it says:
the arguments are made on the server's event loop and sent in an event, and a schema of
150 bytes can ask for a string of 100 MB (``minLength``) or, through nested arrays, for
millions of values. A value is generated within `MAX_STRING` characters, `MAX_ITEMS`
items, `MAX_ARGUMENT_DEPTH` levels, and the whole within `MAX_VALUES` values and `MAX_ARGUMENTS`
characters of JSON. Where the schema can be satisfied within those bounds it is. Where
it cannot, the value is made at the bound and the turn goes on (it does not end with an
error): a ``minLength`` of 10^8 gets a string of `MAX_STRING` characters, a ``minItems``
of 50 gets `MAX_ITEMS` items, a ``const`` or ``enum`` value too large for what is left is
replaced by a value of the schema's type, and once the whole is at its bound the objects
and arrays still open get no more members (required properties included). A language
model's arguments do not always fit their schema either, and a client must check them;
a turn that ended instead would hide the call a test wants to see.
"""

from __future__ import annotations

import json
import math
from typing import Any

from mock_pokee.limits import (
    MAX_ARGUMENT_DEPTH,
    MAX_ARGUMENTS,
    MAX_ITEMS,
    MAX_STRING,
    MAX_VALUES,
)

_FORMATS = {
    "date": "2026-01-15",
    "date-time": "2026-01-15T09:30:00Z",
    "time": "09:30:00",
    "email": "user@example.com",
    "uri": "https://example.com/",
    "url": "https://example.com/",
    "uuid": "00000000-0000-4000-8000-000000000000",
}


def arguments_for(parameters: dict[str, Any]) -> dict[str, Any]:
    """The arguments object of one call of a tool with these ``parameters``."""
    value = _Generator().value(parameters, "value", 0)
    return value if isinstance(value, dict) else {}


def _size(value: object) -> int:
    """Characters of ``value`` in the JSON the runner sends (ASCII-escaped)."""
    return len(json.dumps(value, separators=(",", ":")))


class _Generator:
    """One call's arguments, spending what the bounds allow; once spent, containers close."""

    def __init__(self) -> None:
        self.values = MAX_VALUES
        self.chars = MAX_ARGUMENTS
        self._sizes: dict[int, int] = {}  # a const's size, measured once however reused

    @property
    def spent(self) -> bool:
        return self.values <= 0 or self.chars <= 0

    def fits(self, chars: int) -> bool:
        return chars <= self.chars and self.values > 0

    def take(self, chars: int, values: int = 1) -> bool:
        """Count ``values`` values of ``chars`` characters if they fit; else spend
        everything, so that nothing after them is made either."""
        if not self.fits(chars):
            self.values = self.chars = 0
            return False
        self.values -= values
        self.chars -= chars
        return True

    def value(self, schema: object, name: str, depth: int) -> Any:
        if not isinstance(schema, dict) or depth >= MAX_ARGUMENT_DEPTH:
            return self.string({}, name)
        fixed = self.fixed(schema)
        if fixed is not None:
            return fixed[0]
        for combinator in ("anyOf", "oneOf", "allOf"):
            branches = schema.get(combinator)
            if isinstance(branches, list) and branches:
                return self.value(branches[0], name, depth + 1)
        kind = _type(schema)
        if kind == "object":
            return self.object(schema, depth)
        if kind == "array":
            return self.array(schema, name, depth)
        if kind in ("integer", "number", "boolean", "null"):
            scalar = _scalar(kind, schema)
            self.take(_size(scalar))
            return scalar
        return self.string(schema, name)

    def fixed(self, schema: dict[str, Any]) -> tuple[Any] | None:
        """``const``, or the first of ``enum``, if it fits in what is left."""
        if "const" in schema:
            chosen = schema["const"]
        elif isinstance(schema.get("enum"), list) and schema["enum"]:
            chosen = schema["enum"][0]
        else:
            return None
        size = self._sizes.get(id(chosen))
        if size is None:
            size = self._sizes[id(chosen)] = _size(chosen)
        if not self.fits(size):
            return None  # made by type instead, from what is left
        self.take(size)
        return (chosen,)

    def object(self, schema: dict[str, Any], depth: int) -> dict[str, Any]:
        made: dict[str, Any] = {}
        self.take(2)
        properties = schema.get("properties")
        if not isinstance(properties, dict):
            return made
        for key, sub in properties.items():
            if self.spent or not self.take(_size(key) + 2, values=0):  # with ``:`` and ``,``
                break
            made[key] = self.value(sub, key, depth + 1)
        return made

    def array(self, schema: dict[str, Any], name: str, depth: int) -> list[Any]:
        made: list[Any] = []
        self.take(2)
        low = max(_int(schema.get("minItems"), 1), 1)
        high = _int(schema.get("maxItems"), low)
        for _ in range(max(min(low, high, MAX_ITEMS), 0)):
            if self.spent or not self.take(1, values=0):  # the ``,``
                break
            made.append(self.value(schema.get("items"), name, depth + 1))
        return made

    def string(self, schema: dict[str, Any], name: str) -> str:
        text = _string(schema, name)
        room = max(self.chars - 2, 0)
        if _size(text) > room:  # cut to what is left (escapes make some characters longer)
            text = text[:room]
            while text and _size(text) > room + 2:
                text = text[: len(text) // 2]
        self.take(_size(text))
        return text


def _type(schema: dict[str, Any]) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if isinstance(kind, str):
        return kind
    if "properties" in schema:
        return "object"
    if "items" in schema:
        return "array"
    return "string"


def _scalar(kind: str, schema: dict[str, Any]) -> int | float | bool | None:
    if kind == "integer":
        return _integer(schema)
    if kind == "number":
        return _number(schema)
    return True if kind == "boolean" else None


def _int(value: object, default: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return default
    return int(value)


def _finite(schema: dict[str, Any], key: str) -> float | None:
    value = schema.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return value


def _integer(schema: dict[str, Any]) -> int:
    """1, moved inside the bounds (an exclusive bound excludes itself)."""
    value = 1
    if (low := _finite(schema, "minimum")) is not None:
        value = max(value, math.ceil(low))
    if (low := _finite(schema, "exclusiveMinimum")) is not None:
        value = max(value, math.floor(low) + 1)
    if (high := _finite(schema, "maximum")) is not None:
        value = min(value, math.floor(high))
    if (high := _finite(schema, "exclusiveMaximum")) is not None:
        value = min(value, math.ceil(high) - 1)
    return value


def _number(schema: dict[str, Any]) -> float:
    """1.5, or the middle of the bounds, or just inside the one bound given."""
    lows = [b for k in ("minimum", "exclusiveMinimum") if (b := _finite(schema, k)) is not None]
    highs = [b for k in ("maximum", "exclusiveMaximum") if (b := _finite(schema, k)) is not None]
    if lows and highs:
        return max(lows) / 2 + min(highs) / 2
    if lows:
        return max(lows) + 1.5
    if highs:
        return min(highs) - 1.5
    return 1.5


def _string(schema: dict[str, Any], name: str) -> str:
    """``sample <name>`` (or the format's example), padded to ``minLength`` and cut to
    ``maxLength``, within `MAX_STRING`."""
    text = _FORMATS.get(str(schema.get("format")), f"sample {name[:MAX_STRING]}")
    low = min(max(_int(schema.get("minLength"), 0), 0), MAX_STRING)
    high = min(_int(schema.get("maxLength"), max(len(text), low)), MAX_STRING)
    if len(text) < low:
        text += "x" * (low - len(text))
    return text[: max(high, 0)]
