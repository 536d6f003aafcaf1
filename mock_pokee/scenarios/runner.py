"""Running a scenario's steps inside a turn.

Explicit waits (``pause``, a tool's ``duration``) are on the mock's clock. The pacing
between streamed chunks is cosmetic: real time divided by the scale, and none under the
virtual clock (C1), so a turn without pauses completes at once there.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
from dataclasses import dataclass
from typing import Any, Protocol

from mock_pokee.domain.errors import ScenarioFailure
from mock_pokee.domain.turns import Turn
from mock_pokee.scenarios import documents
from mock_pokee.scenarios.schema import (
    DropStep,
    FailStep,
    FileWrite,
    MetadataStep,
    PauseStep,
    Scenario,
    Step,
    Streamed,
    TextStep,
    ThinkStep,
    ToolStep,
    UsageStep,
    WriteStep,
)

_WORKSPACE_PATH = re.compile(r"/opt/sandbox/workspace/([^\s'\"`]+?)[.,;:!?)]*(?:\s|$)")
_TOPIC = re.compile(r"\b(?:on|about|for|of)\s+(.+?)[.!?]*$", re.IGNORECASE)


class TurnEffects(Protocol):
    """What a turn may change in its session and workspace (given by the tenant)."""

    def merge_metadata(self, keys: dict[str, Any]) -> None: ...

    def write_file(self, path: str, data: bytes) -> None: ...


@dataclass(frozen=True)
class Template:
    """The values a step's templates may use."""

    message: str
    topic: str
    slug: str
    session_id: str
    response_id: str
    requested_path: str

    @classmethod
    def for_turn(cls, turn: Turn) -> Template:
        topic = _topic(turn.message)
        requested = _WORKSPACE_PATH.search(turn.message + " ")
        return cls(
            message=turn.message,
            topic=topic,
            slug=re.sub(r"[^a-z0-9]+", "-", topic.lower()).strip("-")[:60] or "output",
            session_id=turn.session_id,
            response_id=turn.id,
            requested_path=requested.group(1) if requested else "",
        )

    def render(self, text: str) -> str:
        return text.format_map(vars(self))

    def render_all(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.render(value)
        if isinstance(value, dict):
            return {k: self.render_all(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.render_all(v) for v in value]
        return value


def _topic(message: str) -> str:
    match = _TOPIC.search(message.strip())
    return (match.group(1) if match else message).strip() or "Untitled"


class ScenarioRun:
    """Runs one scenario for one turn; the turn calls it as its step runner."""

    def __init__(self, scenario: Scenario, effects: TurnEffects):
        self.scenario = scenario
        self.effects = effects
        self._output_chars = 0
        self._usage_given = False

    async def __call__(self, turn: Turn) -> None:
        template = Template.for_turn(turn)
        for step in self.scenario.steps:
            await self._run(step, turn, template)
        if not self._usage_given:
            turn.usage = {
                "input_tokens": len(turn.message) // 4 + 1,
                "output_tokens": self._output_chars // 4,
            }

    async def _run(self, step: Step, turn: Turn, template: Template) -> None:
        if isinstance(step, TextStep):
            await self._stream(turn, "text", step.text, template)
        elif isinstance(step, ThinkStep):
            await self._stream(turn, "thinking", step.think, template)
        elif isinstance(step, ToolStep):
            await self._tool(turn, step, template)
        elif isinstance(step, MetadataStep):
            self.effects.merge_metadata(template.render_all(step.metadata))
        elif isinstance(step, WriteStep):
            self._write(step.write, turn, template)
        elif isinstance(step, PauseStep):
            await turn.clock.sleep(step.pause)
        elif isinstance(step, FailStep):
            raise ScenarioFailure(template.render(step.fail))
        elif isinstance(step, DropStep):
            turn.log.mark_drop()
        elif isinstance(step, UsageStep):
            turn.usage = step.usage.model_dump()
            self._usage_given = True

    async def _stream(self, turn: Turn, kind: str, streamed: Streamed, template: Template) -> None:
        content = template.render(streamed.content)
        turn.emit(f"{kind}.start")
        pace = turn.clock.real_seconds(streamed.pace)
        for start in range(0, len(content), streamed.chunk):
            if pace > 0:  # cosmetic pacing; none at all under the virtual clock (C1)
                await asyncio.sleep(pace)
            turn.emit(f"{kind}.delta", content=content[start : start + streamed.chunk])
        turn.emit(f"{kind}.stop")
        self._output_chars += len(content)

    async def _tool(self, turn: Turn, step: ToolStep, template: Template) -> None:
        call = step.tool
        tool_id = "toolu_" + secrets.token_hex(12)
        tool_input = template.render_all(call.input)
        turn.emit("tool_use.start", name=call.name, id=tool_id)
        turn.emit("tool_use.input_delta", content=json.dumps(tool_input))
        turn.emit("tool_use.executing", name=call.name, id=tool_id, input=tool_input)
        if call.duration:
            await turn.clock.sleep(call.duration)
        turn.emit("tool_use.stop")
        turn.emit(
            "tool_result", id=tool_id, content=template.render(call.result), is_error=call.is_error
        )

    def _write(self, write: FileWrite, turn: Turn, template: Template) -> None:
        path = template.render(write.path) or template.render(write.fallback_path or "")
        title = template.render(write.title)
        if write.document == "pptx":
            data = documents.pptx_deck(title, turn.message)
        elif write.document == "markdown":
            data = documents.markdown_report(title, turn.message)
        else:
            data = template.render(write.content or "").encode()
        self.effects.write_file(path, data)
