"""Arguments for a client tool call (contract M12, D ``client-tool``), made to fit the
tool's ``parameters`` schema.

A small deterministic generator, not a JSON Schema implementation: ``const`` and the first
of ``enum`` win; otherwise a value of the schema's ``type`` (the first non-null one of a
list, or the first branch of ``anyOf`` / ``oneOf`` / ``allOf``), inside ``minimum`` /
``maximum``, ``minLength`` / ``maxLength`` and ``minItems`` / ``maxItems``, with a few
string ``format``s (date, date-time, email, uri, uuid). Every property of an object is
filled, required or not. ``pattern`` and ``$ref`` are not followed. The same schema
always gives the same arguments, so a test can assert on them.
"""

from __future__ import annotations

import math
from typing import Any

MAX_DEPTH = 8  # deeper schemas get a plain string: arguments stay small whatever is given
MAX_ITEMS = 3

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
    value = _value(parameters, "value", 0)
    return value if isinstance(value, dict) else {}


def _value(schema: object, name: str, depth: int) -> Any:
    if not isinstance(schema, dict) or depth >= MAX_DEPTH:
        return f"sample {name}"
    if "const" in schema:
        return schema["const"]
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        return enum[0]
    for combinator in ("anyOf", "oneOf", "allOf"):
        branches = schema.get(combinator)
        if isinstance(branches, list) and branches:
            return _value(branches[0], name, depth + 1)
    kind = _type(schema)
    if kind == "object":
        properties = schema.get("properties")
        if not isinstance(properties, dict):
            return {}
        return {key: _value(sub, key, depth + 1) for key, sub in properties.items()}
    if kind == "array":
        count = min(max(_int(schema.get("minItems"), 1), 1), _int(schema.get("maxItems"), 3))
        return [_value(schema.get("items"), name, depth + 1) for _ in range(min(count, MAX_ITEMS))]
    if kind == "integer":
        return _integer(schema)
    if kind == "number":
        return _number(schema)
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return _string(schema, name)


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
    text = _FORMATS.get(str(schema.get("format")), f"sample {name}")
    low = max(_int(schema.get("minLength"), 0), 0)
    high = _int(schema.get("maxLength"), max(len(text), low))
    if len(text) < low:
        text += "x" * (low - len(text))
    return text[: max(high, 0)]
