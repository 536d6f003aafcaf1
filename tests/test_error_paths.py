"""Paths a healthy mock under uvicorn rarely or never takes, each still in the A5 shape:
a bug in the mock (a 500, logged once and kept for the test harness), an HTTP error of
Starlette's other than routing, a WebSocket on a server without the ASGI extension that
answers an upgrade over HTTP, and an ASGI response start that leaves out its headers
(the ASGI spec allows it).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, cast

import httpx
import pytest
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import Message

from mock_pokee.api.delivery import _content_length, is_event_stream
from mock_pokee.api.errors import on_http_exception
from mock_pokee.api.middleware import MockMiddleware
from mock_pokee.domain.tenants import Tenant
from mock_pokee.testing import MockServer, new_key


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_a5_a_bug_in_the_mock_is_a_500_logged_once_and_kept_for_the_harness(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Logged by the mock, naming the request, and not a second time by uvicorn (whose
    loggers may not reach caplog, so they are listened to directly)."""

    def broken(self: Tenant) -> dict[str, Any]:
        raise RuntimeError("a bug")

    monkeypatch.setattr(Tenant, "usage_report", broken)
    uvicorn_log = Records()
    with MockServer() as server, caplog.at_level(logging.ERROR, logger="mock_pokee"):
        for name in ("uvicorn", "uvicorn.error"):  # once started: uvicorn configures them
            logging.getLogger(name).addHandler(uvicorn_log)
        try:
            headers = {"Authorization": f"Bearer {new_key()}"}
            answer = httpx.get(f"{server.url}/v1/usage", headers=headers)
            bugs = list(server.errors)
        finally:
            for name in ("uvicorn", "uvicorn.error"):
                logging.getLogger(name).removeHandler(uvicorn_log)
    assert [r.getMessage() for r in uvicorn_log.records if r.exc_info] == []
    assert answer.status_code == 500
    assert answer.json() == {
        "error": "internal_error",
        "message": "GET /v1/usage: the mock failed unexpectedly",
    }
    assert [type(bug) for bug in bugs] == [RuntimeError]
    logged = [r for r in caplog.records if r.exc_info and r.exc_info[1] is bugs[0]]
    assert [r.getMessage() for r in logged] == ["unexpected error on GET /v1/usage"]


def _request(method: str, path: str) -> Request:
    return Request({"type": "http", "method": method, "path": path, "headers": []})


@pytest.mark.parametrize(
    ("status", "error"),
    [(400, "invalid_request"), (413, "payload_too_large")],
)
def test_a5_starlettes_other_http_errors_keep_their_status_in_a5_words(
    status: int, error: str
) -> None:
    exc = HTTPException(status, "what Starlette says")
    answer = asyncio.run(on_http_exception(_request("PUT", "/v1/x"), exc))
    assert answer.status_code == status
    assert answer.body == (
        b'{"error":"' + error.encode() + b'","message":"PUT /v1/x: what Starlette says"}'
    )


def test_a_websocket_without_the_http_answer_extension_is_closed() -> None:
    """uvicorn offers the extension and gets an A5 400 (tests/test_hostile.py); a server
    that does not can only close the socket, which refuses the upgrade."""
    sent: list[Message] = []
    incoming = [{"type": "websocket.connect"}]

    async def receive() -> Message:
        return incoming.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    async def never(scope: Any, receive: Any, send: Any) -> None:
        raise AssertionError("a WebSocket never reaches the app")

    middleware = MockMiddleware(never, ctx=cast(Any, None))
    scope = {"type": "websocket", "path": "/v1/sessions", "extensions": {}}
    asyncio.run(middleware(scope, receive, send))
    assert sent == [{"type": "websocket.close"}]


def test_a_response_start_without_headers_is_not_an_event_stream() -> None:
    assert is_event_stream({"type": "http.response.start", "status": 200}) is False
    assert _content_length({"type": "http.response.start", "status": 200}) is None
    sse = [(b"Content-Type", b"text/event-stream; charset=utf-8")]
    assert is_event_stream({"type": "http.response.start", "status": 200, "headers": sse})


def test_a_cut_connection_is_no_error_to_uvicorn() -> None:
    """A fault's cut closes the transport and waits for the disconnect; nothing escapes to
    uvicorn, which would print an "Exception in ASGI application" for every cut."""
    uvicorn_log = Records()
    with MockServer() as server:
        logging.getLogger("uvicorn.error").addHandler(uvicorn_log)
        try:
            headers = {"Authorization": f"Bearer {new_key()}"}
            with pytest.raises(httpx.RemoteProtocolError):
                httpx.get(
                    f"{server.url}/v1/usage",
                    headers={**headers, "X-Mock-Fault": '{"type": "cut_frame"}'},
                )
            # The server has read the disconnect before it answers this one.
            assert httpx.get(f"{server.url}/health").status_code == 200
            errors = list(server.errors)
        finally:
            logging.getLogger("uvicorn.error").removeHandler(uvicorn_log)
    assert [r.getMessage() for r in uvicorn_log.records if r.levelno >= logging.ERROR] == []
    assert errors == []
