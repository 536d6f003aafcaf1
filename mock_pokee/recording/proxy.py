"""The recording proxy of ``mock-pokee record``: an ASGI app that passes every request on
to the upstream deployment and every answer back unchanged, and captures the turns and
the ``/v1/responses`` calls it sees for the sink (`mock_pokee.recording.capture`).

What passes through is the upstream's: its status, its headers (bar hop-by-hop ones) and
its body, chunk by chunk as it arrives; nothing is buffered but the small request bodies
of the calls it records. It asks the upstream for ``Accept-Encoding: identity``, so that
what it reads is what it records. With a key of its own (``--key``) it sends that key
upstream whatever the client sent. An upstream it cannot reach is a ``502`` in A5's
shape, never a traceback.

The sink hears of it all through `mock_pokee.recording.jobs`: every key first
(``secret``), every answer (``answer``), and each turn and response once it has ended.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, quote

import httpx
from starlette.types import Receive, Scope, Send

from mock_pokee.domain.errors import InvalidRequest
from mock_pokee.domain.inputs import parse_json
from mock_pokee.recording.capture import ResponseCapture, Sink
from mock_pokee.recording.downstream import ClientGone, Downstream, Headers
from mock_pokee.recording.jobs import Jobs, warn
from mock_pokee.recording.session import TurnRecorder
from mock_pokee.recording.settings import RecordSettings
from mock_pokee.recording.tap import RESPONSE_ENDS, TURN_ENDS, Feed, Tap
from mock_pokee.recording.upstream import Upstream

MAX_REQUEST = 16 * 1024 * 1024  # a message or response request read whole to be recorded
MAX_RESPONSE = 16 * 1024 * 1024  # a response object (R3) kept whole to be recorded
MAX_ANSWER = 1024 * 1024  # an answer body the sink gets parsed (else None)
SHUTDOWN_GRACE = 5.0  # seconds running captures get at shutdown
SESSION_MESSAGES = re.compile(r"/v1/sessions/([^/]+)/messages")
# RFC 9110 7.6.1: meant for one connection, never forwarded; Proxy-* too, and whatever a
# Connection header names. Host is the upstream's own; Expect was answered here.
HOP_BY_HOP = frozenset(
    b"connection keep-alive transfer-encoding te trailer upgrade host expect".split()
)


def _end_to_end(headers: Headers, *also: bytes) -> Headers:
    dropped = HOP_BY_HOP.union(also) | {
        token.strip().lower()
        for name, value in headers
        if name.lower() == b"connection"
        for token in value.split(b",")
    }
    return [
        (name, value)
        for name, value in headers
        if name.lower() not in dropped and not name.lower().startswith(b"proxy-")
    ]


def _header(headers: Headers, name: bytes) -> str | None:
    return next((v.decode("latin-1") for k, v in headers if k.lower() == name), None)


def _json(body: bytes | None, content_type: str = "application/json") -> Any:
    media = content_type.partition(";")[0].strip().lower()
    if body is None or not (media == "application/json" or media.endswith("+json")):
        return None
    try:
        return parse_json(body, "body")  # bounded: no nesting the interpreter cannot follow
    except InvalidRequest:
        return None


def _response_events(rid: str) -> str:
    return f"/v1/responses/{quote(rid, safe='')}/events"


class RecordingProxy:
    """The ASGI app. At the server's lifespan shutdown, running captures get what is left
    of ``grace`` seconds from `stopping_at`, then go to the sink unfinished."""

    def __init__(self, settings: RecordSettings, sink: Sink, *, grace: float = SHUTDOWN_GRACE):
        self.settings = settings
        self.upstream = Upstream(settings.upstream)
        self.jobs = Jobs(sink)
        self.turns = TurnRecorder(self.upstream, settings)
        self.grace = grace
        self.stopping_at: float | None = None  # set by the server as it starts to stop
        # Runs already recorded: an idempotent retry (M9, R6) gets a replay of the same
        # run, which passes through but is not recorded twice.
        self._runs: set[str] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                if self.settings.key:  # a key like any other: the sink's before all else
                    await self.jobs.secret(self.settings.key)
                await send({"type": "lifespan.startup.complete"})
            await self.jobs.close((self.stopping_at or time.monotonic()) + self.grace)
            await self.upstream.aclose()
            await send({"type": "lifespan.shutdown.complete"})
        elif scope["type"] == "http":
            client = Downstream(scope, receive, send)
            try:
                await self._exchange(client)
            except ClientGone:
                pass
            except Exception as exc:  # a proxy bug: one line here, an A5 502 (or a cut) there
                warn(f"{scope['method']} {scope['path']}: {exc!r}")
                with contextlib.suppress(Exception):
                    await client.fail(f"the recording proxy failed: {type(exc).__name__}")

    async def _exchange(self, client: Downstream) -> None:
        scope = client.scope
        method, path = scope["method"], scope["path"]
        headers: Headers = list(scope["headers"])
        for key in self._keys(scope, headers):
            await self.jobs.secret(key)
        auth = f"Bearer {self.settings.key}" if self.settings.key else None
        auth = auth or _header(headers, b"authorization")
        session = SESSION_MESSAGES.fullmatch(path) if method == "POST" else None
        recorded = session is not None or (method == "POST" and path == "/v1/responses")
        content: bytes | AsyncIterator[bytes] | None = None
        request: Any = None
        if recorded:
            body, whole = await client.read(MAX_REQUEST)
            content, request = (body, _json(body)) if whole else (client.rest(body), None)
        elif _header(headers, b"content-length") or _header(headers, b"transfer-encoding"):
            content = client.rest(b"")
        turn = None
        if session is not None and isinstance(request, dict):
            message = request.get("message")
            text = message if isinstance(message, str) else ""
            turn = await self.turns.before(session.group(1), text, auth)
        started_at = time.monotonic()
        response = await self._forward(client, headers, auth, content)
        if response is None:
            self.jobs.post("answer", method, path, 502, None)
            return
        streamed = response.headers.get("content-type", "").startswith("text/event-stream")
        rid = response.headers.get("x-response-id", "")
        if not isinstance(request, dict) or response.status_code != 200 or rid in self._runs:
            await self._pass(client, response, None, started_at)
        elif not streamed:
            await self._pass(client, response, request if turn is None else None, started_at)
        else:
            self.jobs.post("answer", method, path, 200, None)
            if rid:
                self._runs.add(rid)
            feed = Feed()
            if turn is not None:
                capture, before = turn
                capture.started_at = started_at
                tap = Tap(capture, TURN_ENDS, rid)
                work = self.turns.follow(capture, before, tap, response, feed, auth)
                self.jobs.start("turn", capture, work)
            else:
                stream = ResponseCapture(request=request, started_at=started_at)
                tap = Tap(stream, RESPONSE_ENDS, rid)
                follow = tap.follow(response, feed, self.upstream, auth, _response_events)
                self.jobs.start("response", stream, follow)
            await client.relay(feed, response.status_code, _end_to_end(response.headers.raw))

    async def _pass(
        self,
        client: Downstream,
        response: httpx.Response,
        request: dict[str, Any] | None,
        started_at: float,
    ) -> None:
        """Pass a whole answer on; given the ``request``, it is a response object (R3) to
        record, read to its end even if the client leaves."""
        method, path = client.scope["method"], client.scope["path"]
        keep = MAX_ANSWER if request is None else MAX_RESPONSE
        answer = _end_to_end(response.headers.raw)
        body = await client.copy(response, answer, keep, follow=request is not None)
        answered_at = time.monotonic()
        parsed = _json(body, response.headers.get("content-type", ""))
        small = body is not None and len(body) <= MAX_ANSWER
        self.jobs.post("answer", method, path, response.status_code, parsed if small else None)
        if request is None:
            return
        if isinstance(parsed, dict):
            capture = ResponseCapture(request, started_at, answer=parsed, answered_at=answered_at)
            capture.complete = True
            self.jobs.finished("response", capture)
        else:
            warn(
                f"{method} {path}: an answer that is not a JSON object of at most "
                f"{MAX_RESPONSE} bytes is passed on but not recorded"
            )

    @staticmethod
    def _keys(scope: Scope, headers: Headers) -> list[str]:
        """The keys a request carries: its bearer token, and the inspector's ``?key=``."""
        keys = parse_qs(scope["query_string"].decode("latin-1")).get("key", [])
        authorization = (_header(headers, b"authorization") or "").strip()
        scheme, _, token = authorization.partition(" ")
        return [*keys, token.strip() or scheme] if authorization else keys

    async def _forward(
        self,
        client: Downstream,
        headers: Headers,
        auth: str | None,
        content: bytes | AsyncIterator[bytes] | None,
    ) -> httpx.Response | None:
        """Send the request upstream; its answer's head, or None once a 502 is given."""
        scope = client.scope
        replaced = [b"accept-encoding", b"authorization"]
        if isinstance(content, bytes):
            replaced.append(b"content-length")  # httpx sets it for the body read whole
        forwarded = [*_end_to_end(headers, *replaced), (b"accept-encoding", b"identity")]
        if auth is not None:
            forwarded.append((b"authorization", auth.encode("latin-1")))
        upstream = self.upstream
        request = upstream.client.build_request(
            scope["method"],
            upstream.base,
            headers=forwarded,
            content=content,
            extensions={"target": upstream.target(scope["raw_path"], scope["query_string"])},
        )
        try:
            return await upstream.client.send(request, stream=True)
        except httpx.HTTPError as exc:
            reason = "could not be reached"
            if isinstance(exc, httpx.TimeoutException):
                reason = "did not answer in time"
            await client.fail(
                f"{scope['method']} {scope['path']}: the upstream {upstream.base} {reason} "
                f"({type(exc).__name__}: {exc})"
            )
            return None
