"""Moving the mock's virtual clock for the client's tests: as the client's sleeping
function, and beside a client call that waits on the clock."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import httpx

T = TypeVar("T")


def advance(control: httpx.Client, seconds: float) -> None:
    response = control.post("/_mock/clock/advance", json={"seconds": seconds})
    assert response.status_code == 200, response.text


class Sleeper:
    """The client's ``sleep``: records each wait and moves the tenant's clock by it, so
    that ``Retry-After`` and polling intervals pass on the mock's clock, at once."""

    def __init__(self, control: httpx.Client | None = None):
        self.control = control
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        if self.control is not None:
            advance(self.control, seconds)


class EventCount:
    """A progress callback that keeps every report: how many events the client has
    delivered, and the session metadata it has seen."""

    def __init__(self) -> None:
        self.reports: list[Any] = []

    def __call__(self, progress: Any) -> None:
        self.reports.append(progress)

    @property
    def events(self) -> int:
        return self.reports[-1].events if self.reports else 0

    def caught_up(self, turn: dict[str, Any], session: dict[str, Any]) -> bool:
        """The client has delivered every event of ``turn`` and seen ``session``'s
        metadata as it is now."""
        latest = self.reports[-1] if self.reports else None
        return (
            latest is not None
            and latest.events == turn["events"]
            and latest.metadata == session["metadata"]
        )


def drive_clock(
    control: httpx.Client,
    work: Callable[[], T],
    progress: EventCount,
    *,
    step: float = 15.0,
    limit: float = 20.0,
) -> T:
    """Run ``work`` in a thread; whenever the tenant's running turn is waiting on the clock
    and the client has caught up with it (every event delivered, the metadata seen), move
    the clock ``step`` seconds.

    Time then moves only while the client is caught up, so a stream that drops is resumed
    long before the turn's log could be evicted (M7: 120 s after its end), and every stage
    of the metadata reaches the progress callback. Bounded by ``limit`` real seconds.
    """
    result: list[T] = []
    failure: list[BaseException] = []

    def target() -> None:
        try:
            result.append(work())
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=target, name="client-under-test")
    thread.start()
    deadline = time.monotonic() + limit
    while thread.is_alive():
        assert time.monotonic() < deadline, "the client did not finish in time"
        state = control.get("/_mock/state").json()
        running = [turn for turn in state["turns"] if turn["status"] == "in_progress"]
        sessions = {session["id"]: session for session in state["sessions"]}
        if running and progress.caught_up(running[0], sessions[running[0]["session_id"]]):
            advance(control, step)
        else:
            thread.join(0.005)
    if failure:
        raise failure[0]
    return result[0]
