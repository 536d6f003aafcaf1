"""Running a scenario's steps inside a turn.

Explicit waits (``pause``, a tool's ``duration``, a client tool's result) are on the
mock's clock. The pacing between streamed chunks is cosmetic: real time divided by the
scale, and none under the virtual clock (C1), so a turn without pauses completes at once
there. Documents and filler are generated, and fixtures read, in a worker thread, so that
a 50-slide deck or a large file does not hold up other requests.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

from mock_pokee.clock import Clock
from mock_pokee.domain.errors import PayloadTooLarge, ScenarioFailure
from mock_pokee.domain.paths import quoted
from mock_pokee.domain.responses import ResponseRun
from mock_pokee.domain.skills import SkillVersion
from mock_pokee.domain.tools import ClientTool
from mock_pokee.domain.turns import Turn
from mock_pokee.limits import MAX_QUOTED, MAX_SKILL_NAME
from mock_pokee.scenarios import asked, documents, filler
from mock_pokee.scenarios.arguments import arguments_for
from mock_pokee.scenarios.schema import (
    ASKED_TOOL,
    FIRST_TOOL,
    ClientCall,
    ClientToolStep,
    DropStep,
    EventStep,
    FailStep,
    FileWrite,
    MetadataStep,
    PauseStep,
    Scenario,
    SkillStep,
    Step,
    Streamed,
    TextStep,
    ThinkStep,
    ToolStep,
    UsageStep,
    WriteStep,
)

WRITE_TOOL = "write_file"  # the tool a ``write`` step shows in the stream


def _start_tool(turn: Turn, name: str, tool_input: Any) -> str:
    """M4: a tool call's first three events; returns its id."""
    tool_id = "toolu_" + secrets.token_hex(12)
    turn.emit("tool_use.start", name=name, id=tool_id)
    turn.emit("tool_use.input_delta", content=json.dumps(tool_input))
    turn.emit("tool_use.executing", name=name, id=tool_id, input=tool_input)
    return tool_id


def _end_tool(turn: Turn, tool_id: str, content: str, is_error: bool) -> None:
    turn.emit("tool_use.stop")
    turn.emit("tool_result", id=tool_id, content=content, is_error=is_error)


# Deltas emitted between two chances for other requests to run: a 1 MB message echoed in
# 8-character deltas must not hold every tenant's requests for seconds. The turn still
# completes without the clock moving (C1); an advance, even of 0 s, waits for it.
YIELD_EVERY = 256


def chunks(content: str, chunk: int) -> Iterator[str]:
    """``content`` in pieces of ``chunk`` characters."""
    return (content[start : start + chunk] for start in range(0, len(content), chunk))


async def paced(clock: Clock, pieces: Iterable[str], pace: float) -> AsyncIterator[str]:
    """``pieces``, ``pace`` clock seconds apart: cosmetic pacing in real time divided by
    the scale, none under the virtual clock (C1), with a chance for other requests to run
    every `YIELD_EVERY` pieces."""
    wait = clock.real_seconds(pace)
    for count, piece in enumerate(pieces, 1):
        if wait > 0:
            await asyncio.sleep(wait)
        elif count % YIELD_EVERY == 0:  # a long text must not hold the event loop
            await asyncio.sleep(0)
        yield piece


def streamed(clock: Clock, text: Streamed, template: Template) -> AsyncIterator[str]:
    """The deltas of a ``text`` or ``think`` step, paced and rendered: its ``deltas`` one
    by one (each rendered as it comes), else its ``content`` in ``chunk``-character pieces."""
    if text.deltas is not None:
        pieces: Iterable[str] = (template.render(delta) for delta in text.deltas)
    else:
        pieces = chunks(template.render(text.content), text.chunk)
    return paced(clock, pieces, text.pace)


def pick_tool(tools: Sequence[ClientTool], wanted: str, message: str, holder: str) -> ClientTool:
    """The client tool a step names (M12, R8): by name, ``$first``, or ``$asked`` (the
    one the message asks for, else the first); ``holder`` says whose tools they are."""
    if not tools:
        raise ScenarioFailure(f"client_tool_unavailable: {holder} has no tools")
    if wanted == FIRST_TOOL:
        return tools[0]
    if wanted == ASKED_TOOL:
        return asked.asked_tool(tools, message) or tools[0]
    for tool in tools:
        if tool.name == wanted:
            return tool
    names = ", ".join(tool.name for tool in tools)
    raise ScenarioFailure(
        f"client_tool_unavailable: {holder} has no tool {wanted!r} (its tools: {names})"
    )


