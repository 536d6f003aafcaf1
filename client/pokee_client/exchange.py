"""One call to the API as a flow: send, read the answer within its bounds, map an error
answer to its exception, and repeat when `RetryPolicy` says it is safe.

The same loop serves whole answers (`call`) and answers whose body is read later
(`call_streamed`, for streams and downloads): only what happens to the body differs. A
whole answer, and an error's body, is read within ``max_answer_size`` and ``timeout`` (see
`pokee_client.bodies`); a successful answer with a content encoding is refused unread.

A redirect is never followed. No endpoint of the API redirects, so one is a server
misbehaving, and following it would send the next request (the key with it, for a redirect
httpx judges safe) where the caller never pointed the client. It is reported instead,
naming its status and its ``Location``.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from pokee_client.base import ClientCore
from pokee_client.bodies import read_body, refuse_encoded
from pokee_client.effects import Close, Flow, Open, Sleep
from pokee_client.errors import APIError, ProtocolError, TransportError, api_error


def call(core: ClientCore, request: httpx.Request, *, idempotent: bool) -> Flow[httpx.Response]:
    """A whole answer with a 2xx status, its body read (see `read_body`); anything else
    raises."""
    return _exchange(core, request, idempotent, opened=False)


def call_streamed(
    core: ClientCore, request: httpx.Request, *, idempotent: bool
) -> Flow[httpx.Response]:
    """An answer with a 2xx status whose body is still to be read (the caller closes it);
    an error answer is read, closed and raised."""
    return _exchange(core, request, idempotent, opened=True)


def _exchange(
    core: ClientCore, request: httpx.Request, idempotent: bool, opened: bool
) -> Flow[httpx.Response]:
    policy = core.policy
    retry = 0
    lost_after_sending = False
    while True:
        started = core.clock()
        response: httpx.Response | None = None
        try:
            response = yield Open(request)
            if response.status_code < 300:
                yield from refuse_encoded(response)
                if not opened:
                    body = yield from read_body(core, response, started)
                    response = _whole(response, body)
        except httpx.TransportError as exc:
            if response is not None:
                yield Close(response)
            sent = not isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
            lost_after_sending |= sent
            delay = policy.delay_after_network(retry, idempotent=idempotent, sent=sent)
            if delay is None:
                raise network_error(request, exc) from exc
        else:
            if response.status_code < 300:
                return response
            if response.status_code < 400:
                yield Close(response)
                raise redirected(response)
            if response.status_code == 404 and request.method == "DELETE" and lost_after_sending:
                # The first try's answer was lost after the server had it: what it was
                # asked to delete is gone, which is what the caller wanted.
                yield Close(response)
                return response
            error = yield from _error_of(core, response, started)
            delay = policy.delay_after_error(error, retry, idempotent=idempotent)
            if delay is None:
                raise error
        yield Sleep(delay)
        retry += 1


def _whole(response: httpx.Response, body: bytes) -> httpx.Response:
    """The answer again, with the body that was read (``content``, as `json_of` reads)."""
    return httpx.Response(
        response.status_code, headers=response.headers, content=body, request=response.request
    )


def redirected(response: httpx.Response) -> ProtocolError:
    request = response.request
    location = response.headers.get("location", "")[:300]
    return ProtocolError(
        f"{request.method} {request.url.path}: the server redirected it "
        f"({response.status_code}) to {location!r}; redirects are not followed, so that "
        "the API key goes nowhere else"
    )


def _error_of(core: ClientCore, response: httpx.Response, started: float) -> Flow[APIError]:
    request = response.request
    where = f"{request.method} {request.url.copy_with(query=None, fragment=None)}"
    try:
        body = yield from read_body(core, response, started)
    except (httpx.TransportError, ProtocolError) as exc:
        yield Close(response)  # the status still classifies it
        return api_error(response.status_code, b"", response.headers, where, unread=str(exc))
    return api_error(response.status_code, body, response.headers, where)


def network_error(request: httpx.Request, exc: httpx.TransportError) -> TransportError:
    """One line naming where and what: ``POST http://…/messages: connection refused``."""
    reason = str(exc) or type(exc).__name__
    return TransportError(f"{request.method} {request.url}: {reason}")


def json_of(response: httpx.Response) -> Any:
    try:
        return json.loads(response.content)
    except (ValueError, RecursionError):  # nesting deeper than Python's stack is no JSON
        what = f"{response.request.method} {response.request.url.path}"
        raise ProtocolError(f"{what}: the answer is not JSON") from None
