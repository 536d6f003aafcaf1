"""`PokeeClient`: the synchronous client. It performs the effects of the shared flows with
an `httpx.Client` and decides nothing itself (see `pokee_client.effects`)."""

from __future__ import annotations

import builtins
import contextlib
import threading
import time
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import Any, Generic, Self, TypeVar

import httpx

from pokee_client import operations
from pokee_client.base import (
    DEFAULT_POLL_INTERVAL,
    DEFAULT_STREAM_READ_TIMEOUT,
    DEFAULT_TIMEOUT,
    ClientCore,
)
from pokee_client.downloads import download
from pokee_client.effects import (
    Close,
    Effect,
    Emit,
    Flow,
    NextChunk,
    Open,
    Sleep,
    Unwatch,
    Watch,
)
from pokee_client.errors import PokeeError
from pokee_client.events import Event
from pokee_client.heads import deadline_transport, head_within
from pokee_client.limits import Limits
from pokee_client.progress import Progress
from pokee_client.records import FileEntry, InstalledSkill, Session, Skill, StoredFile, Usage
from pokee_client.requests import new_idempotency_key
from pokee_client.response_object import Response
from pokee_client.responses import (
    Input,
    ResponseOptions,
    ResponseReader,
    ToolChoice,
    response_body,
    stream_response,
)
from pokee_client.resumable import StreamReader
from pokee_client.retrying import RetryPolicy
from pokee_client.running import RunResult, run
from pokee_client.signals import sigterm_raises
from pokee_client.skills import bundle_of
from pokee_client.turns import TurnOutcome, TurnReader, stream_turn

T = TypeVar("T")


class _Result(Generic[T]):
    """Where a driven flow leaves its return value."""

    value: T


class _Watcher:
    """A `Watch` effect: a thread running the tick flow every interval until stopped."""

    def __init__(self, driver: _Driver, watch: Watch):
        self._driver = driver
        self._watch = watch
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="pokee-watch", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self._watch.interval):
            with contextlib.suppress(PokeeError):  # progress only: the next tick tries again
                self._driver.run(self._watch.tick())

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


class _Driver:
    """Performs effects with blocking I/O."""

    def __init__(self, http: httpx.Client, sleep: Callable[[float], None]):
        self._http = http
        self._sleep = sleep

    def run(self, flow: Flow[T]) -> T:
        result: _Result[T] = _Result()
        for _ in self.iterate(flow, result):
            pass
        return result.value

    def iterate(self, flow: Flow[T], result: _Result[T]) -> Generator[Event, None, None]:
        readers: dict[httpx.Response, Iterator[bytes] | None] = {}
        watchers: list[_Watcher] = []
        value: Any = None
        error: BaseException | None = None
        try:
            while True:
                try:
                    effect = flow.send(value) if error is None else flow.throw(error)
                except StopIteration as stop:
                    result.value = stop.value
                    return
                value, error = None, None
                if type(effect) is Emit:
                    yield effect.event
                    continue
                try:
                    value = self._perform(effect, readers, watchers)
                except BaseException as exc:  # the flow decides: retry, resume, clean up
                    error = exc
        finally:
            flow.close()
            for watcher in watchers:
                watcher.stop()
            for response in readers:
                response.close()

    def _perform(
        self,
        effect: Effect,
        readers: dict[httpx.Response, Iterator[bytes] | None],
        watchers: list[_Watcher],
    ) -> Any:
        if isinstance(effect, NextChunk):
            chunks = readers[effect.response]
            if chunks is None:
                chunks = readers[effect.response] = effect.response.iter_bytes()
            return next(chunks, None)
        if isinstance(effect, Open):
            with head_within(effect.request):
                response = self._http.send(effect.request, stream=True)
            readers[response] = None
            return response
        if isinstance(effect, Close):
            readers.pop(effect.response, None)
            effect.response.close()
            return None
        if isinstance(effect, Sleep):
            self._sleep(effect.seconds)
            return None
        if isinstance(effect, Watch):
            watcher = _Watcher(self, effect)
            watchers.append(watcher)
            return watcher
        if isinstance(effect, Unwatch):
            assert isinstance(effect.handle, _Watcher)
            watchers.remove(effect.handle)
            effect.handle.stop()
            return None
        raise TypeError(f"not an effect: {effect!r}")


