"""Session tools (contract S1b): function tools in the OpenAI Responses shape.

``{"type": "function", "name", "description", "parameters", "strict"}``: ``type``,
``name`` and ``parameters`` are required (as OpenAI's Responses API requires them),
``description`` and ``strict`` optional. At most 128 tools a session, names of 1–64
characters from ``[A-Za-z0-9_-]`` and unique within the session, descriptions of at most
16 KiB (UTF-8), ``parameters`` a JSON Schema of ``"type": "object"``. Anything else is a
400 naming the tool (by index and name) and the field, and no session is created.

The mock does not implement JSON Schema; it checks the shape a client must get right
(an object schema, ``properties`` a map of schemas, ``required`` a list of names) and
how deep it nests, so that whatever is stored can be walked and served.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from mock_pokee.domain.errors import InvalidRequest
from mock_pokee.domain.text import is_unicode, shown
from mock_pokee.limits import (
    MAX_DESCRIPTION_BYTES,
    MAX_SCHEMA_DEPTH,
    MAX_TOOL_NAME,
    MAX_TOOLS,
)

_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
_FIELDS = frozenset({"type", "name", "description", "parameters", "strict"})


@dataclass(frozen=True, slots=True)
class ClientTool:
    """One validated function tool of a session."""

    name: str
    description: str
    parameters: dict[str, Any]


def parse_tools(raw: object) -> tuple[ClientTool, ...]:
    """S1b: the session's tools, or `InvalidRequest` naming the tool and the field."""
    if not isinstance(raw, list):
        raise InvalidRequest("tools: must be an array of function tools")
    if len(raw) > MAX_TOOLS:
        raise InvalidRequest(f"tools: {len(raw)} tools given; at most {MAX_TOOLS} a session")
    tools: list[ClientTool] = []
    seen: set[str] = set()
    for index, item in enumerate(raw):
        tool = _parse_tool(index, item)
        if tool.name in seen:
            raise InvalidRequest(f"tools[{index}] ({tool.name}): name: given twice")
        seen.add(tool.name)
        tools.append(tool)
    return tuple(tools)


def _parse_tool(index: int, item: object) -> ClientTool:
    where = f"tools[{index}]"
    if not isinstance(item, dict):
        raise InvalidRequest(f"{where}: must be an object (a function tool)")
    name = item.get("name")
    if isinstance(name, str) and _NAME.fullmatch(name):
        where = f"{where} ({name})"
    unknown = sorted(set(item) - _FIELDS)
    if unknown:
        raise InvalidRequest(f"{where}: unknown field {shown(unknown[0])}")
    if item.get("type") != "function":
        raise InvalidRequest(f'{where}: type: must be "function", not {shown(item.get("type"))}')
    if not isinstance(name, str):
        raise InvalidRequest(f"{where}: name: required, a string")
    if not _NAME.fullmatch(name):
        raise InvalidRequest(
            f"{where}: name: {shown(name)} must be 1–{MAX_TOOL_NAME} characters of A-Z a-z 0-9 _ -"
        )
    description = item.get("description", "")
    if not isinstance(description, str):
        raise InvalidRequest(f"{where}: description: must be a string")
    if not is_unicode(description):
        raise InvalidRequest(f"{where}: description: not valid Unicode (a lone surrogate)")
    if len(description.encode("utf-8")) > MAX_DESCRIPTION_BYTES:
        raise InvalidRequest(
            f"{where}: description: longer than {MAX_DESCRIPTION_BYTES} bytes (16 KiB)"
        )
    if "strict" in item and not isinstance(item["strict"], bool):
        raise InvalidRequest(f"{where}: strict: must be a boolean")
    if "parameters" not in item:
        raise InvalidRequest(f"{where}: parameters: required, a JSON Schema object")
    parameters = item["parameters"]
    _check_parameters(where, parameters)
    return ClientTool(name, description, parameters)


def _check_parameters(where: str, parameters: object) -> None:
    if not isinstance(parameters, dict):
        raise InvalidRequest(f"{where}: parameters: must be a JSON Schema object")
    if parameters.get("type") != "object":
        raise InvalidRequest(
            f'{where}: parameters: type: must be "object", not {shown(parameters.get("type"))}'
        )
    properties = parameters.get("properties", {})
    if not isinstance(properties, dict) or not all(
        isinstance(schema, dict | bool) for schema in properties.values()
    ):
        raise InvalidRequest(f"{where}: parameters: properties: must map names to schemas")
    required = parameters.get("required", [])
    if not isinstance(required, list) or not all(isinstance(n, str) for n in required):
        raise InvalidRequest(f"{where}: parameters: required: must be a list of names")
    problem = _walk(parameters)
    if problem:
        raise InvalidRequest(f"{where}: parameters: {problem}")


def _walk(schema: object) -> str:
    """What makes ``schema`` unfit to store and serve (too deep, a lone surrogate), or "".

    Iterative, so that no input can exhaust the stack."""
    stack: list[tuple[object, int]] = [(schema, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > MAX_SCHEMA_DEPTH:
                return f"nested deeper than {MAX_SCHEMA_DEPTH} levels"
            if isinstance(value, dict):
                for key, item in value.items():
                    if not is_unicode(key):
                        return "not valid Unicode (a lone surrogate in a key)"
                    stack.append((item, depth + 1))
            else:
                stack.extend((item, depth + 1) for item in value)
        elif isinstance(value, str) and not is_unicode(value):
            return "not valid Unicode (a lone surrogate)"
    return ""
