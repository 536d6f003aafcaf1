"""Reading a body as it comes, within a size and a time, for every flow that reads one.

A server decides how much it sends and how fast; the client decides how much it will take.
So no body is read whole by a driver: a flow takes it chunk by chunk (`read_into`), counting
bytes against a bound and checking a deadline after each chunk (per-read timeouts alone
never fire against a server that sends a byte just in time, every time). Whole answers
(JSON, error bodies) go through `read_body`, downloads through `read_into` into their file.

Every request asks for no content encoding, and an answer that has one anyway is refused
before any of it is read (`refuse_encoded`): decoding would let a few bytes on the wire
inflate past any bound.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

import httpx

from pokee_client.base import ClientCore
from pokee_client.effects import Close, Flow, NextChunk
from pokee_client.errors import ProtocolError
from pokee_client.limits import size_text

_DIGITS = re.compile(r"[0-9]{1,20}")  # ASCII only: int() would take '²' and '١' too


def read_into(
    core: ClientCore,
    response: httpx.Response,
    sink: Callable[[bytes], object],
    *,
    limit: int,
    deadline: float,
    too_large: Callable[[], Exception],
    overdue: Callable[[], Exception],
) -> Flow[None]:
    """Hand the body of an opened answer to ``sink`` chunk by chunk, to its end. Past
    ``limit`` bytes (before that chunk reaches the sink) it raises ``too_large()``, past
    ``deadline`` (on ``core.clock``) ``overdue()``; the answer is closed first. The body's
    end leaves the answer to the caller; a network failure is raised as it is."""
    size = 0
    while True:
        chunk: bytes | None = yield NextChunk(response)
        if chunk is None:
            return
        size += len(chunk)
        if size > limit:
            yield Close(response)
            raise too_large()
        sink(chunk)
        if core.clock() > deadline:
            yield Close(response)
            raise overdue()


def read_body(core: ClientCore, response: httpx.Response, started: float) -> Flow[bytes]:
    """The body of an opened answer, closed afterwards: at most ``max_answer_size`` bytes
    (a `ProtocolError` past it, or at once if ``Content-Length`` announces more), within
    ``timeout`` of ``started`` in all (an `httpx.ReadTimeout`, which the retry rules treat
    as any timeout)."""
    yield from refuse_encoded(response)
    request = response.request
    what = f"{request.method} {request.url.path}"
    limit = core.limits.max_answer_size

    def too_large() -> ProtocolError:
        return ProtocolError(
            f"{what}: the answer is larger than {size_text(limit)} (max_answer_size)"
        )

    def overdue() -> httpx.ReadTimeout:
        reason = f"no whole answer within {core.timeout:g} s (timeout)"
        return httpx.ReadTimeout(reason, request=request)

    length = content_length(response.headers)
    if length is not None and length > limit:
        yield Close(response)
        raise too_large()
    parts: list[bytes] = []
    yield from read_into(
        core,
        response,
        parts.append,
        limit=limit,
        deadline=started + core.timeout,
        too_large=too_large,
        overdue=overdue,
    )
    yield Close(response)
    return b"".join(parts)


def refuse_encoded(response: httpx.Response) -> Flow[None]:
    """Raise `ProtocolError` (the answer closed) if the answer has a content encoding."""
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):
        yield Close(response)
        request = response.request
        raise ProtocolError(
            f"{request.method} {request.url.path}: the answer is {encoding[:40]!r}-encoded, "
            "though none was asked for"
        )


def content_length(headers: Mapping[str, str]) -> int | None:
    """``Content-Length`` if it is a plain number, else None."""
    value = headers.get("content-length")
    if value is None or not _DIGITS.fullmatch(value.strip()):
        return None
    return int(value)