class _EventStream(Generic[T]):
    """The events of a flow that follows a log (`pokee_client.resumable`), as an iterator;
    what the flow returns is kept for when the iteration has ended."""

    def __init__(self, driver: _Driver, core: ClientCore, reader: StreamReader, flow: Flow[T]):
        self._core = core
        self._driver = driver
        self._reader = reader
        self._result: _Result[T] = _Result()
        self._events = driver.iterate(flow, self._result)

    def __iter__(self) -> Self:
        return self

    def __next__(self) -> Event:
        return next(self._events)

    @property
    def response_id(self) -> str | None:
        return self._reader.response_id

    @property
    def resumes(self) -> int:
        """How often the stream had to be picked up again, so far."""
        return self._reader.resumes

    def _ended(self) -> T | None:
        return getattr(self._result, "value", None)

    def _cancel(self, flow: Callable[[str], Flow[str]]) -> str:
        if self._reader.response_id is None:
            raise RuntimeError("no response id yet: read the stream's first event first")
        with sigterm_raises():
            return self._driver.run(flow(self._reader.response_id))

    def close(self) -> None:
        """Stop reading; the work goes on on the server (cancel it with `cancel`)."""
        self._events.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class TurnStream(_EventStream[TurnOutcome]):
    """A turn's events as an iterator, surviving drops (see `pokee_client.turns`).

    Nothing is sent until the first ``next()``. ``outcome`` is set once the iteration has
    ended; ``response_id`` as soon as the server has named the turn.
    """

    def __init__(
        self, driver: _Driver, core: ClientCore, reader: TurnReader, request: httpx.Request
    ):
        super().__init__(driver, core, reader, stream_turn(core, reader, request))
        self._turn = reader

    @property
    def outcome(self) -> TurnOutcome | None:
        return self._ended()

    def cancel(self) -> str:
        """M8: ask the server to cancel this turn; the stream then ends with
        ``message.cancelled``."""
        return self._cancel(partial(operations.cancel, self._core, self._turn.session_id))


class ResponseStream(_EventStream[Response]):
    """A stateless response's events (R5) as an iterator, surviving drops (see
    `pokee_client.responses`): each event once, in order.

    Nothing is sent until the first ``next()``. ``response`` is the final response object
    once the iteration has ended (`final_response` reads to the end for it);
    ``response_id`` is set as soon as the server has named the response.
    """

    def __init__(
        self, driver: _Driver, core: ClientCore, reader: ResponseReader, request: httpx.Request
    ):
        super().__init__(driver, core, reader, stream_response(core, reader, request))

    @property
    def response(self) -> Response | None:
        return self._ended()

    def final_response(self) -> Response:
        """Read the rest of the stream (its events are not delivered) and return the
        final response object."""
        for _ in self:
            pass
        response = self._ended()
        assert response is not None
        return response

    def cancel(self) -> str:
        """R6: ask the server to cancel this response; the stream then ends with
        ``response.cancelled``."""
        return self._cancel(partial(operations.cancel_response, self._core))


class Sessions:
    """``client.sessions``: create, read, list and delete sessions (clauses S1–S6)."""

    def __init__(self, core: ClientCore, driver: _Driver):
        self._core, self._driver = core, driver

    def create(
        self,
        *,
        persistent: bool = False,
        ttl: int | str | None = None,
        metadata: Mapping[str, Any] | None = None,
        file_access: Mapping[str, Sequence[str]] | None = None,
        model: str | None = None,
        tools: Sequence[Mapping[str, Any]] | None = None,
    ) -> Session:
        """A new session. Not ``persistent``, it ends 5 minutes after its last activity
        or at its ``ttl`` (seconds, or ``"4h"``; default 4 hours), whichever comes first;
        persistent, at its ``ttl`` only. ``metadata`` is yours to set; ``file_access``
        scopes the session's workspace (``{"read": [...], "write": [...]}``); ``model``
        and ``tools`` (function tools the agent may call on you) as the API takes them."""
        return self._driver.run(
            operations.create_session(
                self._core,
                persistent=persistent,
                ttl=ttl,
                metadata=metadata,
                file_access=file_access,
                model=model,
                tools=tools,
            )
        )

    def get(self, session_id: str) -> Session:
        """The session now: ``busy`` while a turn runs, its ``metadata`` as the agent
        updates it; `NotFound` once it is deleted or expired."""
        return self._driver.run(operations.get_session(self._core, session_id))

    def list(self) -> builtins.list[Session]:
        """Every live session of the key's tenant."""
        return self._driver.run(operations.list_sessions(self._core))

    def delete(self, session_id: str) -> None:
        """End the session now; its running turn, if any, is cancelled."""
        self._driver.run(operations.delete_session(self._core, session_id))

    def delete_many(self, *, status: str | None = None, older_than: str | int | None = None) -> int:
        """Delete the sessions matching every filter given (``status`` such as ``"idle"``,
        ``older_than`` seconds or ``"2h"``); at least one is required, so that a bare call
        cannot delete everything. Returns how many went."""
        flow = operations.delete_sessions(self._core, status=status, older_than=older_than)
        return self._driver.run(flow)