class TurnEffects(Protocol):
    """What a turn may change in its session and workspace (given by the tenant), and
    the session's client tools it may call."""

    @property
    def tools(self) -> tuple[ClientTool, ...]: ...

    @property
    def skills(self) -> Mapping[str, SkillVersion]: ...

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
    tool_output: str = ""  # the outputs of the last client tool step, one a line

    @classmethod
    def for_turn(cls, turn: Turn) -> Template:
        topic = asked.topic_of(turn.message)
        return cls(
            message=turn.message,
            topic=topic,
            slug=asked.slug_of(topic),
            session_id=turn.session_id,
            response_id=turn.id,
            requested_path=asked.requested_path(turn.message),
        )

    @classmethod
    def for_response(cls, run: ResponseRun) -> Template:
        """R8: the last user message, and the tool outputs the input ends with (one a
        line), each quoted up to `MAX_QUOTED` characters; a response has no session."""
        message = run.request.last_user_message
        outputs = "\n".join(item.output for item in run.request.tool_outputs)
        topic = asked.topic_of(message)
        return cls(
            message=_quoted(message),
            topic=topic,
            slug=asked.slug_of(topic),
            session_id="",
            response_id=run.id,
            requested_path=asked.requested_path(message),
            tool_output=_quoted(outputs),
        )

    def render(self, text: str) -> str:
        return text.format_map(vars(self))

    def render_json(self, text: str) -> str:
        """JSON text with each field's value JSON-escaped, so that a field inside a JSON
        string leaves it valid whatever the value (quotes, backslashes, newlines)."""
        escaped = {
            name: json.dumps(value, ensure_ascii=False)[1:-1] for name, value in vars(self).items()
        }
        return text.format_map(escaped)

    def render_all(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.render(value)
        if isinstance(value, dict):
            return {k: self.render_all(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.render_all(v) for v in value]
        return value


def _quoted(text: str) -> str:
    if len(text) <= MAX_QUOTED:
        return text
    return f"{text[:MAX_QUOTED]}… ({len(text)} characters in all)"


def call_arguments(call: ClientCall, tool: ClientTool, template: Template) -> str:
    """A client tool call's arguments as the JSON text sent (M12, R4): text given sent as
    it is (fields filled in, JSON-escaped), an object given as compact JSON (templates
    filled in), else values made from the tool's ``parameters`` schema."""
    if isinstance(call.arguments, str):
        return template.render_json(call.arguments)
    given = template.render_all(call.arguments)
    arguments = given if given is not None else arguments_for(tool.parameters)
    return json.dumps(arguments, separators=(",", ":"))


async def _read_fixture(fixture: Path, name: str) -> bytes:
    try:
        return await asyncio.to_thread(fixture.read_bytes)
    except OSError as gone:  # removed or made unreadable since the scenario was loaded
        raise ScenarioFailure(f"scenario_error: fixture {name!r}: {gone.strerror}") from None


async def file_data(write: FileWrite, path: str, message: str, template: Template) -> bytes:
    """The bytes a ``write`` step writes to ``path``. Anything slow (a deck, filler, a
    fixture read) runs in a worker thread."""
    title = template.render(write.title)
    fixture = write.fixture_file
    if write.document == "pptx":
        slides = documents.part_count(asked.requested_count(message), documents.DEFAULT_SLIDES)
        return await asyncio.to_thread(documents.pptx_deck, title, template.topic, slides)
    if write.document == "markdown":
        sections = documents.part_count(asked.requested_count(message), documents.DEFAULT_SECTIONS)
        return documents.markdown_report(title, template.topic, sections)
    if fixture is not None:
        return await _read_fixture(fixture, write.fixture or "")
    if write.size is not None:
        return await asyncio.to_thread(filler.generate, path, write.size, title, template.topic)
    return template.render(write.content or "").encode()


class ScenarioRun:
    """Runs one scenario for one turn; the turn calls it as its step runner."""

    def __init__(self, scenario: Scenario, effects: TurnEffects):
        self.scenario = scenario
        self.effects = effects
        self._output_chars = 0
        self._usage_given = False

    async def __call__(self, turn: Turn) -> None:
        self.template = Template.for_turn(turn)
        try:
            for step in self.scenario.steps:
                await self._run(step, turn, self.template)
        finally:  # a turn that fails part-way has used tokens too (U1, U2)
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
            await self._write(step.write, turn, template)
        elif isinstance(step, ClientToolStep):
            await self._client_tools(turn, step.client_tool, template)
        elif isinstance(step, SkillStep):
            self._skill(turn, template.render(step.skill))
        elif isinstance(step, PauseStep):
            await turn.clock.sleep(step.pause)
        elif isinstance(step, FailStep):
            raise ScenarioFailure(template.render(step.fail))
        elif isinstance(step, DropStep):
            turn.log.mark_drop()
        elif isinstance(step, UsageStep):
            turn.usage = step.usage.of_turn()
            self._usage_given = True
        elif isinstance(step, EventStep):
            turn.emit(step.event.type, **template.render_all(step.event.data))

    async def _stream(self, turn: Turn, kind: str, text: Streamed, template: Template) -> None:
        turn.emit(f"{kind}.start")
        async for piece in streamed(turn.clock, text, template):
            turn.emit(f"{kind}.delta", content=piece)
            self._output_chars += len(piece)
        turn.emit(f"{kind}.stop")

    async def _tool(self, turn: Turn, step: ToolStep, template: Template) -> None:
        call = step.tool
        tool_id = _start_tool(turn, call.name, template.render_all(call.input))
        if call.duration:
            await turn.clock.sleep(call.duration)
        _end_tool(turn, tool_id, template.render(call.result), call.is_error)

    async def _write(self, write: FileWrite, turn: Turn, template: Template) -> None:
        """A file the agent writes, seen in the stream as its ``write_file`` tool (M4)
        naming the path: that is how a client tells its turn's files from others'. A
        ``quiet`` write shows nothing, not even failing for want of room (F9)."""
        path = template.render(write.path) or template.render(write.fallback_path or "")
        if write.quiet:
            data = await file_data(write, path, turn.message, template)
            with contextlib.suppress(PayloadTooLarge):
                self.effects.write_file(path, data)
            return
        tool_id = _start_tool(turn, WRITE_TOOL, {"path": path})
        data = await file_data(write, path, turn.message, template)
        try:
            self.effects.write_file(path, data)
        except PayloadTooLarge as full:  # F9: the step fails, the turn goes on
            _end_tool(turn, tool_id, f"{path} was not written: {full.message}", True)
            return
        _end_tool(turn, tool_id, f"wrote {path} ({len(data)} bytes)", False)

    def _skill(self, turn: Turn, name: str) -> None:
        """K4: a skill the session saw runs as a tool whose result starts with the first
        line of its SKILL.md; any other name is a failed tool call, and the turn goes on."""
        seen = self.effects.skills.get(name)
        tool_id = _start_tool(turn, name[:MAX_SKILL_NAME], {})
        if seen is None:
            content = (
                f"skill {quoted(name, limit=MAX_SKILL_NAME)} is not available to this session: "
                "not installed when the session was created"
            )
            _end_tool(turn, tool_id, content, True)
            return
        bundle = seen.bundle
        content = (
            f"{bundle.first_line}\n(skill {name}, version {seen.version}: "
            f"{len(bundle.files)} files, {bundle.total_bytes} bytes)"
        )
        _end_tool(turn, tool_id, content, False)

    async def _client_tools(self, turn: Turn, calls: list[ClientCall], template: Template) -> None:
        """M12: request the calls at once, wait on the clock for every result, and make
        the outputs the ``{tool_output}`` of the steps that follow."""
        requested = []
        for call in calls:
            tool = self._client_tool(call.tool, turn.message)
            requested.append((tool.name, call_arguments(call, tool, template)))
        turn.tool_calls.request(requested)
        outputs = await turn.tool_calls.wait(turn.clock)
        if outputs is None:
            raise ScenarioFailure("tool_result_timeout")
        self.template = replace(self.template, tool_output="\n".join(outputs))

    def _client_tool(self, wanted: str, message: str) -> ClientTool:
        return pick_tool(self.effects.tools, wanted, message, "the session")
