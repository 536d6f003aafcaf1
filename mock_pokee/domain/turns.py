"""Turns (contract M): a session's run of a scenario, told in the ``message.*`` events.

How a turn's events are kept, read and ended is the common machinery of every run (see
`mock_pokee.domain.runs` and `mock_pokee.domain.events`); this module adds what belongs
to a session: the message, the client tool calls it waits on (M12) and its event names.
Busy, metadata, files and ``last_activity`` change from the turn itself, never from the
request that started it; the session is idle, its metadata final and its files written
before the terminal event is appended (M5).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from mock_pokee.clock import Clock
from mock_pokee.domain.errors import BugReport, log_bug
from mock_pokee.domain.events import Event
from mock_pokee.domain.runs import Run, new_id
from mock_pokee.domain.toolcalls import ToolCalls


def new_response_id() -> str:
    """M1: ``msg_`` and 24 hex digits."""
    return new_id("msg_")


StepRunner = Callable[["Turn"], Awaitable[None]]


class Turn(Run):
    """One message's run in its session."""

    kind = "turn"

    def __init__(
        self,
        *,
        session_id: str,
        message: str,
        scenario: str,
        clock: Clock,
        on_end: Callable[[Turn], None],
        on_event: Callable[[Turn, Event], None] | None = None,
        report: BugReport = log_bug,
    ):
        super().__init__(
            new_response_id(),
            scenario=scenario,
            clock=clock,
            on_end=on_end,
            on_event=on_event,
            report=report,
        )
        self.session_id: str = session_id
        self.message = message
        self.usage = {"input_tokens": 0, "output_tokens": 0}
        self.polled: tuple[float, int] | None = None  # (clock time, events) at the last poll
        self.tool_calls = ToolCalls(self.emit)  # M12: client tool calls awaiting results
        self._append(
            "message.created",
            {"id": self.id, "session_id": session_id, "status": "in_progress"},
        )

    def _terminal(self) -> tuple[str, dict[str, Any]]:
        """M4: ``message.completed`` with the usage, ``message.error`` or
        ``message.cancelled``."""
        if self.status == "completed":
            return "message.completed", {"id": self.id, "status": "completed", "usage": self.usage}
        if self.status == "error":
            return "message.error", {"id": self.id, "error": self.error or ""}
        return "message.cancelled", {"id": self.id, "status": "cancelled"}

    def describe(self) -> dict[str, Any]:
        """For ``GET /_mock/state`` (C3)."""
        return {
            **super().describe(),
            "session_id": self.session_id,
            **self.tool_calls.describe(),
        }