class Messages:
    """M1, M7, M8: every message carries an ``Idempotency-Key`` (a fresh one unless given),
    so that a retried send replays its turn instead of starting another (M9)."""

    def __init__(self, core: ClientCore, driver: _Driver):
        self._core, self._driver = core, driver

    def stream(
        self,
        session_id: str,
        message: str,
        *,
        idempotency_key: str | None = None,
        scenario: str | None = None,
    ) -> TurnStream:
        """Send ``message`` and iterate over the turn's events as they come (a context
        manager too). A dropped stream is resumed from the last event seen, or the session
        polled until idle when it cannot be; retries send the same ``idempotency_key``
        (fresh unless given), so the turn runs once. ``scenario`` names a mock scenario
        (the ``X-Mock-Scenario`` header; a real deployment ignores it)."""
        key = idempotency_key or new_idempotency_key()
        request = self._core.requests.send_message(session_id, message, key, scenario)
        return TurnStream(self._driver, self._core, TurnReader(session_id), request)

    def send(
        self,
        session_id: str,
        message: str,
        *,
        idempotency_key: str | None = None,
        scenario: str | None = None,
    ) -> TurnOutcome:
        """Stream the turn to its end without looking at the events."""
        with self.stream(
            session_id, message, idempotency_key=idempotency_key, scenario=scenario
        ) as stream:
            for _ in stream:
                pass
        assert stream.outcome is not None
        return stream.outcome

    def resume(self, session_id: str, response_id: str, *, after: int = -1) -> TurnStream:
        """M7: the turn's events after ``after`` (-1: all of them), then live to the end."""
        request = self._core.requests.resume_events(session_id, response_id, after)
        reader = TurnReader(session_id, response_id, after)
        return TurnStream(self._driver, self._core, reader, request)

    def cancel(self, session_id: str, response_id: str) -> str:
        """Ask the server to cancel a running turn; its stream then ends with
        ``message.cancelled``. Returns the status the server answered."""
        return self._driver.run(operations.cancel(self._core, session_id, response_id))


