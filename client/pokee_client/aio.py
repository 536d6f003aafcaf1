"""`AsyncPokeeClient`: the asyncio client. It performs the effects of the shared flows with
an `httpx.AsyncClient` and decides nothing itself (see `pokee_client.effects`); its
methods mirror `pokee_client.sync.PokeeClient` one for one."""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import inspect
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping, Sequence
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import Any, Generic, Self, TypeVar

import httpx

from pokee_client import operations, sync
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
from pokee_client.heads import open_within
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
from pokee_client.signals import sigterm_cancels
from pokee_client.skills import bundle_of
from pokee_client.turns import TurnOutcome, TurnReader, stream_turn

T = TypeVar("T")


Documented = TypeVar("Documented", bound=type)


def _documented_as(twin: type) -> Callable[[Documented], Documented]:
    """Each public method without a docstring takes its blocking twin's: the two do the
    same thing, one awaited, so the words are written once, in `pokee_client.sync`."""

    def document(cls: Documented) -> Documented:
        for name, member in vars(cls).items():
            if inspect.isfunction(member) and not name.startswith("_") and not member.__doc__:
                member.__doc__ = getattr(getattr(twin, name, None), "__doc__", None)
        return cls

    return document


class _Result(Generic[T]):
    """Where a driven flow leaves its return value (async generators cannot return one)."""

    value: T


