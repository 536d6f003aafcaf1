"""Responses (contract R): one stateless call of the fake model, told in OpenAI's events.

A response is a run like a turn (`mock_pokee.domain.runs`): its events are kept, numbered,
resumed, cancelled and retained by the same machinery; it has no session and belongs to
its tenant alone. What differs is what it says: its output items (reasoning, messages,
function calls), each opened, streamed and finished in OpenAI's order, and the response
object (R3) that its first and last events carry. The JSON answer of a call without
``stream`` is that last object, so a stream, assembled, is the answer (R5).

Token counts are deterministic (R8): input is a quarter of the characters the model reads,
plus one; output a quarter of those it writes, reasoning weighted by its effort; a
scenario's ``usage`` step says its own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

from mock_pokee.clock import Clock
from mock_pokee.domain import openai_events as shapes
from mock_pokee.domain.errors import BugReport, log_bug
from mock_pokee.domain.events import Event
from mock_pokee.domain.response_input import ResponseRequest
from mock_pokee.domain.runs import Run, new_id

# Reasoning tokens per token of summary shown, by effort: harder thinking costs more.
EFFORT_WEIGHT: Mapping[str | None, int] = {None: 1, "minimal": 1, "low": 1, "medium": 2, "high": 4}
STATUS = {"in_progress": "in_progress", "completed": "completed", "error": "failed"}


def new_response_id() -> str:
    """R3 [C]: ``resp_`` and 24 hex digits."""
    return new_id("resp_")


class ResponseRun(Run):
    """One ``POST /v1/responses``."""

    kind = "response"

    def __init__(
        self,
        *,
        request: ResponseRequest,
        scenario: str,
        clock: Clock,
        on_end: Callable[[ResponseRun], None],
        on_event: Callable[[ResponseRun, Event], None] | None = None,
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
        self.request = request
        self.created_at = int(self.started_at)
        self.output: list[shapes.Data] = []  # finished items, in order
        self.answer: shapes.Data | None = None  # the final object, once ended
        self.given_usage: Mapping[str, int] | None = None  # a scenario's ``usage`` step
        self._written = 0  # characters of text and arguments written
        self._reasoned = 0  # characters of reasoning summaries written
        opening = self.response("in_progress")
        self._send(shapes.created(opening))
        self._send(shapes.in_progress(opening))

    # -- the object (R3) ----------------------------------------------------------------

    def response(self, status: str, error: shapes.Data | None = None) -> shapes.Data:
        """The response object as it stands: no usage until it ends."""
        request = self.request
        return shapes.response_object(
            response_id=self.id,
            created_at=self.created_at,
            status=status,
            model=request.model,
            settings=request.settings,
            output=list(self.output),
            usage=None if status == "in_progress" else self.usage(),
            error=error,
        )

    def usage(self) -> shapes.Data:
        """R3's usage: what a ``usage`` step gave, else the counts of R8."""
        given = self.given_usage
        if given is not None:
            cached = given.get("cache_read_input_tokens", 0)
            return shapes.usage_object(
                given["input_tokens"] + cached,
                cached,
                given["output_tokens"],
                given.get("reasoning_tokens", 0),
            )
        reasoning = self._reasoned // 4 * EFFORT_WEIGHT[self.request.effort]
        return shapes.usage_object(
            self.request.input_chars // 4 + 1, 0, self._written // 4 + reasoning, reasoning
        )

    def billed(self) -> dict[str, int]:
        """The usage as the credits bill it (U2): cached input apart, at its own rate."""
        usage = self.usage()
        cached = usage["input_tokens_details"]["cached_tokens"]
        return {
            "input_tokens": usage["input_tokens"] - cached,
            "cache_read_input_tokens": cached,
            "output_tokens": usage["output_tokens"],
        }

    # -- output items (R5's order) ----------------------------------------------------------

    async def write_text(self, pieces: AsyncIterator[str]) -> None:
        """An assistant message, its text streamed piece by piece."""
        index, item_id = len(self.output), new_id("msg_")
        self._send(shapes.item_added(index, shapes.message_item(item_id, None)))
        self._send(shapes.part_added(item_id, index))
        text = "".join([piece async for piece in self._each(pieces, item_id, index, "text")])
        self._send(shapes.text_done(item_id, index, text))
        self._send(shapes.part_done(item_id, index, text))
        self._finish(index, shapes.message_item(item_id, text))
        self._written += len(text)

    async def write_reasoning(self, pieces: AsyncIterator[str]) -> None:
        """A reasoning item, its summary streamed piece by piece."""
        index, item_id = len(self.output), new_id("rs_")
        self._send(shapes.item_added(index, shapes.reasoning_item(item_id, None)))
        text = "".join([piece async for piece in self._each(pieces, item_id, index, "summary")])
        self._send(shapes.summary_done(item_id, index, text))
        self._finish(index, shapes.reasoning_item(item_id, text))
        self._reasoned += len(text)

    async def call_function(self, name: str, arguments: AsyncIterator[str]) -> str:
        """A function call for the client to run (R4); returns its ``call_id``."""
        index, item_id, call_id = len(self.output), new_id("fc_"), new_id("call_")
        added = shapes.function_call_item(item_id, call_id, name, "", done=False)
        self._send(shapes.item_added(index, added))
        text = "".join([piece async for piece in self._each(arguments, item_id, index, "args")])
        self._send(shapes.arguments_done(item_id, index, text))
        self._finish(index, shapes.function_call_item(item_id, call_id, name, text, done=True))
        self._written += len(text)
        return call_id

    async def _each(
        self, pieces: AsyncIterator[str], item_id: str, index: int, kind: str
    ) -> AsyncIterator[str]:
        delta = _DELTAS[kind]
        async for piece in pieces:
            self._send(delta(item_id, index, piece))
            yield piece

    def _finish(self, index: int, item: shapes.Data) -> None:
        self._send(shapes.item_done(index, item))
        if self.running:
            self.output.append(item)

    def _send(self, shaped: shapes.Shaped) -> None:
        type_, data = shaped
        self.emit(type_, **data)

    # -- the end ----------------------------------------------------------------------------

    def _terminal(self) -> tuple[str, dict[str, Any]]:
        """``response.completed``, ``response.failed`` (with the error) or
        ``response.cancelled``, carrying the final object: the JSON answer (R3)."""
        error = shapes.error_object(self.error or "") if self.status == "error" else None
        self.answer = self.response(STATUS.get(self.status, self.status), error)
        return shapes.terminal(self.status, self.answer)

    def describe(self) -> dict[str, Any]:
        """For ``GET /_mock/state`` (C3)."""
        return {
            **super().describe(),
            "model": self.request.model,
            "stream": self.request.stream,
            "output": [item["type"] for item in self.output],
        }


_DELTAS = {
    "text": shapes.text_delta,
    "summary": shapes.summary_delta,
    "args": shapes.arguments_delta,
}