class Responses:
    """``client.responses``: the stateless surface (R1–R6), one model call with no session:
    an answer in one piece (`create`) or streamed (`stream`), and `cancel`. A conversation
    is the caller's to keep: each call sends the whole history as ``input`` (R4)."""

    def __init__(self, core: ClientCore, driver: _Driver):
        self._core, self._driver = core, driver

    def create(
        self,
        input: Input,
        *,
        model: str | None = None,
        tools: Sequence[Mapping[str, Any]] | None = None,
        tool_choice: ToolChoice | None = None,
        reasoning: Mapping[str, Any] | None = None,
        instructions: str | None = None,
        parallel_tool_calls: bool | None = None,
        max_output_tokens: int | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        metadata: Mapping[str, Any] | None = None,
        store: bool | None = None,
        user: str | None = None,
        scenario: str | None = None,
    ) -> Response:
        """The model's answer to ``input`` as a `Response`, in one piece (R1, R3).

        ``input`` is one user message (a string) or the whole conversation as a list of
        input items: messages (``{"role": "user", "content": "…"}``), the function calls
        of earlier answers (`Response.as_input`) and their results
        (`FunctionCall.answer`). The other arguments are the request's settings
        (`ResponseOptions`); one left as None is not sent. ``tools`` are function tools
        (``{"type": "function", "name", "description", "parameters"}``), ``reasoning``
        e.g. ``{"effort": "low"}``. Not retried once sent (a repeat would be a second
        call, billed), only after 429 and 503; ``scenario`` names a mock scenario (the
        ``X-Mock-Scenario`` header; a real deployment ignores it)."""
        options = ResponseOptions(
            model=model,
            tools=tools,
            tool_choice=tool_choice,
            reasoning=reasoning,
            instructions=instructions,
            parallel_tool_calls=parallel_tool_calls,
            max_output_tokens=max_output_tokens,
            temperature=temperature,
            top_p=top_p,
            metadata=metadata,
            store=store,
            user=user,
        )
        flow = operations.create_response(self._core, input, options, scenario)
        return self._driver.run(flow)

    def stream(
        self,
        input: Input,
        *,
        model: str | None = None,
        tools: Sequence[Mapping[str, Any]] | None = None,
        tool_choice: ToolChoice | None = None,
        reasoning: Mapping[str, Any] | None = None,
        instructions: str | None = None,
        parallel_tool_calls: bool | None = None,
        max_output_tokens: int | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        metadata: Mapping[str, Any] | None = None,
        store: bool | None = None,
        user: str | None = None,
        idempotency_key: str | None = None,
        scenario: str | None = None,
    ) -> ResponseStream:
        """As `create`, streamed (R5): iterate over the events as they come (a context
        manager too), then read ``response``, or call `ResponseStream.final_response`.
        A dropped stream is resumed from the last event delivered (R6), each event once;
        retries send the same ``idempotency_key`` (fresh unless given), so the model is
        called once. Nothing is sent until the first event is asked for."""
        options = ResponseOptions(
            model=model,
            tools=tools,
            tool_choice=tool_choice,
            reasoning=reasoning,
            instructions=instructions,
            parallel_tool_calls=parallel_tool_calls,
            max_output_tokens=max_output_tokens,
            temperature=temperature,
            top_p=top_p,
            metadata=metadata,
            store=store,
            user=user,
        )
        key = idempotency_key or new_idempotency_key()
        body = response_body(input, options, stream=True)
        request = self._core.requests.stream_response(body, key, scenario)
        return ResponseStream(self._driver, self._core, ResponseReader(), request)

    def resume(self, response_id: str, *, after: int = -1) -> ResponseStream:
        """R6: the response's events after ``after`` (-1: all of them), then live to the
        end (the server keeps them 120 s after it)."""
        request = self._core.requests.resume_response(response_id, after)
        return ResponseStream(self._driver, self._core, ResponseReader(response_id, after), request)

    def cancel(self, response_id: str) -> str:
        """Ask the server to cancel a running response; its stream then ends with
        ``response.cancelled``, and it is not billed. Returns the status the server
        answered (``"cancelling"``, or ``"already_complete"``)."""
        return self._driver.run(operations.cancel_response(self._core, response_id))


class Files:
    """``client.files``: the tenant's workspace as a session sees it (F3–F6). Paths are
    workspace-relative (``output/deck.pptx``)."""

    def __init__(self, core: ClientCore, driver: _Driver):
        self._core, self._driver = core, driver

    def list(self, session_id: str, path: str = "") -> builtins.list[FileEntry]:
        """The files and folders directly in ``path`` (default: the top)."""
        return self._driver.run(operations.list_files(self._core, session_id, path))

    def download(self, session_id: str, path: str, target: str | Path | None = None) -> Path:
        """Save the file as ``target`` (default: its name, in the current folder);
        see `pokee_client.downloads` for what happens on a cut."""
        return self._driver.run(download(self._core, session_id, path, target))

    def upload(self, session_id: str, path: str, source: str | Path | bytes) -> StoredFile:
        """Store ``source`` (a local file's path, or bytes) at ``path``, replacing what was
        there; read and sent in chunks, never whole in memory."""
        flow = operations.upload(self._core, session_id, path, source)
        return self._driver.run(flow)

    def delete(self, session_id: str, path: str) -> None:
        """Remove the file at ``path`` (a folder is refused)."""
        self._driver.run(operations.delete_file(self._core, session_id, path))


class Skills:
    """``client.skills``: the tenant's skills (K1–K3). Sessions created after an install
    see it (K4)."""

    def __init__(self, core: ClientCore, driver: _Driver):
        self._core, self._driver = core, driver

    def install(self, name: str, source: str | Path | bytes) -> InstalledSkill:
        """Install (or replace) skill ``name`` from a folder, which is zipped here the
        same way every time, or from a zip file or its bytes (`pokee_client.skills`)."""
        flow = operations.install_skill(self._core, name, bundle_of(source))
        return self._driver.run(flow)

    def list(self) -> builtins.list[Skill]:
        """The installed skills, by name."""
        return self._driver.run(operations.list_skills(self._core))

    def delete(self, name: str) -> None:
        """Uninstall ``name``; sessions that saw it keep it."""
        self._driver.run(operations.delete_skill(self._core, name))


