"""SIGTERM ends a ``run`` as Ctrl-C does: its turn cancelled (M8), its session deleted unless
kept, then `Terminated` raised (the ``pokee`` command exits 143, as a shell reports a
process ended by SIGTERM).

SIGTERM is what a CI job's timeout, ``docker stop`` and ``kill`` send; by default it ends
Python at once, leaving a turn running and a session busy. So while ``run`` works in the
main thread, SIGTERM raises `Terminated` there (the sync client) or cancels the task
(the async client), and the flow cleans up. A program that handles SIGTERM itself keeps
its handler: these only step in where the default (end the process) is in place.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from types import FrameType

EXIT_STATUS = 128 + signal.SIGTERM  # 143


class Terminated(BaseException):
    """SIGTERM arrived while ``run`` worked; it cleaned up as on Ctrl-C. Like
    KeyboardInterrupt, not an `Exception`: ``except Exception`` does not swallow it."""


def _ours_to_handle() -> bool:
    return (
        threading.current_thread() is threading.main_thread()
        and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    )


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise Terminated("SIGTERM")


@contextmanager
def sigterm_raises() -> Iterator[None]:
    """While the block runs, SIGTERM raises `Terminated` in the main thread."""
    if not _ours_to_handle():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@asynccontextmanager
async def sigterm_cancels() -> AsyncIterator[None]:
    """While the block runs, SIGTERM cancels the current task; the cancellation leaves
    the block as `Terminated`."""
    loop, task = asyncio.get_running_loop(), asyncio.current_task()
    if task is None or not _ours_to_handle():
        yield
        return
    terminated = False

    def terminate() -> None:
        nonlocal terminated
        terminated = True
        task.cancel("SIGTERM")

    try:
        loop.add_signal_handler(signal.SIGTERM, terminate)
    except NotImplementedError:  # an event loop without signal support (Windows)
        yield
        return
    try:
        yield
    except asyncio.CancelledError:
        if not terminated:
            raise
        task.uncancel()
        raise Terminated("SIGTERM") from None
    finally:
        loop.remove_signal_handler(signal.SIGTERM)
