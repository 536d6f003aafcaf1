"""Running the recording proxy under uvicorn: in the foreground (``mock-pokee record``, until
Ctrl-C or until the command it was given ends) or on an ephemeral port in a thread (tests,
and recording a mock into a folder that another mock then serves).

uvicorn's own ``Date`` and ``Server`` headers are off, so the upstream's pass through. At
a stop uvicorn first lets open answers finish (up to the proxy's grace), then the
lifespan shutdown gives running captures what is left of that grace, hands the rest to
the sink unfinished, and closes the sink.
"""

from __future__ import annotations

import asyncio
import math
import os
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from types import TracebackType

import uvicorn

from mock_pokee.recording.capture import Sink
from mock_pokee.recording.proxy import SHUTDOWN_GRACE, RecordingProxy
from mock_pokee.recording.settings import RecordSettings
from mock_pokee.server import start_in_thread


def _config(proxy: RecordingProxy, settings: RecordSettings) -> uvicorn.Config:
    return uvicorn.Config(
        proxy,
        host=settings.host,
        port=settings.port,
        log_level="warning",
        access_log=False,
        date_header=False,
        server_header=False,
        proxy_headers=False,
        interface="asgi3",  # said, not guessed from how `__call__` looks (mutation tools wrap it)
        lifespan="on",
        timeout_graceful_shutdown=math.ceil(proxy.grace),
    )


class _Server(uvicorn.Server):
    """uvicorn's server, telling a callback its base URL once it listens, the proxy when
    it starts to stop, and another callback once it has stopped (uvicorn then re-raises
    the signal that stopped it, and a SIGTERM ends the process on the spot)."""

    def __init__(
        self,
        proxy: RecordingProxy,
        settings: RecordSettings,
        on_listen: Callable[[str], None] | None = None,
        on_stop: Callable[[], None] | None = None,
    ):
        super().__init__(_config(proxy, settings))
        self.proxy = proxy
        self.on_listen = on_listen
        self.on_stop = on_stop
        self.url = ""
        self.loop: asyncio.AbstractEventLoop | None = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self.loop = asyncio.get_running_loop()
        if self.started:
            host, port = self.servers[0].sockets[0].getsockname()[:2]
            self.url = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
            if self.on_listen is not None:
                self.on_listen(self.url)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self.proxy.stopping_at = time.monotonic()
        await super().shutdown(sockets)
        if self.on_stop is not None:
            self.on_stop()


def summary(proxy: RecordingProxy) -> str:
    """The sink's own summary if it gave one, else what the proxy counted."""
    jobs = proxy.jobs
    if jobs.summary:
        return jobs.summary
    counts = jobs.counts
    unfinished = f", {counts['incomplete']} unfinished" if counts["incomplete"] else ""
    return f"{counts['turn']} turn(s) and {counts['response']} response(s) recorded{unfinished}"


def serve_recorder(
    settings: RecordSettings,
    sink_factory: Callable[[RecordSettings], Sink],
    announce: Callable[[str], None] | None = None,
    command: Sequence[str] = (),
) -> int:
    """Record in the foreground until Ctrl-C (or SIGTERM), or with ``command`` until that
    command, run with ``POKEE_API`` pointed at the proxy, ends; returns the exit code (the
    command's, when it ran to its end).

    ``announce`` gets the proxy's base URL once it listens; a line saying what was
    recorded is printed once it has stopped."""
    proxy = RecordingProxy(settings, sink_factory(settings))
    ran: list[int] = []

    def listening(url: str) -> None:
        if announce is not None:
            announce(url)
        if command:
            threading.Thread(target=run, args=(url,), name="recorded-command").start()

    def run(url: str) -> None:
        try:
            ran.append(subprocess.run(command, env={**os.environ, "POKEE_API": url}).returncode)
        except OSError as failed:  # not found, not executable
            print(f"mock-pokee record: cannot run {command[0]!r}: {failed.strerror}", flush=True)
            ran.append(127)
        server.should_exit = True

    server = _Server(
        proxy,
        settings,
        listening,
        on_stop=lambda: print(f"mock-pokee record: {summary(proxy)}", flush=True),
    )
    try:
        server.run()
    except KeyboardInterrupt:
        return 130
    if ran:
        return ran[0]
    return 0 if server.started else 1


class ThreadedRecorder:
    """The recording proxy in a background thread; ``RecordSettings(port=0)`` picks a
    free port, `url` says which. `settle` waits until every capture so far is with the
    sink."""

    def __init__(
        self,
        settings: RecordSettings,
        sink: Sink,
        *,
        grace: float = SHUTDOWN_GRACE,
        startup_timeout: float = 10.0,
    ):
        self.proxy = RecordingProxy(settings, sink, grace=grace)
        self._server = _Server(self.proxy, settings)
        self._thread = threading.Thread(
            target=self._server.run, name="mock-pokee-record", daemon=True
        )
        self._startup_timeout = startup_timeout

    @property
    def url(self) -> str:
        return self._server.url

    @property
    def summary(self) -> str:
        return summary(self.proxy)

    def start(self) -> ThreadedRecorder:
        start_in_thread(self._thread, self._server, self._startup_timeout, "the recording proxy")
        return self

    def settle(self, timeout: float = 10.0) -> None:
        """Wait until every capture started so far has ended and is with the sink."""
        assert self._server.loop is not None, "start() it first"
        settled = asyncio.run_coroutine_threadsafe(self.proxy.jobs.settle(), self._server.loop)
        try:
            settled.result(timeout)
        except TimeoutError:
            settled.cancel()
            raise

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=self.proxy.grace * 2 + 10)
        if self._thread.is_alive():
            raise RuntimeError("the recording proxy did not stop in time")

    def __enter__(self) -> ThreadedRecorder:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