class _Watcher:
    """A `Watch` effect: a task running the tick flow every interval until stopped."""

    def __init__(self, driver: _Driver, watch: Watch):
        self._driver = driver
        self._watch = watch
        self._task = asyncio.get_running_loop().create_task(self._loop())

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self._watch.interval)
            with contextlib.suppress(PokeeError):  # progress only: the next tick tries again
                await self._driver.run(self._watch.tick())

    async def stop(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


class _Driver:
    """Performs effects with asyncio I/O."""

    def __init__(self, http: httpx.AsyncClient, sleep: Callable[[float], Awaitable[None]]):
        self._http = http
        self._sleep = sleep

    async def run(self, flow: Flow[T]) -> T:
        result: _Result[T] = _Result()
        async for _ in self.iterate(flow, result):
            pass
        return result.value

    async def iterate(self, flow: Flow[T], result: _Result[T]) -> AsyncGenerator[Event, None]:
        readers: dict[httpx.Response, AsyncIterator[bytes] | None] = {}
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
                    value = await self._perform(effect, readers, watchers)
                except BaseException as exc:  # the flow decides: retry, resume, clean up
                    error = exc
        finally:
            flow.close()
            for watcher in watchers:
                await watcher.stop()
            for response in readers:
                await response.aclose()

    async def _perform(
        self,
        effect: Effect,
        readers: dict[httpx.Response, AsyncIterator[bytes] | None],
        watchers: list[_Watcher],
    ) -> Any:
        if isinstance(effect, NextChunk):
            chunks = readers[effect.response]
            if chunks is None:
                chunks = readers[effect.response] = effect.response.aiter_bytes()
            return await anext(chunks, None)
        if isinstance(effect, Open):
            response = await open_within(self._http, effect.request)
            readers[response] = None
            return response
        if isinstance(effect, Close):
            readers.pop(effect.response, None)
            await effect.response.aclose()
            return None
        if isinstance(effect, Sleep):
            await self._sleep(effect.seconds)
            return None
        if isinstance(effect, Watch):
            watcher = _Watcher(self, effect)
            watchers.append(watcher)
            return watcher
        if isinstance(effect, Unwatch):
            assert isinstance(effect.handle, _Watcher)
            watchers.remove(effect.handle)
            await effect.handle.stop()
            return None
        raise TypeError(f"not an effect: {effect!r}")


class _AsyncEventStream(Generic[T]):
    """The events of a flow that follows a log (`pokee_client.resumable`), as an async
    iterator; what the flow returns is kept for when the iteration has ended."""

    def __init__(self, driver: _Driver, core: ClientCore, reader: StreamReader, flow: Flow[T]):
        self._core = core
        self._driver = driver
        self._reader = reader
        self._result: _Result[T] = _Result()
        self._events = driver.iterate(flow, self._result)

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> Event:
        return await anext(self._events)

    @property
    def response_id(self) -> str | None:
        return self._reader.response_id

    @property
    def resumes(self) -> int:
        """How often the stream had to be picked up again, so far."""
        return self._reader.resumes

    def _ended(self) -> T | None:
        return getattr(self._result, "value", None)

    async def _cancel(self, flow: Callable[[str], Flow[str]]) -> str:
        if self._reader.response_id is None:
            raise RuntimeError("no response id yet: read the stream's first event first")
        return await self._driver.run(flow(self._reader.response_id))

    async def aclose(self) -> None:
        """Stop reading; the work goes on on the server (cancel it with `cancel`)."""
        await self._events.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


@_documented_as(sync.TurnStream)
class AsyncTurnStream(_AsyncEventStream[TurnOutcome]):
    """A turn's events as an async iterator, surviving drops (see `pokee_client.turns`).

    Nothing is sent until the first ``anext()``. ``outcome`` is set once the iteration has
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

    async def cancel(self) -> str:
        return await self._cancel(partial(operations.cancel, self._core, self._turn.session_id))


@_documented_as(sync.ResponseStream)
class AsyncResponseStream(_AsyncEventStream[Response]):
    """A stateless response's events (R5) as an async iterator, surviving drops (see
    `pokee_client.responses`): as `pokee_client.sync.ResponseStream`, with ``async for``
    and an awaited `final_response`."""

    def __init__(
        self, driver: _Driver, core: ClientCore, reader: ResponseReader, request: httpx.Request
    ):
        super().__init__(driver, core, reader, stream_response(core, reader, request))

    @property
    def response(self) -> Response | None:
        return self._ended()

    async def final_response(self) -> Response:
        async for _ in self:
            pass
        response = self._ended()
        assert response is not None
        return response

    async def cancel(self) -> str:
        return await self._cancel(partial(operations.cancel_response, self._core))


@_documented_as(sync.Sessions)
class AsyncSessions:
    """``client.sessions``: as `pokee_client.sync.Sessions`, awaited (S1–S6)."""

    def __init__(self, core: ClientCore, driver: _Driver):
        self._core, self._driver = core, driver

    async def create(
        self,
        *,
        persistent: bool = False,
        ttl: int | str | None = None,
        metadata: Mapping[str, Any] | None = None,
        file_access: Mapping[str, Sequence[str]] | None = None,
        model: str | None = None,
        tools: Sequence[Mapping[str, Any]] | None = None,
    ) -> Session:
        return await self._driver.run(
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

    async def get(self, session_id: str) -> Session:
        return await self._driver.run(operations.get_session(self._core, session_id))

    async def list(self) -> builtins.list[Session]:
        return await self._driver.run(operations.list_sessions(self._core))

    async def delete(self, session_id: str) -> None:
        await self._driver.run(operations.delete_session(self._core, session_id))

    async def delete_many(
        self, *, status: str | None = None, older_than: str | int | None = None
    ) -> int:
        flow = operations.delete_sessions(self._core, status=status, older_than=older_than)
        return await self._driver.run(flow)


@_documented_as(sync.Messages)
class AsyncMessages:
    """``client.messages``: as `pokee_client.sync.Messages`, with ``async for`` over a
    turn's events (M1, M7, M8; an ``Idempotency-Key`` on every message, M9)."""

    def __init__(self, core: ClientCore, driver: _Driver):
        self._core, self._driver = core, driver

    def stream(
        self,
        session_id: str,
        message: str,
        *,
        idempotency_key: str | None = None,
        scenario: str | None = None,
    ) -> AsyncTurnStream:
        key = idempotency_key or new_idempotency_key()
        request = self._core.requests.send_message(session_id, message, key, scenario)
        return AsyncTurnStream(self._driver, self._core, TurnReader(session_id), request)

    async def send(
        self,
        session_id: str,
        message: str,
        *,
        idempotency_key: str | None = None,
        scenario: str | None = None,
    ) -> TurnOutcome:
        """Stream the turn to its end without looking at the events."""
        async with self.stream(
            session_id, message, idempotency_key=idempotency_key, scenario=scenario
        ) as stream:
            async for _ in stream:
                pass
        assert stream.outcome is not None
        return stream.outcome

    def resume(self, session_id: str, response_id: str, *, after: int = -1) -> AsyncTurnStream:
        """M7: the turn's events after ``after`` (-1: all of them), then live to the end."""
        request = self._core.requests.resume_events(session_id, response_id, after)
        reader = TurnReader(session_id, response_id, after)
        return AsyncTurnStream(self._driver, self._core, reader, request)

    async def cancel(self, session_id: str, response_id: str) -> str:
        return await self._driver.run(operations.cancel(self._core, session_id, response_id))


