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
from mock_pokee.domain.inputs import parse_object
from mock_pokee.domain.strict import StrictBody, describe
from mock_pokee.limits import MAX_JSON_BODY

Model = TypeVar("Model", bound=StrictBody)


async def read_json(request: Request, model: type[Model], *, optional: bool = False) -> Model:
    """The body as ``model``; an absent body means ``{}`` when ``optional``."""
    raw = await read_body(request, MAX_JSON_BODY)
    if optional and not raw.strip():
        return model()
    try:
        return model.model_validate(parse_object(raw))
    except ValidationError as exc:
        raise InvalidRequest(describe(exc)) from None


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, within ``limit``, read from the ASGI messages themselves: a
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
        if size > limit:
            raise PayloadTooLarge(f"body: larger than {limit} bytes")
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)  # one chunk: that chunk itself, not a copy


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
