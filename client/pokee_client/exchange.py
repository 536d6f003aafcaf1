"""One call to the API as a flow: send, map an error answer to its exception, and repeat
when `RetryPolicy` says it is safe.

The same loop serves whole answers (`call`) and answers whose body is read later (`call_streamed`,
for streams and downloads): only the effect that sends differs.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from pokee_client.effects import Close, Flow, Open, ReadBody, Send, Sleep
from pokee_client.errors import APIError, ProtocolError, TransportError, api_error
from pokee_client.retrying import RetryPolicy


def call(policy: RetryPolicy, request: httpx.Request, *, idempotent: bool) -> Flow[httpx.Response]:
    """A whole answer with a status below 400; anything else raises."""
    return _exchange(policy, request, idempotent, opened=False)


def call_streamed(
    policy: RetryPolicy, request: httpx.Request, *, idempotent: bool
) -> Flow[httpx.Response]:
    """An answer with a status below 400 whose body is still to be read (the caller closes
    it); an error answer is read, closed and raised."""
    return _exchange(policy, request, idempotent, opened=True)


def _exchange(
    policy: RetryPolicy, request: httpx.Request, idempotent: bool, opened: bool
) -> Flow[httpx.Response]:
    retry = 0
    lost_after_sending = False
    while True:
        try:
            response: httpx.Response = yield (Open(request) if opened else Send(request))
        except httpx.TransportError as exc:
            sent = not isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
            lost_after_sending |= sent
            delay = policy.delay_after_network(retry, idempotent=idempotent, sent=sent)
            if delay is None:
                raise network_error(request, exc) from exc
        else:
            if response.status_code < 400:
                return response
            if response.status_code == 404 and request.method == "DELETE" and lost_after_sending:
                # The first try's answer was lost after the server had it: what it was
                # asked to delete is gone, which is what the caller wanted.
                if opened:
                    yield Close(response)
                return response
            error = yield from _error_of(response, opened)
            delay = policy.delay_after_error(error, retry, idempotent=idempotent)
            if delay is None:
                raise error
        yield Sleep(delay)
        retry += 1


def _error_of(response: httpx.Response, opened: bool) -> Flow[APIError]:
    if opened:
        try:
            body: bytes = yield ReadBody(response)
        except httpx.TransportError:
            body = b""  # the status alone still classifies it
        yield Close(response)
    else:
        body = response.content
    return api_error(response.status_code, body, response.headers)


def network_error(request: httpx.Request, exc: httpx.TransportError) -> TransportError:
    """One line naming where and what: ``POST http://…/messages: connection refused``."""
    reason = str(exc) or type(exc).__name__
    return TransportError(f"{request.method} {request.url}: {reason}")


def json_of(response: httpx.Response) -> Any:
    try:
        return json.loads(response.content)
    except ValueError:
        what = f"{response.request.method} {response.request.url.path}"
        raise ProtocolError(f"{what}: the answer is not JSON") from None
