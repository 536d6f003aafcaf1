"""A turn's calls of its session's client tools, waiting for results (contract M12).

The turn asks (``tool_call.requested``), then waits on the clock; the client answers with
``POST /v1/sessions/{id}/tool_results``. An answer is checked whole before anything
happens: one unknown or already answered ``call_id`` refuses the request and changes
nothing. Each accepted result becomes a ``tool_result`` event at once, and when every
pending call has its result the waiting turn goes on.

The answer and the timeout race, and exactly one of them wins, decided where it happens:
the timeout is a clock timer that, when it fires with a call still unanswered, ends the
wait there and then (the calls are no longer pending), so an answer arriving after it, even
before the turn has woken to say so, is refused (409 ``no_pending_tool_call``); an answer
applied before it leaves the timer nothing to do, and the turn goes on. Deciding when the
turn wakes instead would let an answer slip in between: accepted, then timed out anyway.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from mock_pokee.clock import Clock
from mock_pokee.domain.errors import InvalidRequest
from mock_pokee.domain.text import shown

TOOL_RESULT_TIMEOUT = 600.0  # M12: ten minutes of clock time for every result to arrive

Emit = Callable[..., None]


def new_call_id() -> str:
    """M12 [C]: ``call_`` and 24 hex digits, like OpenAI's function-call ids."""
    return "call_" + secrets.token_hex(12)


@dataclass(frozen=True, slots=True)
class ToolResult:
    """One entry of a ``tool_results`` request."""

    call_id: str
    output: str


class ToolCalls:
    """The calls a turn has requested and the results it has had."""

    def __init__(self, emit: Emit):
        self._emit = emit
        self._pending: dict[str, str] = {}  # call id → tool name, in request order
        self._outputs: dict[str, str] = {}  # call id → output, of the current wait
        self._answered: set[str] = set()  # every call id answered in this turn
        self._decision = asyncio.Event()  # set when the wait is decided, either way
        self._waiting: tuple[Clock, asyncio.Task[object]] | None = None
        self.timed_out = False  # the last wait ended by TOOL_RESULT_TIMEOUT

    @property
    def pending(self) -> bool:
        return bool(self._pending)

    def request(self, calls: Sequence[tuple[str, str]]) -> list[str]:
        """Ask for ``(name, arguments JSON)`` calls at once; returns their call ids."""
        ids = []
        self._outputs = {}
        self._decision.clear()
        self.timed_out = False
        for name, arguments in calls:
            call_id = new_call_id()
            self._pending[call_id] = name
            ids.append(call_id)
            self._emit("tool_call.requested", call_id=call_id, name=name, arguments=arguments)
        return ids

    async def wait(self, clock: Clock) -> list[str] | None:
        """The outputs in request order once every call is answered; None when
        `TOOL_RESULT_TIMEOUT` of clock time passes first."""
        order = list(self._pending)
        if not order:
            return []
        deadline = clock.now() + TOOL_RESULT_TIMEOUT
        task = asyncio.current_task()
        self._waiting = (clock, task) if task is not None else None
        # Made before the wait's own timer at the same time, so it fires first and decides.
        timer = clock.call_at(deadline, self._time_out)
        try:
            await clock.wait_until(self._decision, deadline)
        finally:
            timer.cancel()
            self._waiting = None
        if self._pending:  # the deadline came, whichever timer woke the wait
            self._time_out()
        if self.timed_out:
            return None
        return [self._outputs[call_id] for call_id in order]

    def _time_out(self) -> None:
        """At the deadline: unless every result came first, the wait has timed out, now:
        no call is pending any more, so a late answer is refused, not half accepted."""
        if not self._pending:
            return
        self.timed_out = True
        self._pending = {}
        self._decided()

    def answer(self, results: Sequence[ToolResult]) -> int:
        """Record results (all or none); returns how many were accepted."""
        given: set[str] = set()
        for index, result in enumerate(results):
            where = f"results[{index}].call_id"
            if result.call_id in given:
                raise InvalidRequest(f"{where}: {shown(result.call_id)} given twice")
            if result.call_id in self._answered:
                raise InvalidRequest(f"{where}: {shown(result.call_id)} was already answered")
            if result.call_id not in self._pending:
                waiting = ", ".join(self._pending)
                raise InvalidRequest(
                    f"{where}: {shown(result.call_id)} is not a pending call of this turn "
                    f"(pending: {waiting})"
                )
            given.add(result.call_id)
        for result in results:
            del self._pending[result.call_id]
            self._answered.add(result.call_id)
            self._outputs[result.call_id] = result.output
            self._emit("tool_result", id=result.call_id, content=result.output, is_error=False)
        if not self._pending:
            self._decided()
        return len(results)

    def _decided(self) -> None:
        """Wake the waiting turn; a clock advance under way waits for it to go on."""
        self._decision.set()
        if self._waiting is not None:
            clock, task = self._waiting
            clock.track(task)

    def describe(self) -> dict[str, Any]:
        """For ``GET /_mock/state`` (C3)."""
        return {"pending": [{"call_id": c, "name": n} for c, n in self._pending.items()]}
