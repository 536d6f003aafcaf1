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
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from mock_pokee.domain.errors import InvalidRequest
from mock_pokee.domain.filters import parse_older_than
from mock_pokee.domain.skills import check_skill_name
from mock_pokee.domain.tools import ClientTool
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
    """Text streamed in deltas of ``chunk`` characters, ``pace`` clock seconds apart."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    content: str
    chunk: int = Field(default=16, ge=1)
    pace: Duration = 0.02


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


class ClientCall(BaseModel):
    """One call of a session's client tool; ``arguments`` default to values generated
    from the tool's ``parameters`` schema."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tool: str = Field(pattern=_TOOL_NAME)
    arguments: dict[str, Any] | None = None


def _client_calls(value: object) -> object:
    """``$first``, ``{tool, arguments}``, or a list of either (calls pending at once)."""
    items = value if isinstance(value, list) else [value]
    return [{"tool": item} if isinstance(item, str) else item for item in items]


class ClientToolStep(_Step):
    client_tool: Annotated[list[ClientCall], BeforeValidator(_client_calls), Field(min_length=1)]


class MetadataStep(_Step):
    metadata: dict[str, Any]


class FileWrite(BaseModel):
    """Exactly one of ``content`` (inline text, a template) or ``document`` (generated)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str
    fallback_path: str | None = None  # used when ``path`` renders empty
    content: str | None = None
    document: Literal["pptx", "markdown"] | None = None
    title: str = "{topic}"

    @model_validator(mode="after")
    def _one_source(self) -> FileWrite:
        if (self.content is None) == (self.document is None):
            raise ValueError("give exactly one of content or document")
        return self


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


class UsageStep(_Step):
    usage: Usage


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
}


# R8: what a response can run; the others need a session (metadata, files, skills) or
# are tools the agent runs itself (a response only asks the client to call a function).
RESPONSE_STEPS = (TextStep, ThinkStep, ClientToolStep, PauseStep, FailStep, DropStep, UsageStep)
Surface = Literal["turn", "response"]


def response_problem(steps: Sequence[Step]) -> StepError | None:
    """Why these steps cannot script a response, naming the first that cannot; or None."""
    for index, step in enumerate(steps):
        if not isinstance(step, RESPONSE_STEPS):
            kind = next(name for name, model in STEP_KINDS.items() if isinstance(step, model))
            return StepError(index, kind, "needs a session, and a response has none")
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
    def _parse_steps(cls, value: object) -> object:
        """Each step by its one key, so that an error names the step and its kind."""
        if not isinstance(value, list):
            return value
        return [parse_step(index, raw) for index, raw in enumerate(value)]

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


def parse_step(index: int, raw: object) -> Step:
    if not isinstance(raw, dict) or len(raw) != 1:
        raise StepError(index, "?", f"a step is a mapping with one key, one of {list(STEP_KINDS)}")
    (kind,) = raw
    model = STEP_KINDS.get(kind)
    if model is None:
        raise StepError(index, str(kind), f"unknown step kind; known: {', '.join(STEP_KINDS)}")
    _check_templates(index, kind, raw[kind])
    try:
        step: Step = model.model_validate(raw)  # type: ignore[assignment]
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
