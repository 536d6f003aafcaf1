"""A run: one task that fills one event log, for either surface (a session's turn, M; a
stateless response, R).

The HTTP request never owns a run. Its task runs the steps; the first ``end`` wins and is
final: the owner's effects happen first (``on_end``: the session idle, usage counted,
credits debited), then the terminal event is appended, so no reader can see the end
early (M5). What the events are called is the subclass's business; how they are kept,
numbered, read, resumed and ended is this module's and `mock_pokee.domain.events`'s.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from typing import Any, Literal, Self

from mock_pokee.clock import Clock
from mock_pokee.domain.errors import BugReport, DomainError, ScenarioFailure, log_bug
from mock_pokee.domain.events import Event, EventLog

RunStatus = Literal["in_progress", "completed", "error", "cancelled"]
Ending = Literal["completed", "error", "cancelled"]


def new_id(prefix: str) -> str:
    """``prefix`` and 24 lowercase hex digits (M1's ``msg_…``, R3's ``resp_…``)."""
    return prefix + secrets.token_hex(12)


class Run:
    """What both surfaces' runs share; a subclass names the events (`_created`,
    `_terminal`). ``end`` is idempotent: the first terminal event wins."""

    kind = "run"  # the journal's word for it: ``<kind>.start``, ``<kind>.end`` (C4)
    session_id: str | None = None  # the session it belongs to, if any

    def __init__(
        self,
        run_id: str,
        *,
        scenario: str,
        clock: Clock,
        on_end: Callable[[Self], None],
        on_event: Callable[[Self, Event], None] | None = None,
        report: BugReport = log_bug,
    ):
        self.id = run_id
        self.scenario = scenario
        self.clock = clock
        self.log = EventLog(clock)
        self.status: RunStatus = "in_progress"
        self.started_at = clock.now()
        self.ended_at: float | None = None
        self.error: str | None = None
        self._on_end = on_end
        self._on_event = on_event
        self._report = report
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self.status == "in_progress"

    def start(self, steps: Callable[[Self], Awaitable[None]]) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(steps))
        self.log.producer = self._task
        self.clock.track(self._task)

    @property
    def task(self) -> asyncio.Task[None] | None:
        """The task running the steps (None before `start`)."""
        return self._task

    async def _run(self, steps: Callable[[Self], Awaitable[None]]) -> None:
        try:
            await steps(self)
        except asyncio.CancelledError:
            self.end("cancelled")
            raise
        except ScenarioFailure as failure:
            self.end("error", failure.error)
        except DomainError as refused:  # e.g. a write outside the session's file_access
            self.end("error", f"{refused.error}: {refused.message}")
        except Exception as exc:  # a bug in the mock: reported; the run ends, not the server
            self._report(exc)
            self.end("error", f"internal_error: {type(exc).__name__}: {exc}")
        else:
            self.end("completed")

    def emit(self, type_: str, /, **data: Any) -> None:
        """An event of the running run (none once it has ended: a late step is ignored)."""
        if self.running:
            self._append(type_, data)

    def _append(self: Self, type_: str, data: dict[str, Any], *, last: bool = False) -> None:
        event = self.log.append(type_, data, last=last)
        if self._on_event is not None:
            self._on_event(self, event)

    def end(self: Self, status: Ending, error: str = "") -> None:
        """Finish the run: the owner's effects first (via ``on_end``), then the terminal
        event, then the steps' task is stopped if something else ended the run."""
        if not self.running:
            return
        self.status = status
        self.error = error or None
        self.ended_at = self.clock.now()
        self._on_end(self)
        type_, data = self._terminal()
        self._append(type_, data, last=True)
        task, current = self._task, asyncio.current_task()
        if task is not None and task is not current and not task.done():
            task.cancel()

    def _terminal(self) -> tuple[str, dict[str, Any]]:
        """The terminal event for `status` and `error`."""
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        """For ``GET /_mock/state`` (C3)."""
        return {
            "id": self.id,
            "scenario": self.scenario,
            "status": self.status,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "events": len(self.log.events),
        }
