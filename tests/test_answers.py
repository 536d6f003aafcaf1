"""JSON answers (`mock_pokee.api.answers`): the body from the shared encoder, and the
headers Starlette would have written, made directly when the answer has none of its own."""

from __future__ import annotations

from mock_pokee.api.answers import JSONResponse


def test_an_answer_without_headers_of_its_own_has_its_length_and_type() -> None:
    answer = JSONResponse({"name": "café"}, status_code=201)
    assert answer.body == '{"name":"café"}'.encode()
    assert answer.raw_headers == [
        (b"content-length", str(len(answer.body)).encode()),
        (b"content-type", b"application/json"),
    ]


def test_headers_of_its_own_are_kept_beside_the_two() -> None:
    answer = JSONResponse({"error": "rate_limited"}, status_code=429, headers={"Retry-After": "3"})
    assert dict(answer.raw_headers) == {
        b"retry-after": b"3",
        b"content-length": str(len(answer.body)).encode(),
        b"content-type": b"application/json",
    }