class PokeeClient:
    """The Pokee API over httpx, blocking: sessions and their turns, and stateless responses.

    ``run(message)`` is the whole long-running flow in one call (a session, the turn
    streamed and survived, its files downloaded, the session deleted). The API piece by
    piece is on five attributes and one method:

    - ``sessions`` (`Sessions`): ``create``, ``get``, ``list``, ``delete``, ``delete_many``;
    - ``messages`` (`Messages`): ``stream``, ``send``, ``resume``, ``cancel``;
    - ``files`` (`Files`): ``list``, ``download``, ``upload``, ``delete``;
    - ``skills`` (`Skills`): ``install``, ``list``, ``delete``;
    - ``responses`` (`Responses`): ``create``, ``stream``, ``resume``, ``cancel``, the
      stateless surface: one model call, no session;
    - ``usage()``: turns, tokens and credits used.

    ``base_url`` and ``api_key`` default to ``POKEE_API`` and ``POKEE_KEY``.
    ``timeout`` (seconds, default 30) bounds each network wait and also the whole of an
    answer read in one piece, since a server that drips a byte before each read times out
    would keep a per-read timeout from ever firing. ``stream_read_timeout`` (default 45) is
    how long a stream may go without a new event before it counts as stalled and is
    resumed: keep-alive comments and replayed events do not count. ``poll_interval`` paces
    the polling of a session whose stream cannot be resumed; ``watch_interval`` the
    metadata polls beside ``run``'s stream (real time). ``sleep`` does every wait the client
    decides on (backoff, ``Retry-After``, polling); tests pass one that moves a fake clock
    instead. ``limits`` bounds what a server can make the client read and how long
    (`Limits`: 16 MiB an event, 10 MiB a JSON answer or error body, 2 h a turn's stream,
    1 h a download, and ``run``'s walk of the workspace). ``transport`` is handed to httpx
    (tests; proxies). Redirects are never followed: one is a `ProtocolError`, so the key
    goes nowhere but ``base_url``.
    """

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        stream_read_timeout: float = DEFAULT_STREAM_READ_TIMEOUT,
        retry: RetryPolicy | None = None,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        watch_interval: float = 2.0,
        sleep: Callable[[float], None] = time.sleep,
        headers: Mapping[str, str] | None = None,
        limits: Limits | None = None,
        transport: httpx.BaseTransport | None = None,
    ):
        self._core = ClientCore.create(
            base_url,
            api_key,
            timeout=timeout,
            stream_read_timeout=stream_read_timeout,
            retry=retry,
            poll_interval=poll_interval,
            watch_interval=watch_interval,
            headers=headers,
            limits=limits,
        )
        self._http = httpx.Client(
            transport=transport or deadline_transport(), follow_redirects=False
        )
        self._driver = _Driver(self._http, sleep)
        self.sessions = Sessions(self._core, self._driver)
        self.messages = Messages(self._core, self._driver)
        self.files = Files(self._core, self._driver)
        self.skills = Skills(self._core, self._driver)
        self.responses = Responses(self._core, self._driver)

    def usage(self) -> Usage:
        """U1."""
        return self._driver.run(operations.usage(self._core))

    def run(
        self,
        message: str,
        *,
        persistent: bool = True,
        ttl: int | str | None = None,
        metadata: Mapping[str, Any] | None = None,
        out: str | Path = ".",
        keep: bool = False,
        scenario: str | None = None,
        on_progress: Callable[[Progress], None] | None = None,
    ) -> RunResult:
        """The cookbook flow in one call (see `pokee_client.running`): the outcome, the
        final session record and the paths of the files the turn wrote, saved under
        ``out`` (``unattributed`` lists changed files that may be another session's).
        The session is deleted afterwards unless ``keep``. Interrupted (Ctrl-C, or SIGTERM,
        which raises `Terminated` here unless the program handles it), the turn is
        cancelled and the session deleted unless ``keep``."""
        flow = run(
            self._core,
            message,
            persistent=persistent,
            ttl=ttl,
            metadata=metadata,
            out=out,
            keep=keep,
            scenario=scenario,
            on_progress=on_progress,
        )
        with sigterm_raises():
            return self._driver.run(flow)

    def close(self) -> None:
        """Close the connections (``with PokeeClient() as pokee:`` does it for you)."""
        self._http.close()

    def __enter__(self) -> PokeeClient:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
