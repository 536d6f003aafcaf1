"""Reading bodies and query strings strictly (A5, A8), without a server."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from pydantic import StrictInt, model_validator
from starlette.requests import ClientDisconnect, Request

from mock_pokee.api.bodies import query, read_json
from mock_pokee.domain.errors import InvalidRequest, PayloadTooLarge
from mock_pokee.domain.inputs import _reader, parse_json
from mock_pokee.domain.strict import StrictBody
from mock_pokee.limits import MAX_JSON_BODY


class Body(StrictBody):
    count: StrictInt = 0


class Pair(StrictBody):
    low: StrictInt = 0
    high: StrictInt = 0

    @model_validator(mode="after")
    def _ordered(self) -> Pair:
        if self.low > self.high:
            raise ValueError("Low must not be above high")
        return self


def request(body: bytes = b"", query_string: bytes = b"") -> Request:
    chunks = [body[i : i + 4096] for i in range(0, len(body), 4096)] or [b""]

    async def receive() -> dict[str, Any]:
        chunk = chunks.pop(0) if chunks else b""
        return {"type": "http.request", "body": chunk, "more_body": bool(chunks)}

    scope = {"type": "http", "method": "POST", "headers": [], "query_string": query_string}
    return Request(scope, receive)


def read(body: bytes, *, optional: bool = False) -> Body:
    return asyncio.run(read_json(request(body), Body, optional=optional))


def test_a_body_is_read_into_its_model() -> None:
    assert read(b'{"count": 3}').count == 3
    assert read(b"  ", optional=True) == Body()


@pytest.mark.parametrize(
    ("body", "mention"),
    [
        (b"", "missing"),
        (b"{", "invalid JSON"),
        (b'{"count": NaN}', "count: NaN is not valid JSON"),
        (b'{"count": Infinity}', "count: Infinity is not valid JSON"),
        (b"[1]", "an array"),
        (b'"x"', "a string"),
        (b"null", "null"),
        (b"3", "a number"),
        (b'{"count": "3"}', "count"),
        (b'{"cuont": 3}', "cuont: unknown field"),
    ],
)
def test_bad_bodies_are_invalid_requests_naming_the_problem(body: bytes, mention: str) -> None:
    with pytest.raises(InvalidRequest, match=mention):
        read(body)


def test_a_body_that_is_no_object_is_named_by_its_json_type() -> None:
    for body, named in (
        (b"true", "a boolean"),
        (b"null", "null"),
        (b"[]", "an array"),
        (b'"x"', "a string"),
    ):
        with pytest.raises(InvalidRequest) as refused:
            read(body)
        assert refused.value.message == f"body: must be a JSON object, not {named}"


def test_every_problem_is_named_in_one_message() -> None:
    with pytest.raises(InvalidRequest) as refused:
        read(b'{"count": "x", "other": 1}')
    assert refused.value.message == "count: input should be a valid integer; other: unknown field"


def test_a_problem_of_the_whole_body_is_named_body() -> None:
    with pytest.raises(InvalidRequest) as refused:
        asyncio.run(read_json(request(b'{"low": 2, "high": 1}'), Pair))
    assert refused.value.message == "body: low must not be above high"


def test_a_body_over_the_limit_is_refused_while_reading() -> None:
    with pytest.raises(PayloadTooLarge, match=str(MAX_JSON_BODY)):
        read(b" " * (MAX_JSON_BODY + 1))


def test_a_body_in_several_messages_is_read_whole() -> None:
    # 4,096 bytes a message: the number is split across two of them.
    body = b'{"count": ' + b" " * 4090 + b"1234}"
    assert read(body).count == 1234


def test_a_body_exactly_at_the_limit_is_read() -> None:
    assert read(b"{}" + b" " * (MAX_JSON_BODY - 2)) == Body()


def test_a_missing_body_is_named_with_what_to_send() -> None:
    with pytest.raises(InvalidRequest) as refused:
        read(b"")
    assert refused.value.message == "body: missing; send a JSON object"


def test_messages_may_leave_out_body_and_more_body() -> None:
    # ASGI: both keys are optional (b"" and False); a message after the last would be
    # the client leaving.
    messages: list[dict[str, Any]] = [{"type": "http.request"}, {"type": "http.disconnect"}]

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    scope = {"type": "http", "method": "POST", "headers": [], "query_string": b""}
    assert asyncio.run(read_json(Request(scope, receive), Body, optional=True)) == Body()


def test_each_thread_reads_with_a_decoder_of_its_own_held_to_the_same_limits() -> None:
    def in_a_new_thread() -> object:
        reader = _reader()
        assert _reader() is reader  # kept for the thread's later documents
        for document, problem in [
            (b'{"n": 1e999}', "n: the number 1e999 is out of range"),
            (b'{"n": 1' + b"0" * 100 + b"}", "n: an integer of 101 digits; at most 100"),
            (b'{"n": NaN}', "n: NaN is not valid JSON"),
        ]:
            with pytest.raises(InvalidRequest) as refused:
                parse_json(document, "body")
            assert refused.value.message == problem
        assert parse_json(b'{"n": 1.5, "m": 2}', "body") == {"n": 1.5, "m": 2}
        return reader

    with ThreadPoolExecutor(1) as one, ThreadPoolExecutor(1) as other:
        first, second = one.submit(in_a_new_thread).result(), other.submit(in_a_new_thread).result()
    assert first is not second


def test_a_client_that_leaves_while_its_body_is_read_is_a_disconnect() -> None:
    messages: list[dict[str, Any]] = [
        {"type": "http.request", "body": b'{"cou', "more_body": True},
        {"type": "http.disconnect"},
    ]

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    scope = {"type": "http", "method": "POST", "headers": [], "query_string": b""}
    with pytest.raises(ClientDisconnect):
        asyncio.run(read_json(Request(scope, receive), Body))


def test_query_accepts_only_known_parameters_once() -> None:
    assert query(request(query_string=b"a=1&b=2"), ("a", "b")) == {"a": "1", "b": "2"}
    assert query(request(), ()) == {}
    with pytest.raises(InvalidRequest, match="c: unknown query parameter"):
        query(request(query_string=b"a=1&c=2"), ("a",))
    with pytest.raises(InvalidRequest, match="a: query parameter given more than once"):
        query(request(query_string=b"a=1&a=2"), ("a",))
