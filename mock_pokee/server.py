"""Running the app under uvicorn: in the foreground (the CLI) or in a thread (tests).

Both switch off uvicorn's own ``Date`` header, because the mock's clock owns it (C1), and
both learn the real port after binding, so port 0 gives a free ephemeral port. Both run
`mock_pokee.wire`'s protocol (A5 answers for unparsable requests) and bound how long a
connection may take to send a request head, stay idle between requests, and hold up a
shutdown (`Settings`). A stopping server first ends every running turn with
``message.error`` (``server_shutdown``), so open streams end with a terminal event.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import socket
import threading
import time
from collections.abc import Callable
from types import TracebackType

import uvicorn
from starlette.applications import Starlette

from mock_pokee.api.context import ServerContext
from mock_pokee.app import create_app
from mock_pokee.domain.keys import tenant_of
from mock_pokee.settings import Settings
from mock_pokee.wire import HeaderDeadline, MockHttpProtocol

# The error a turn still running at shutdown ends with (its stream's last event).
SHUTDOWN_ERROR = "server_shutdown"


def _config(app: Starlette, settings: Settings, log_level: str) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=log_level,
        access_log=False,  # the mock's own request log replaces it (`mock_pokee.requestlog`)
        date_header=False,
        server_header=False,
        proxy_headers=False,  # nothing in the mock reads the client's address
        lifespan="on",
        http=MockHttpProtocol,
        timeout_keep_alive=settings.keep_alive_timeout,
        timeout_graceful_shutdown=settings.shutdown_timeout,
    )


class _Server(uvicorn.Server):
    """uvicorn's server, telling a callback its base URL once it listens, bounding the
    time to send a request head, and ending turns before it stops."""

    def __init__(
        self,
        config: uvicorn.Config,
        app: Starlette,
        header_timeout: float,
        on_listen: Callable[[str], None] | None = None,
    ):
        super().__init__(config)
        self.on_listen = on_listen
        self.url = ""
        self._ctx: ServerContext = app.state.mock
        self._header_timeout = header_timeout
        self._deadline: asyncio.Task[None] | None = None
        self.loop: asyncio.AbstractEventLoop | None = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self.loop = asyncio.get_running_loop()
        if self.started:
            deadline = HeaderDeadline(self.server_state.connections, self._header_timeout)
            self._deadline = asyncio.get_running_loop().create_task(deadline.run())
            host, port = self.servers[0].sockets[0].getsockname()[:2]
            self.url = f"http://{host}:{port}"
            if self.on_listen is not None:
                self.on_listen(self.url)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self._ctx.tenants.end_turns(SHUTDOWN_ERROR)  # streams send their last event
        if self._deadline is not None:
            self._deadline.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._deadline
        await super().shutdown(sockets)


# Young collections every this many allocations (CPython's default is 700).
GC_YOUNG_THRESHOLD = 10_000


def _tune_garbage_collection() -> None:
    """A served mock keeps what it serves (sessions, journal entries), and every full
    collection walks all of it: the modules, schemas and tables made at start-up are frozen
    out of those walks, and young collections run less often. Measured with wrk at 16
    connections: a session read's p99 went from 16-17 ms to about 7 ms. Only for a served
    process: a test process that starts a `ThreadedServer` keeps its own settings."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, middle, old)


def serve(settings: Settings, announce: Callable[[str], None] | None = None) -> int:
    """Serve in the foreground until Ctrl-C; returns the process exit code.

    uvicorn shuts down gracefully on Ctrl-C and then re-raises the signal; the resulting
    KeyboardInterrupt becomes the shell's usual 130 instead of a traceback.
    """
    app = create_app(settings)
    _tune_garbage_collection()
    server = _Server(_config(app, settings, "info"), app, settings.header_timeout, announce)
    try:
        server.run()
    except KeyboardInterrupt:
        return 130
    return 0 if server.started else 1


def start_in_thread(
    thread: threading.Thread, server: uvicorn.Server, timeout: float, what: str
) -> None:
    """Start ``thread``, which runs ``server``, and wait until the server listens."""
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started and thread.is_alive():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start in time")
        time.sleep(0.002)
    if not server.started:
        raise RuntimeError(f"{what} did not start (see its log above)")


class ThreadedServer:
    """The mock on an ephemeral port in a background thread, for tests and benchmarks.

    Ready when uvicorn's ``started`` flag is set. ``errors`` lists unexpected server-side
    exceptions, so a test harness can fail the test that caused one.
    """

    def __init__(self, settings: Settings | None = None, startup_timeout: float = 10.0):
        settings = settings or Settings(port=0)
        self.app = create_app(settings)
        self._server = _Server(
            _config(self.app, settings, "warning"), self.app, settings.header_timeout
        )
        self._thread = threading.Thread(target=self._server.run, name="mock-pokee", daemon=True)
        self._startup_timeout = startup_timeout

    @property
    def url(self) -> str:
        return self._server.url

    @property
    def errors(self) -> list[BaseException]:
        errors: list[BaseException] = self.app.state.mock.errors
        return errors

    def start(self) -> ThreadedServer:
        start_in_thread(self._thread, self._server, self._startup_timeout, "mock-pokee test server")
        return self

    def drop_tenant(self, key: str) -> None:
        """Forget the tenant of ``key`` (`Tenants.drop`) on the server's own loop, without
        an HTTP round trip, and return at once: a test fixture's teardown, which would
        otherwise pay as much for ``POST /_mock/reset`` as the test paid for its request."""
        loop = self._server.loop
        if loop is None or loop.is_closed():
            return
        ctx = self.app.state.mock

        def drop() -> None:
            try:
                ctx.tenants.drop(tenant_of(key))
            except Exception as exc:  # kept for the harness, as a 500 would be
                ctx.errors.append(exc)

        loop.call_soon_threadsafe(drop)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        if self._thread.is_alive():
            raise RuntimeError("the mock-pokee test server did not stop within 10 s")

    def __enter__(self) -> ThreadedServer:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
