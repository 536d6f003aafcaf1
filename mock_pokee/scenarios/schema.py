"""The scenario file format, validated on load (contract D).

A scenario is a name, an optional message pattern, and a list of steps. Each step is a
mapping with exactly one key, the step's kind; see ``scenarios/README.md`` for an annotated
example. Strings in steps are templates: ``{message}``, ``{topic}``, ``{slug}``,
``{session_id}``, ``{response_id}``, ``{requested_path}``, ``{tool_output}``.

A scenario scripts a session's turn, or with ``surface: response`` a stateless response
(R8): that one is matched against ``POST /v1/responses`` calls only, and its steps are
those a response can run (no session, so no metadata, files, server tools or skills).
A response cannot wait for a ``client_tool`` step's results, so such a step ends a call,
and the next call, carrying the calls and their outputs, runs on after it (see
`mock_pokee.scenarios.responder`).

Some forms say what a hand-written scenario seldom needs and a recording must
(``mock-pokee record`` writes them): text in ``deltas`` as they came, a call's
``arguments`` as the JSON text that was sent, a ``write`` from a ``fixture`` file or of a
generated ``size``, a ``quiet`` write, and a raw ``event``.
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from mock_pokee.domain.errors import InvalidRequest
from mock_pokee.domain.filters import parse_older_than
from mock_pokee.domain.skills import check_skill_name
from mock_pokee.domain.tools import ClientTool
from mock_pokee.limits import MAX_GENERATED_FILE
from mock_pokee.scenarios.asked import asked_tool

TEMPLATE_FIELDS = frozenset(
    {"message", "topic", "slug", "session_id", "response_id", "requested_path", "tool_output"}
)
# A client tool step names a tool of the session, or one of these (M12, D).
FIRST_TOOL = "$first"  # the session's first tool
ASKED_TOOL = "$asked"  # the tool the message asks for, else the first
_TOOL_NAME = r"^(\$first|\$asked|[A-Za-z0-9_-]{1,64})$"


def _duration(value: object) -> float:
    """Seconds: a number, or ``90s`` / ``3m`` / ``1h30m``."""
    if isinstance(value, bool):
        raise ValueError("a duration is a number of seconds or text like 90s, 3m, 1h30m")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError("a duration cannot be negative")
        return float(value)
    if isinstance(value, str):
        try:
            return float(parse_older_than(value))
        except InvalidRequest:
            pass
    raise ValueError(f"{value!r} is not a duration (a number of seconds, or 90s, 3m, 1h30m)")


Duration = Annotated[float, BeforeValidator(_duration)]


class _Step(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Streamed(BaseModel):
    """Text streamed ``pace`` clock seconds a delta: ``content`` in deltas of ``chunk``
    characters, or ``deltas`` as given (what ``mock-pokee record`` writes when the real
    deltas were uneven), one event each."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    content: str = ""  # left out only when deltas are given
    deltas: list[Annotated[str, Field(min_length=1)]] | None = Field(default=None, min_length=1)
    chunk: int = Field(default=16, ge=1)
    pace: Duration = 0.02

    @model_validator(mode="after")
    def _one_source(self) -> Streamed:
        if ("content" in self.model_fields_set) == (self.deltas is not None):
            raise ValueError("give exactly one of content or deltas")
        if self.deltas is not None and "chunk" in self.model_fields_set:
            raise ValueError("chunk cuts content; deltas are streamed as given, so give no chunk")
        return self


def _streamed(value: object) -> object:
    return {"content": value} if isinstance(value, str) else value


class TextStep(_Step):
    text: Annotated[Streamed, BeforeValidator(_streamed)]


class ThinkStep(_Step):
    think: Annotated[Streamed, BeforeValidator(_streamed)]


