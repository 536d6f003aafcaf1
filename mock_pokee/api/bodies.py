"""Reading request bodies and query strings strictly (A5, A8).

A typo must fail loudly: unknown body keys at any depth and unknown or repeated query
parameters are refused with a message that names them.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request

from mock_pokee.domain.errors import InvalidRequest, PayloadTooLarge
from mock_pokee.domain.text import SHOWN_CHARS, is_unicode, shown

Model = TypeVar("Model", bound=BaseModel)

MAX_JSON_BODY = 1 << 20  # JSON bodies are small; anything larger is a mistake


def refuse_constant(name: str) -> Any:
    """For ``json.loads``: NaN and Infinity are not JSON, whatever Python accepts."""
    raise ValueError(f"{name} is not valid JSON")


async def read_json(request: Request, model: type[Model], *, optional: bool = False) -> Model:
    """The body as ``model``; an absent body means ``{}`` when ``optional``."""
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_JSON_BODY:
            raise PayloadTooLarge(f"body: larger than {MAX_JSON_BODY} bytes")
    if not raw.strip():
        if optional:
            return model()
        raise InvalidRequest("body: missing; send a JSON object")
    try:
        data = json.loads(raw, parse_constant=refuse_constant)
    except ValueError as exc:
        raise InvalidRequest(_json_problem(raw, exc)) from None
    if not isinstance(data, dict):
        raise InvalidRequest(f"body: must be a JSON object, not {_json_type(data)}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidRequest(describe(exc)) from None


class _Constant(str):
    """Where ``NaN`` or ``Infinity`` stood, in a second, lenient parse."""


def _json_problem(raw: bytearray, exc: ValueError) -> str:
    """Why the body is not JSON; for ``NaN`` / ``Infinity``, the field that holds it."""
    if isinstance(exc, json.JSONDecodeError) or "is not valid JSON" not in str(exc):
        return f"body: invalid JSON ({exc})"
    stack: list[tuple[str, Any]] = [("body", json.loads(raw, parse_constant=_Constant))]
    while stack:
        where, value = stack.pop()
        if isinstance(value, _Constant):
            return f"{where}: invalid JSON ({value} is not a JSON number)"
        if isinstance(value, dict):  # pushed in reverse: the first in the text is found first
            prefix = "" if where == "body" else f"{where}."
            stack += [(f"{prefix}{_key(key)}", item) for key, item in reversed(value.items())]
        elif isinstance(value, list):
            stack += [(f"{where}[{i}]", item) for i, item in reversed(list(enumerate(value)))]
    return f"body: invalid JSON ({exc})"


def _key(key: str) -> str:
    """A body key as a message may show it (quoted if long or not valid Unicode)."""
    return key if len(key) <= SHOWN_CHARS and is_unicode(key) else shown(key)


def describe(exc: ValidationError) -> str:
    """One line per problem, each starting with the field's dotted path."""
    problems = []
    for error in exc.errors(include_url=False):
        where = ".".join(str(part) for part in error["loc"]) or "body"
        if error["type"] == "extra_forbidden":
            problems.append(f"{where}: unknown field")
        else:
            # A custom validator's own words, without pydantic's "Value error, " prefix.
            ctx = error.get("ctx", {})
            text = str(ctx["error"]) if error["type"] == "value_error" else error["msg"]
            problems.append(f"{where}: {text[0].lower()}{text[1:]}")
    return "; ".join(problems)


def query(request: Request, allowed: tuple[str, ...]) -> dict[str, str]:
    """The query parameters, each at most once, none outside ``allowed``."""
    params: dict[str, str] = {}
    if not request.scope["query_string"]:
        return params
    for name, value in request.query_params.multi_items():
        if name not in allowed:
            known = ", ".join(allowed) or "none"
            raise InvalidRequest(f"{name}: unknown query parameter (known here: {known})")
        if name in params:
            raise InvalidRequest(f"{name}: query parameter given more than once")
        params[name] = value
    return params


def _json_type(value: object) -> str:
    names = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")
