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
        raise InvalidRequest(f"body: invalid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise InvalidRequest(f"body: must be a JSON object, not {_json_type(data)}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidRequest(describe(exc)) from None


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
