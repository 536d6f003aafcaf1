"""Reading request bodies, query strings and headers strictly (A5, A8).

A typo must fail loudly: unknown body keys at any depth, unknown or repeated query
parameters, and a header the mock reads given more than once are refused with a message
that names them. The JSON itself is read by `mock_pokee.domain.inputs`, within its limits.
"""

from __future__ import annotations

from typing import TypeVar

from pydantic import ValidationError
from starlette.requests import ClientDisconnect, Request

from mock_pokee.domain.errors import InvalidRequest, PayloadTooLarge
from mock_pokee.domain.inputs import parse_json
from mock_pokee.domain.strict import NULL_FIELD, StrictBody
from mock_pokee.limits import MAX_JSON_BODY, MAX_PROBLEMS

Model = TypeVar("Model", bound=StrictBody)


async def read_json(request: Request, model: type[Model], *, optional: bool = False) -> Model:
    """The body as ``model``; an absent body means ``{}`` when ``optional``."""
    raw = await _body(request)
    if not raw.strip():
        if optional:
            return model()
        raise InvalidRequest("body: missing; send a JSON object")
    data = parse_json(raw, "body")
    if not isinstance(data, dict):
        raise InvalidRequest(f"body: must be a JSON object, not {_json_type(data)}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidRequest(describe(exc)) from None


async def _body(request: Request) -> bytes:
    """The whole body, within `MAX_JSON_BODY`, read from the ASGI messages themselves: a
    JSON body is nearly always one message, and Starlette's chunk generator costs more
    than the rest of reading it. Only the handler reads a JSON body, and only once."""
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_JSON_BODY:
            raise PayloadTooLarge(f"body: larger than {MAX_JSON_BODY} bytes")
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)  # one chunk: that chunk itself, not a copy


def describe(exc: ValidationError) -> str:
    """One line per problem, each starting with the field's dotted path; past
    `MAX_PROBLEMS`, how many more there are."""
    problems = []
    for error in exc.errors(include_url=False, include_input=False)[:MAX_PROBLEMS]:
        where = ".".join(str(part) for part in error["loc"]) or "body"
        if error["type"] == NULL_FIELD:
            for name in error.get("ctx", {})["fields"]:
                field = f"{where}.{name}" if error["loc"] else str(name)
                problems.append(f"{field}: must not be null; leave the field out instead")
        elif error["type"] == "extra_forbidden":
            problems.append(f"{where}: unknown field")
        else:
            # A custom validator's own words, without pydantic's "Value error, " prefix.
            ctx = error.get("ctx", {})
            text = str(ctx["error"]) if error["type"] == "value_error" else error["msg"]
            problems.append(f"{where}: {text[0].lower()}{text[1:]}")
    more = exc.error_count() - MAX_PROBLEMS
    if more > 0:
        problems.append(f"and {more} more problems")
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


def single_header(request: Request, name: str) -> str | None:
    """The value of a header the mock reads, if given; given twice, it is ambiguous."""
    values = request.headers.getlist(name)
    if len(values) > 1:
        raise InvalidRequest(f"{name}: header given {len(values)} times; send it once")
    return values[0] if values else None


def _json_type(value: object) -> str:
    names = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")