class ToolCall(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    input: dict[str, Any] = Field(default_factory=dict)
    result: str = ""
    is_error: bool = False
    duration: Duration = 0.0  # clock time spent executing


class ToolStep(_Step):
    tool: ToolCall


# Stands for a template field when arguments text is checked: a character JSON allows
# inside a string only, and not after a backslash (see `_arguments_text`).
_IN_STRING = "\ue000"


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def _arguments_text(text: str) -> str:
    """Arguments given as JSON text must stay JSON text of an object whatever the turn
    fills in: its fields are filled in JSON-escaped (`runner.Template.render_json`), so
    it suffices that each sits inside a JSON string, where an escaped value is always
    valid. Checked by parsing the text with every field as `_IN_STRING`, which is valid
    only there."""
    for _, name, spec, conversion in string.Formatter().parse(text):
        if name is not None and (spec or conversion):
            raise ValueError("a field in arguments text takes no format spec or conversion")
    try:
        parsed = json.loads(
            text.format_map(dict.fromkeys(TEMPLATE_FIELDS, _IN_STRING)),
            parse_constant=_no_constant,
        )
    except (ValueError, KeyError, IndexError) as exc:
        raise ValueError(
            f"arguments text must be JSON text of an object, its fields inside strings: {exc}"
        ) from None
    if not isinstance(parsed, dict):
        raise ValueError("arguments text must be JSON text of an object")
    return text


class ClientCall(BaseModel):
    """One call of a session's client tool; ``arguments`` default to values generated
    from the tool's ``parameters`` schema. Given as an object, they are sent as compact
    JSON; given as text (JSON of an object, as a recording saw it), they are sent as they
    are, their fields filled in."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tool: str = Field(pattern=_TOOL_NAME)
    arguments: dict[str, Any] | str | None = None

    @field_validator("arguments")
    @classmethod
    def _json_text(cls, value: dict[str, Any] | str | None) -> dict[str, Any] | str | None:
        return _arguments_text(value) if isinstance(value, str) else value


def _client_calls(value: object) -> object:
    """``$first``, ``{tool, arguments}``, or a list of either (calls pending at once)."""
    items = value if isinstance(value, list) else [value]
    return [{"tool": item} if isinstance(item, str) else item for item in items]


class ClientToolStep(_Step):
    client_tool: Annotated[list[ClientCall], BeforeValidator(_client_calls), Field(min_length=1)]


class MetadataStep(_Step):
    metadata: dict[str, Any]


# The validation context's key for the folder of the scenario file being loaded (None
# for a scenario with no folder): a ``fixture`` is found there.
SCENARIO_FOLDER = "scenario_folder"
WRITE_SOURCES = ("content", "document", "fixture", "size")


def _fixture_file(name: str, folder: Path | None) -> Path:
    """The file a ``fixture`` names, found at load time: a relative path below the folder
    of the scenario file, symlinks resolved, to a regular file. Its path is a template
    like any string, but one without fields, since no turn has run yet."""
    if folder is None:
        raise ValueError("a fixture is a file beside the scenario file; this scenario has none")
    try:
        relative = name.format()
    except (KeyError, IndexError):
        raise ValueError(f"fixture {name!r}: a fixture's path cannot use template fields") from None
    parts = PurePosixPath(relative)
    if "\\" in relative or parts.is_absolute() or ".." in parts.parts:
        raise ValueError(
            f"fixture {relative!r}: must be a path relative to the scenario's folder, "
            "with / between its parts and no .."
        )
    base = folder.resolve()
    try:
        found = (base / relative).resolve()
    except (OSError, RuntimeError) as exc:  # a symlink loop
        raise ValueError(f"fixture {relative!r}: cannot be resolved: {exc}") from None
    if not found.is_relative_to(base):
        raise ValueError(f"fixture {relative!r}: leads outside the scenario's folder ({base})")
    if not found.exists():
        raise ValueError(f"fixture {relative!r}: no such file in {base}")
    if not found.is_file():
        raise ValueError(f"fixture {relative!r}: not a regular file")
    return found


class FileWrite(BaseModel):
    """Exactly one source: ``content`` (inline text, a template), ``document``
    (generated), ``fixture`` (a file beside the scenario file, read when the step runs)
    or ``size`` (that many bytes of `filler`, typed by the path's extension). ``quiet``
    writes it with no ``write_file`` tool in the stream, as a recording saw files appear
    that no tool named."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str
    fallback_path: str | None = None  # used when ``path`` renders empty
    content: str | None = None
    document: Literal["pptx", "markdown"] | None = None
    fixture: str | None = Field(default=None, min_length=1)
    size: int | None = Field(default=None, ge=0, le=MAX_GENERATED_FILE, strict=True)
    title: str = "{topic}"
    quiet: bool = False
    _fixture_file: Path | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _one_source(self, info: ValidationInfo) -> FileWrite:
        given = [name for name in WRITE_SOURCES if getattr(self, name) is not None]
        if len(given) != 1:
            shown = f" (given: {', '.join(given)})" if given else ""
            raise ValueError(f"give exactly one of {', '.join(WRITE_SOURCES)}{shown}")
        if self.fixture is not None:
            folder = (info.context or {}).get(SCENARIO_FOLDER)
            self._fixture_file = _fixture_file(self.fixture, folder)
        return self

    @property
    def fixture_file(self) -> Path | None:
        """The fixture's file, resolved when the scenario was loaded."""
        return self._fixture_file


class WriteStep(_Step):
    write: FileWrite


class PauseStep(_Step):
    pause: Duration


class FailStep(_Step):
    fail: str


class DropStep(_Step):
    drop: Literal[True]


class Usage(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    input_tokens: int = Field(ge=0)
    output_tokens: int = Field(ge=0)
    # U2: input read from the prompt cache, billed at the model's cache-read rate; counted
    # apart from input_tokens, and shown in message.completed only when given.
    cache_read_input_tokens: int | None = Field(default=None, ge=0)
    # R3: of a response's output_tokens, those spent reasoning (output_tokens_details);
    # a turn's usage (M4) has no such count and leaves it out.
    reasoning_tokens: int | None = Field(default=None, ge=0)

    def of_turn(self) -> dict[str, int]:
        return self.model_dump(exclude_none=True, exclude={"reasoning_tokens"})


class UsageStep(_Step):
    usage: Usage


# M4, M12: what a turn sends itself; M3: what the log adds to every event's data.
TURN_EVENTS = frozenset(
    {
        "message.created",
        "message.completed",
        "message.error",
        "message.cancelled",
        "tool_call.requested",
    }
)
LOG_KEYS = frozenset({"sequence_number"})


class RawEvent(BaseModel):
    """One event as given, for what no other step says: an event type the contract does
    not know, or tool events in an order of their own (``mock-pokee record`` writes them).
    Its data's values are templates, as metadata's are."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    data: dict[str, Any] = Field(default_factory=dict)

    @field_validator("type")
    @classmethod
    def _not_the_turns_own(cls, value: str) -> str:
        if value in TURN_EVENTS:
            raise ValueError(f"{value} is sent by the turn itself, never by a step")
        return value

    @field_validator("data")
    @classmethod
    def _no_reserved_key(cls, value: dict[str, Any]) -> dict[str, Any]:
        reserved = sorted(value.keys() & LOG_KEYS)
        if reserved:
            raise ValueError(f"data cannot hold {', '.join(reserved)}: the mock sets it itself")
        return value


class EventStep(_Step):
    event: RawEvent


def _skill_name(value: str) -> str:
    """K1's name rules for a name written out; a template (``{message}``) names a skill
    only once the turn renders it."""
    if "{" not in value:
        try:
            check_skill_name(value)
        except InvalidRequest as refused:
            raise ValueError(f"not a skill name: {refused.message}") from None
    return value


class SkillStep(_Step):
    """K4: run one of the skills the session saw at its creation, as a tool."""

    skill: Annotated[str, AfterValidator(_skill_name)]


Step = (
    TextStep
    | ThinkStep
    | ToolStep
    | MetadataStep
    | WriteStep
    | PauseStep
    | FailStep
    | DropStep
    | UsageStep
    | ClientToolStep
    | SkillStep
    | EventStep
)
STEP_KINDS: dict[str, type[_Step]] = {
    "text": TextStep,
    "think": ThinkStep,
    "tool": ToolStep,
    "metadata": MetadataStep,
    "write": WriteStep,
    "pause": PauseStep,
    "fail": FailStep,
    "drop": DropStep,
    "usage": UsageStep,
    "client_tool": ClientToolStep,
    "skill": SkillStep,
    "event": EventStep,
}


# R8: what a response can run; the others need a session (metadata, files, skills), are
# tools the agent runs itself (a response only asks the client to call a function), or
# are a turn's events (a response's are OpenAI's, R5).
RESPONSE_STEPS = (TextStep, ThinkStep, ClientToolStep, PauseStep, FailStep, DropStep, UsageStep)
Surface = Literal["turn", "response"]


def response_problem(steps: Sequence[Step]) -> StepError | None:
    """Why these steps cannot script a response, naming the first that cannot; or None."""
    for index, step in enumerate(steps):
        if not isinstance(step, RESPONSE_STEPS):
            kind = next(name for name, model in STEP_KINDS.items() if isinstance(step, model))
            reason = (
                "sends a turn's event, and a response's events are OpenAI's"
                if isinstance(step, EventStep)
                else "needs a session, and a response has none"
            )
            return StepError(index, kind, reason)
    return None


# What a client knows about its own turn, so expectations can use it (the mock-derived
# fields, {topic} and the rest, would make a check depend on the code it checks).
EXPECT_TEMPLATE_FIELDS = frozenset({"message", "session_id", "response_id"})


class Expectation(BaseModel):
    """What one turn of the scenario must leave behind when sent ``message`` in a new
    session with empty metadata: the contract tests' scenario matrix holds the scenario to
    it for every way a client may read the turn. Left out, a field is not checked.
    Strings may use ``{message}``, ``{session_id}`` and ``{response_id}``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    message: str = Field(default="hello", min_length=1)
    terminal: Literal["message.completed", "message.error", "message.cancelled"] = (
        "message.completed"
    )
    error: str | None = None  # message.error's ``error``
    metadata: dict[str, Any] | None = None  # the session's whole metadata afterwards
    files: list[str] | None = None  # every file in the workspace afterwards
    duration: Duration | None = None  # clock time from the message to the terminal event

    @model_validator(mode="after")
    def _consistent(self) -> Expectation:
        if self.error is not None and self.terminal != "message.error":
            raise ValueError("error is only expected with terminal: message.error")
        _check_expect_templates([self.message, self.error, self.metadata, self.files])
        return self


def _check_expect_templates(value: object) -> None:
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        for item in value:
            _check_expect_templates(item)
    elif isinstance(value, str):
        names = {name for _, name, _, _ in string.Formatter().parse(value) if name}
        unknown = names - EXPECT_TEMPLATE_FIELDS
        if unknown:
            raise ValueError(
                f"unknown template field(s) {sorted(unknown)} in {value!r}; an expectation "
                f"may use {sorted(EXPECT_TEMPLATE_FIELDS)}"
            )


class Scenario(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    description: str = ""
    match: str | None = None  # a regular expression, searched case-insensitively
    # Also matches when the session has a tool the message asks for (M12).
    match_tools: bool = False
    steps: list[Step] = Field(min_length=1)
    expect: Expectation | None = None
    # Which calls the scenario is matched against: session turns, or stateless responses.
    surface: Surface = "turn"

    @model_validator(mode="after")
    def _runs_on_its_surface(self) -> Scenario:
        problem = response_problem(self.steps) if self.surface == "response" else None
        if problem is not None:
            raise problem
        return self

    @field_validator("steps", mode="before")
    @classmethod
    def _parse_steps(cls, value: object, info: ValidationInfo) -> object:
        """Each step by its one key, so that an error names the step and its kind."""
        if not isinstance(value, list):
            return value
        return [parse_step(index, raw, info.context) for index, raw in enumerate(value)]

    @field_validator("match")
    @classmethod
    def _valid_pattern(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a regular expression: {exc}") from None
        return value

    def matches(self, message: str, tools: Sequence[ClientTool] = ()) -> bool:
        if self.match_tools and asked_tool(tools, message) is not None:
            return True
        return self.match is not None and re.search(self.match, message, re.IGNORECASE) is not None


class StepError(ValueError):
    """A step that does not validate: which one, and why."""

    def __init__(self, index: int, kind: str, reason: str):
        super().__init__(f"step {index + 1} ({kind}): {reason}")


def parse_step(index: int, raw: object, context: dict[str, Any] | None = None) -> Step:
    """One step, validated; ``context`` says where its file is (`SCENARIO_FOLDER`)."""
    if not isinstance(raw, dict) or len(raw) != 1:
        raise StepError(index, "?", f"a step is a mapping with one key, one of {list(STEP_KINDS)}")
    (kind,) = raw
    model = STEP_KINDS.get(kind)
    if model is None:
        raise StepError(index, str(kind), f"unknown step kind; known: {', '.join(STEP_KINDS)}")
    _check_templates(index, kind, raw[kind])
    try:
        step: Step = model.model_validate(raw, context=context)  # type: ignore[assignment]
    except ValidationError as exc:
        reasons = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'][1:]) or kind}: {e['msg']}" for e in exc.errors()
        )
        raise StepError(index, kind, reasons) from None
    return step


def _check_templates(index: int, kind: str, value: object) -> None:
    if isinstance(value, dict):
        for item in value.values():
            _check_templates(index, kind, item)
    elif isinstance(value, list):
        for item in value:
            _check_templates(index, kind, item)
    elif isinstance(value, str):
        try:
            names = {name for _, name, _, _ in string.Formatter().parse(value) if name}
        except ValueError as exc:
            raise StepError(index, kind, f"bad template {value!r}: {exc}") from None
        unknown = names - TEMPLATE_FIELDS
        if unknown:
            raise StepError(
                index,
                kind,
                f"unknown template field(s) {sorted(unknown)} in {value!r}; "
                f"known: {sorted(TEMPLATE_FIELDS)}",
            )