@_documented_as(sync.Responses)
class AsyncResponses:
    """``client.responses``: as `pokee_client.sync.Responses`, awaited, with ``async for``
    over a streamed response's events (R1–R6)."""

    def __init__(self, core: ClientCore, driver: _Driver):
        self._core, self._driver = core, driver

    async def create(
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
        return await self._driver.run(flow)

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
    ) -> AsyncResponseStream:
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
        return AsyncResponseStream(self._driver, self._core, ResponseReader(), request)

    def resume(self, response_id: str, *, after: int = -1) -> AsyncResponseStream:
        request = self._core.requests.resume_response(response_id, after)
        reader = ResponseReader(response_id, after)
        return AsyncResponseStream(self._driver, self._core, reader, request)

    async def cancel(self, response_id: str) -> str:
        return await self._driver.run(operations.cancel_response(self._core, response_id))


@_documented_as(sync.Files)
class AsyncFiles:
    """``client.files``: as `pokee_client.sync.Files`, awaited (F3–F6). Paths are
    workspace-relative (``output/deck.pptx``)."""

    def __init__(self, core: ClientCore, driver: _Driver):
        self._core, self._driver = core, driver

    async def list(self, session_id: str, path: str = "") -> builtins.list[FileEntry]:
        return await self._driver.run(operations.list_files(self._core, session_id, path))

    async def download(self, session_id: str, path: str, target: str | Path | None = None) -> Path:
        return await self._driver.run(download(self._core, session_id, path, target))

    async def upload(self, session_id: str, path: str, source: str | Path | bytes) -> StoredFile:
        flow = operations.upload(self._core, session_id, path, source)
        return await self._driver.run(flow)

    async def delete(self, session_id: str, path: str) -> None:
        await self._driver.run(operations.delete_file(self._core, session_id, path))


@_documented_as(sync.Skills)
class AsyncSkills:
    """``client.skills``: as `pokee_client.sync.Skills`, awaited (K1–K3; sessions created
    after an install see it, K4)."""

    def __init__(self, core: ClientCore, driver: _Driver):
        self._core, self._driver = core, driver

    async def install(self, name: str, source: str | Path | bytes) -> InstalledSkill:
        """As `pokee_client.sync.Skills.install`; a folder is zipped in a worker thread."""
        bundle = await asyncio.to_thread(bundle_of, source)
        return await self._driver.run(operations.install_skill(self._core, name, bundle))

    async def list(self) -> builtins.list[Skill]:
        return await self._driver.run(operations.list_skills(self._core))

    async def delete(self, name: str) -> None:
        await self._driver.run(operations.delete_skill(self._core, name))


@_documented_as(sync.PokeeClient)
class AsyncPokeeClient:
    """The Pokee API over httpx, on asyncio. ``run(message)``, awaited, is the whole flow;
    ``sessions``, ``messages``, ``files``, ``skills`` and ``responses`` (`AsyncSessions`,
    `AsyncMessages`, `AsyncFiles`, `AsyncSkills`, `AsyncResponses`) and ``usage()`` the API
    piece by piece, each as on `PokeeClient`. Arguments as for `PokeeClient`, with an async
    ``sleep``: the same ``timeout`` (also the whole of an answer read in one
    piece), ``stream_read_timeout`` (new events only; keep-alives do not count) and
    ``limits`` (`Limits`), and redirects are never followed."""

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
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        headers: Mapping[str, str] | None = None,
        limits: Limits | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
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
        self._http = httpx.AsyncClient(transport=transport, follow_redirects=False)
        self._driver = _Driver(self._http, sleep)
        self.sessions = AsyncSessions(self._core, self._driver)
        self.messages = AsyncMessages(self._core, self._driver)
        self.files = AsyncFiles(self._core, self._driver)
        self.skills = AsyncSkills(self._core, self._driver)
        self.responses = AsyncResponses(self._core, self._driver)

    async def usage(self) -> Usage:
        """U1."""
        return await self._driver.run(operations.usage(self._core))

    async def run(
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
        """The cookbook flow in one call; see `PokeeClient.run`. SIGTERM cancels it
        (turn cancelled, session deleted unless ``keep``) and raises `Terminated`."""
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
        async with sigterm_cancels():
            return await self._driver.run(flow)

    async def aclose(self) -> None:
        """Close the connections (``async with AsyncPokeeClient() as pokee:`` does it)."""
        await self._http.aclose()

    async def __aenter__(self) -> AsyncPokeeClient:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
