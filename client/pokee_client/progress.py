"""What `run` reports while it works: its phase, the turn's events, and the session's
metadata (M6), merged into one `Progress` value for a callback.

Metadata is tool-specific: the presentation flow writes ``temasek_status``, the report
flow ``task_status``. ``Progress.status`` is the value of the first metadata key that ends
in ``status`` (else a ``progress`` key), which covers both without knowing either.

The metadata is polled beside the stream, so the callback can be called from two threads
(sync client) or two tasks (async); a lock keeps the calls one at a time, in order.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from pokee_client.events import Event, ToolUseExecuting, ToolUseStart, ToolUseStop
from pokee_client.records import Session

Phase = Literal["starting", "running", "polling", "downloading", "cleaning up", "done"]


def metadata_status(metadata: dict[str, Any]) -> str | None:
    for key, value in metadata.items():
        if key.endswith("status") and isinstance(value, str):
            return value
    value = metadata.get("progress")
    return value if isinstance(value, str) else None


@dataclass(frozen=True)
class Progress:
    """One report: ``event`` is the event that caused it (None for metadata and phase
    changes); ``tool`` is the tool running now; ``file`` the file being downloaded."""

    phase: Phase = "starting"
    session_id: str | None = None
    status: str | None = None
    tool: str | None = None
    events: int = 0
    metadata: dict[str, Any] = field(default_factory=dict)
    event: Event | None = None
    file: str | None = None


class ProgressTracker:
    def __init__(self, callback: Callable[[Progress], None] | None):
        self._callback = callback
        self._lock = threading.Lock()
        self.current = Progress()

    def phase(self, phase: Phase, file: str | None = None) -> None:
        self._report(phase=phase, file=file, event=None)

    def session(self, session: Session) -> None:
        with self._lock:
            if session.metadata == self.current.metadata and session.id == self.current.session_id:
                return
            self._publish(
                session_id=session.id,
                metadata=dict(session.metadata),
                status=metadata_status(session.metadata),
                event=None,
            )

    def polled(self, session: Session) -> None:
        """A record polled after the stream was given up (the fallback of M5)."""
        if self.current.phase != "polling":
            self.phase("polling")
        self.session(session)

    def event(self, event: Event) -> None:
        tool = self.current.tool
        if isinstance(event, ToolUseStart | ToolUseExecuting):
            tool = event.name
        elif isinstance(event, ToolUseStop):
            tool = None
        self._report(event=event, events=self.current.events + 1, tool=tool)

    def _report(self, **changes: Any) -> None:
        with self._lock:
            self._publish(**changes)

    def _publish(self, **changes: Any) -> None:
        self.current = replace(self.current, **changes)
        if self._callback is not None:
            self._callback(self.current)
