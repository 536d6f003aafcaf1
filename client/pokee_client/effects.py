"""The I/O a flow asks its driver for, so that every flow is written once for both clients.

httpx itself keeps its sync and async clients thin by sharing a base that builds requests;
its send loop is short enough to write twice. The client's loops are not short (resuming a
stream, falling back to polling, resuming a download, the whole cookbook flow), so they are
written as *flows*: generators that ``yield`` an effect below and are sent its result. The
sync and async clients (``pokee_client.sync``, ``pokee_client.aio``) are drivers that
perform effects, nothing more. A network failure while performing one is thrown into the
flow as the httpx exception, where the retry and resume rules decide.

Every body is read by a flow, chunk by chunk (`NextChunk`), never whole by a driver: how
much to read, how long to wait and what an event is are decisions (`pokee_client.limits`,
`pokee_client.sse`), so they are made once, in the flows, for both clients.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any, TypeAlias, TypeVar

import httpx

from pokee_client.events import Event

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Open:
    """Send a request and read only the answer's head → `httpx.Response`, body unread.
    The driver closes it when the flow ends if the flow has not."""

    request: httpx.Request


@dataclass(frozen=True, slots=True)
class NextChunk:
    """The next bytes of an opened answer as they came → `bytes`, or None once the body
    has ended. The flows take only answers without content encoding (see
    `pokee_client.exchange`), so these are the body's own bytes."""

    response: httpx.Response


@dataclass(frozen=True, slots=True)
class Close:
    """Close an opened answer (its connection goes back to the pool or is dropped)."""

    response: httpx.Response


@dataclass(frozen=True, slots=True)
class Sleep:
    """Wait, with the sleeping function the client was given (tests pass their own)."""

    seconds: float


@dataclass(frozen=True, slots=True)
class Emit:
    """Hand an event to whoever iterates the flow."""

    event: Event


@dataclass(frozen=True, slots=True)
class Watch:
    """Run ``tick()`` every ``interval`` seconds of real time, beside the flow, until
    `Unwatch` or the flow's end → an opaque handle. Failures of a tick are ignored: a
    watch only reports progress."""

    tick: Callable[[], Flow[None]]
    interval: float


@dataclass(frozen=True, slots=True)
class Unwatch:
    handle: object


Effect: TypeAlias = Open | NextChunk | Close | Sleep | Emit | Watch | Unwatch
Flow: TypeAlias = Generator[Effect, Any, T]


def sleep(seconds: float) -> Flow[None]:
    if seconds > 0:
        yield Sleep(seconds)


def observe(flow: Flow[T], on_event: Callable[[Event], None]) -> Flow[T]:
    """Run ``flow`` as part of another flow, passing its events to ``on_event`` instead of
    emitting them (``run`` shows them as progress)."""
    value: Any = None
    error: BaseException | None = None
    try:
        while True:
            try:
                effect = flow.send(value) if error is None else flow.throw(error)
            except StopIteration as stop:
                result: T = stop.value
                return result
            value, error = None, None
            if isinstance(effect, Emit):
                on_event(effect.event)
                continue
            try:
                value = yield effect
            except GeneratorExit:
                raise
            except BaseException as exc:  # the inner flow decides, as if it were alone
                error = exc
    finally:
        flow.close()
