"""Turning what the proxy saw into scenario steps (contract D), for a turn or a response.

The events are grouped into the steps that would send them again: a text or thinking
block becomes ``text``/``think`` (its deltas as they were, its pace the block's time
spread over them), a server tool's five events a ``tool`` (its duration the time from
``tool_use.executing`` to ``tool_use.stop``), requested client calls a ``client_tool``,
a ``write_file`` tool naming a file the turn wrote a ``write``, the terminal event a
``usage`` or ``fail`` step. Anything else — another order, an unknown type — is kept as
``event`` steps, so that a replay sends the same events whatever they were.

Time: each item is placed at its arrival time after the run's first event, converted to
the upstream's clock; the gap since the replay's clock last moved becomes a ``pause`` once
it reaches the minimum pause, so that small gaps add up rather than vanish and every event
keeps its offset from the turn's start. A client's time (between a requested call and its
result) is not the agent's, and is left out. Metadata is placed where the polls saw it
change; files the stream does not name are written just before the end.

Every string a step carries is a template on replay, so recorded text has its braces
doubled (`escaped`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeGuard

from mock_pokee.domain.errors import InvalidRequest
from mock_pokee.domain.inputs import parse_json
from mock_pokee.recording.capture import CapturedFile, ResponseCapture, Sample, Seen, TurnCapture

Json = dict[str, Any]
Step = dict[str, Any]

WRITE_TOOL = "write_file"  # the tool a scenario's write step shows (runner.WRITE_TOOL)
TURN_TERMINAL = frozenset({"message.completed", "message.error", "message.cancelled"})
RESPONSE_TERMINAL = frozenset({"response.completed", "response.failed", "response.cancelled"})
# A cancelled run waits for its client's cancel again; M10's limit ends it otherwise.
CANCEL_WAIT = "90m"
DECIMALS = 3  # of a recorded duration: a millisecond


def escaped(value: Any) -> Any:
    """``value`` with every string's braces doubled, so that its templates render it as it
    was recorded (mapping keys are not templates and stay as they are)."""
    if isinstance(value, str):
        return value.replace("{", "{{").replace("}", "}}")
    if isinstance(value, dict):
        return {key: escaped(item) for key, item in value.items()}
    if isinstance(value, list):
        return [escaped(item) for item in value]
    return value


@dataclass(frozen=True)
class Timing:
    """How arrival times become clock seconds: the upstream's clock speed, and the
    shortest gap worth a pause step."""

    scale: float = 1.0
    min_pause: float = 0.1


@dataclass
class Timeline:
    """Steps in order, with the pauses that put each at its recorded offset."""

    start: float
    timing: Timing
    steps: list[Step] = field(default_factory=list)
    clock: float = 0.0  # where the replay's clock stands after the steps so far

    def offset(self, at: float) -> float:
        return max(0.0, (at - self.start) * self.timing.scale)

    def reach(self, at: float) -> None:
        """Pause until ``at`` if the gap has grown to a pause's worth."""
        gap = self.offset(at) - self.clock
        if gap >= self.timing.min_pause and gap > 0:
            self.steps.append({"pause": round(gap, DECIMALS)})
            self.clock += gap

    def add(self, step: Step, spends: float = 0.0) -> None:
        """A step, and the clock time it takes itself (a tool's duration, a paced text)."""
        self.steps.append(step)
        self.clock += spends

    def skip_to(self, at: float) -> None:
        """Someone else's time (a client running its tool) passed until ``at``."""
        self.clock = max(self.clock, self.offset(at))


@dataclass(frozen=True)
class Rules:
    """What a caller applies to recorded values: redaction of text and values."""

    text: Callable[[str], str] = lambda text: text
    value: Callable[[Any], Any] = lambda value: value


@dataclass
class Recorded:
    """A scenario's steps and what the recording could not keep, for its description."""

    steps: list[Step]
    notes: list[str] = field(default_factory=list)


def _data(seen: Seen) -> Json:
    return {key: value for key, value in seen.data.items() if key != "sequence_number"}


def streamed(
    deltas: Sequence[str], seconds: float, rules: Rules, notes: list[str]
) -> tuple[Json, float]:
    """A text block's step body, and its pace: the deltas as they were, or the whole text
    in even chunks when they were even (or when redaction changed the text, which no
    longer splits as it did)."""
    whole = "".join(deltas)
    redacted = rules.text(whole)
    pace = round(seconds / len(deltas), DECIMALS + 1) if deltas else 0.0
    sizes = [len(delta) for delta in deltas]
    even = bool(sizes) and all(size == sizes[0] for size in sizes[:-1]) and sizes[-1] <= sizes[0]
    if redacted != whole:
        notes.append("redacted text was streamed again in even chunks")
        chunk = max(set(sizes), key=sizes.count) if sizes else 16
        body: Json = {"content": escaped(redacted), "chunk": max(chunk, 1)}
    elif not deltas or (even and sizes[0] > 0):
        body = {"content": escaped(whole), "chunk": sizes[0] if sizes else 16}
    else:
        body = {"deltas": escaped(list(deltas))}
    body["pace"] = pace
    return body, pace * len(deltas)


def _first_at(events: Sequence[Seen], sent: float) -> float:
    """Where a run's clock starts: at its first event (its replay's first event comes as
    its request does, whatever the network took), else when the request was sent."""
    return events[0].at if events else sent


# -- session turns ------------------------------------------------------------------------


class _TurnSteps:
    """One pass over a turn's events, building its timeline."""

    def __init__(self, capture: TurnCapture, timing: Timing, rules: Rules, files: FileSteps):
        self.capture = capture
        self.events = capture.events
        self.line = Timeline(_first_at(capture.events, capture.started_at), timing)
        self.rules = rules
        self.files = files
        self.notes: list[str] = []
        self.client_calls: set[str] = set()
        self.samples = list(capture.samples)
        self.metadata = dict(capture.metadata_before)
        self.drops = sorted(set(capture.drops))

    def build(self) -> Recorded:
        events = self.events
        index = 1 if events and events[0].type == "message.created" else 0
        end = len(events)
        terminal = events[-1] if events and events[-1].type in TURN_TERMINAL else None
        if terminal is not None:
            end -= 1
        while index < end:
            self._boundary(index, events[index].at)
            mark = len(self.line.steps)
            after = self._group(index, end)
            self._during(mark, events[index].at, events[after - 1].at)
            index = after
        last_at = terminal.at if terminal is not None else (events[-1].at if events else 0.0)
        self._boundary(end, last_at, final=True)
        for write in self.files.unnamed():
            self.line.add(write)
        self._end(terminal)
        return Recorded(self.line.steps, self.notes)

    def _boundary(self, index: int, at: float, final: bool = False) -> None:
        """Before the group at ``index``: drops the upstream made there, and metadata the
        polls saw change by then (every remaining sample at the end)."""
        while self.samples and (final or self.samples[0].at <= at):
            self._sample(self.samples.pop(0), at if final else None)
        while self.drops and (final or self.drops[0] <= index):
            self.drops.pop(0)
            self.line.add({"drop": True})

    def _sample(self, sample: Sample, clamp: float | None) -> None:
        step = self._changes(sample)
        if step is not None:
            self.line.reach(sample.at if clamp is None else min(sample.at, clamp))
            self.line.add(step)

    def _during(self, mark: int, first: float, last: float) -> None:
        """Metadata a poll saw while one step's events ran (a tool's minutes): before that
        step when seen nearer its start (where the turn most likely set it), else after."""
        steps = self.line.steps
        if mark < len(steps) and "pause" in steps[mark]:
            mark += 1  # the step's own pause comes first
        while self.samples and self.samples[0].at - first <= last - self.samples[0].at:
            step = self._changes(self.samples.pop(0))
            if step is not None:
                steps.insert(mark, step)
                mark += 1

    def _changes(self, sample: Sample) -> Step | None:
        """A metadata step for what changed since the last sample (M6 merges keys)."""
        changed = {
            key: value for key, value in sample.metadata.items() if self.metadata.get(key) != value
        }
        gone = sorted(set(self.metadata) - set(sample.metadata))
        if gone:
            self.notes.append(f"metadata keys removed during the turn are kept: {gone}")
        self.metadata = dict(sample.metadata)
        return {"metadata": escaped(self.rules.value(changed))} if changed else None

    def _group(self, index: int, end: int) -> int:
        """The step for the events from ``index``; returns the index after them."""
        seen = self.events[index]
        kind = seen.type
        if kind in ("text.start", "thinking.start"):
            after = self._block(index, end, kind.partition(".")[0])
            if after:
                return after
        elif kind == "tool_use.start":
            after = self._tool(index, end)
            if after:
                return after
        elif kind == "tool_call.requested":
            return self._client_calls(index, end)
        elif kind == "tool_result" and seen.data.get("id") in self.client_calls:
            self.line.skip_to(seen.at)  # the mock sends it again when the client answers
            return index + 1
        self.line.reach(seen.at)
        self.line.add({"event": {"type": kind, "data": escaped(self.rules.value(_data(seen)))}})
        return index + 1

    def _block(self, index: int, end: int, kind: str) -> int:
        deltas: list[str] = []
        for at in range(index + 1, end):
            seen = self.events[at]
            content = seen.data.get("content")
            if seen.type == f"{kind}.delta" and isinstance(content, str) and content:
                deltas.append(content)
            elif seen.type == f"{kind}.stop" and not _data(seen):
                self.line.reach(self.events[index].at)
                seconds = self.line.offset(seen.at) - self.line.offset(self.events[index].at)
                body, spends = streamed(deltas, seconds, self.rules, self.notes)
                self.line.add({"text" if kind == "text" else "think": body}, spends)
                return at + 1
            else:
                return 0
        return 0

    def _tool(self, index: int, end: int) -> int:
        """M4's five events of one server tool, in the order a scenario sends them."""
        if index + 5 > end:
            return 0
        start, given, executing, stop, result = self.events[index : index + 5]
        shaped = _tool_shape(start, given, executing, stop, result)
        if shaped is None:
            return 0
        name, tool_input = shaped
        content, is_error = result.data["content"], result.data["is_error"]
        duration = round(self.line.offset(stop.at) - self.line.offset(executing.at), DECIMALS)
        # A write that took no time is a write step; one that took time stays a tool, its
        # events at their times, and its file is written quietly after it.
        quick = duration < self.line.timing.min_pause
        write = self.files.named(name, tool_input, content, is_error, quiet=not quick)
        self.line.reach(start.at)
        if write is not None and quick:
            self.line.add(write)
            return index + 5
        call = {"name": name, "input": self.rules.value(tool_input)}
        call["result"] = self.rules.text(content)
        if is_error:
            call["is_error"] = True
        if duration > 0:
            call["duration"] = duration
        self.line.add({"tool": escaped(call)}, max(duration, 0.0))
        if write is not None:
            self.line.add(write)
        return index + 5

    def _client_calls(self, index: int, end: int) -> int:
        """Client calls requested together (M12) are one step; the turn then waits."""
        calls = []
        self.line.reach(self.events[index].at)
        at = index
        while at < end and self.events[at].type == "tool_call.requested":
            data = self.events[at].data
            self.client_calls.add(str(data.get("call_id")))
            calls.append(client_call(data.get("name"), data.get("arguments"), self.rules))
            at += 1
        self.line.add({"client_tool": calls})
        return at

    def _end(self, terminal: Seen | None) -> None:
        if terminal is None:
            self.notes.append("the recording ended before the turn did (no terminal event)")
            return
        data = terminal.data
        if terminal.type == "message.completed":
            usage = turn_usage(data.get("usage"))
            if usage is not None:
                self.line.add({"usage": usage})
        elif terminal.type == "message.error":
            error = data.get("error")
            text = error if isinstance(error, str) else json.dumps(error)
            self.line.reach(terminal.at)
            self.line.add({"fail": escaped(self.rules.text(text))})
        else:
            self.notes.append(
                "the client cancelled the turn: the replay waits for a cancel, "
                f"up to {CANCEL_WAIT} (M10)"
            )
            self.line.add({"pause": CANCEL_WAIT})


def _tool_shape(
    start: Seen, given: Seen, executing: Seen, stop: Seen, result: Seen
) -> tuple[str, Json] | None:
    """The tool's name and input when these five events are one tool call as a ``tool``
    step sends it (one input delta holding the input's JSON, ids that agree), else None."""
    name, tool_id = start.data.get("name"), start.data.get("id")
    tool_input = executing.data.get("input")
    if not (isinstance(name, str) and isinstance(tool_input, dict)):
        return None
    shaped = (
        [e.type for e in (given, executing, stop, result)]
        == ["tool_use.input_delta", "tool_use.executing", "tool_use.stop", "tool_result"]
        and given.data.get("content") == json.dumps(tool_input)
        and executing.data.get("name") == name
        and executing.data.get("id") == tool_id == result.data.get("id")
        and not _data(stop)
        and isinstance(result.data.get("content"), str)
        and isinstance(result.data.get("is_error"), bool)
    )
    return (name, tool_input) if shaped else None


def client_call(name: Any, arguments: Any, rules: Rules) -> Json:
    """A requested call as a ``client_tool`` step's item: its arguments as an object when
    the compact JSON of that object is what was sent, else as the text that was sent."""
    text = arguments if isinstance(arguments, str) else json.dumps(arguments)
    text = rules.text(text)
    call: Json = {"tool": str(name)}
    try:
        parsed = parse_json(text, "arguments")
    except InvalidRequest:
        parsed = None
    if isinstance(parsed, dict) and json.dumps(parsed, separators=(",", ":")) == text:
        call["arguments"] = escaped(parsed)
    else:
        call["arguments"] = escaped(text)
    return call


def turn_usage(usage: Any) -> Json | None:
    """message.completed's usage as a ``usage`` step, when it has M4's whole counts."""
    if not isinstance(usage, dict):
        return None
    step = {
        key: usage[key]
        for key in ("input_tokens", "output_tokens", "cache_read_input_tokens")
        if _count(usage.get(key))
    }
    if "input_tokens" not in step or "output_tokens" not in step:
        return None
    return step


@dataclass
class FileSteps:
    """The files a turn wrote, as ``write`` steps: those a ``write_file`` tool of the
    stream names replace that tool's events; the rest are written quietly at the end.

    ``source(file)`` gives a write's source fields (a fixture, or a generated size)."""

    files: Sequence[CapturedFile]
    source: Callable[[CapturedFile], Json]
    rules: Rules = field(default_factory=Rules)
    _used: set[str] = field(default_factory=set)

    def named(
        self, name: str, tool_input: Json, result: str, is_error: bool, *, quiet: bool = False
    ) -> Step | None:
        """The write step a tool's events are, when they are exactly what a write step
        sends for one of the turn's files (``quiet``: the tool's events are kept apart)."""
        path = tool_input.get("path")
        if name != WRITE_TOOL or is_error or set(tool_input) != {"path"}:
            return None
        file = next((f for f in self.files if f.path == path and f.path not in self._used), None)
        if file is None or result != f"wrote {file.path} ({file.size} bytes)":
            return None
        self._used.add(file.path)
        write = {"path": escaped(file.path), **self.source(file)}
        return {"write": {**write, "quiet": True} if quiet else write}

    def unnamed(self) -> list[Step]:
        return [
            {"write": {"path": escaped(file.path), **self.source(file), "quiet": True}}
            for file in self.files
            if file.path not in self._used
        ]


def turn_steps(capture: TurnCapture, timing: Timing, rules: Rules, files: FileSteps) -> Recorded:
    """The steps that replay ``capture``."""
    return _TurnSteps(capture, timing, rules, files).build()


# -- stateless responses ----------------------------------------------------------------


def response_steps(capture: ResponseCapture, timing: Timing, rules: Rules) -> Recorded:
    """The steps that replay one ``POST /v1/responses`` call, streamed or not."""
    if capture.events:
        return _ResponseSteps(capture, timing, rules).build()
    line = Timeline(capture.started_at, timing)
    notes: list[str] = []
    answer = capture.answer or {}
    line.reach(capture.answered_at)
    for item in answer.get("output") or []:
        _item_step(line, item, rules, notes)
    _response_end(line, str(answer.get("status")), answer, rules, notes)
    return Recorded(line.steps, notes)


def _item_step(line: Timeline, item: Any, rules: Rules, notes: list[str]) -> None:
    """A finished output item (R3) as the step that makes it again."""
    kind = item.get("type") if isinstance(item, dict) else None
    if kind == "message":
        text = "".join(
            part.get("text", "") for part in item.get("content") or [] if isinstance(part, dict)
        )
        line.add({"text": {"content": escaped(rules.text(text))}})
    elif kind == "reasoning":
        text = "".join(
            part.get("text", "") for part in item.get("summary") or [] if isinstance(part, dict)
        )
        line.add({"think": {"content": escaped(rules.text(text))}})
    elif kind == "function_call":
        _add_call(line, client_call(item.get("name"), item.get("arguments"), rules))
    else:
        notes.append(f"an output item of type {kind!r} cannot be replayed and was left out")


def _add_call(line: Timeline, call: Json) -> None:
    """Calls made together are one ``client_tool`` step (the client answers them at once)."""
    if line.steps and "client_tool" in line.steps[-1]:
        line.steps[-1]["client_tool"].append(call)
    else:
        line.add({"client_tool": [call]})


def _response_end(
    line: Timeline, status: str, response: Json, rules: Rules, notes: list[str]
) -> None:
    usage = response.get("usage")
    if isinstance(usage, dict) and status == "completed":
        step = response_usage(usage)
        if step is not None:
            line.add({"usage": step})
    if status == "failed":
        error = response.get("error")
        message = error.get("message") if isinstance(error, dict) else None
        line.add({"fail": escaped(rules.text(str(message or "failed")))})
    elif status == "cancelled":
        notes.append(f"the client cancelled it: the replay waits up to {CANCEL_WAIT}")
        line.add({"pause": CANCEL_WAIT})


def response_usage(usage: Json) -> Json | None:
    """R3's usage as a ``usage`` step: OpenAI counts cached input inside input_tokens."""
    given, made = usage.get("input_tokens"), usage.get("output_tokens")
    if not (_count(given) and _count(made)):
        return None
    details = usage.get("input_tokens_details")
    cached = details.get("cached_tokens") if isinstance(details, dict) else None
    cached = cached if _count(cached) else 0
    step: Json = {"input_tokens": max(given - cached, 0), "output_tokens": made}
    if cached:
        step["cache_read_input_tokens"] = cached
    details = usage.get("output_tokens_details")
    reasoning = details.get("reasoning_tokens") if isinstance(details, dict) else None
    if _count(reasoning) and reasoning:
        step["reasoning_tokens"] = reasoning
    return step


def _count(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


_DELTA_OF = {
    "message": "response.output_text.delta",
    "reasoning": "response.reasoning_summary_text.delta",
    "function_call": "response.function_call_arguments.delta",
}


class _ResponseSteps:
    """A response stream's items, each from its ``output_item.added`` to its ``.done``."""

    def __init__(self, capture: ResponseCapture, timing: Timing, rules: Rules):
        self.events = capture.events
        self.line = Timeline(_first_at(capture.events, capture.started_at), timing)
        self.rules = rules
        self.notes: list[str] = []
        self.drops = sorted(set(capture.drops))

    def build(self) -> Recorded:
        terminal = None
        added: Seen | None = None
        deltas: list[str] = []
        for index, seen in enumerate(self.events):
            while self.drops and self.drops[0] <= index and added is None:
                self.drops.pop(0)
                self.line.add({"drop": True})
            kind = seen.type
            item = seen.data.get("item")
            if kind == "response.output_item.added" and isinstance(item, dict):
                added, deltas = seen, []
            elif added is not None and kind == _DELTA_OF.get(str(added.data["item"].get("type"))):
                delta = seen.data.get("delta")
                if isinstance(delta, str) and delta:
                    deltas.append(delta)
            elif kind == "response.output_item.done" and added is not None:
                self._item(added, seen, deltas)
                added = None
            elif kind in RESPONSE_TERMINAL:
                terminal = seen
        if terminal is None:
            self.notes.append("the recording ended before the response did")
            return Recorded(self.line.steps, self.notes)
        response = terminal.data.get("response")
        response = response if isinstance(response, dict) else {}
        self.line.reach(terminal.at)
        status = {"response.failed": "failed", "response.cancelled": "cancelled"}.get(
            terminal.type, "completed"
        )
        _response_end(self.line, status, response, self.rules, self.notes)
        return Recorded(self.line.steps, self.notes)

    def _item(self, added: Seen, done: Seen, deltas: list[str]) -> None:
        item = done.data.get("item")
        kind = item.get("type") if isinstance(item, dict) else None
        self.line.reach(added.at)
        seconds = self.line.offset(done.at) - self.line.offset(added.at)
        if kind in ("message", "reasoning") and deltas:
            body, spends = streamed(deltas, seconds, self.rules, self.notes)
            self.line.add({"text" if kind == "message" else "think": body}, spends)
        else:
            _item_step(self.line, item, self.rules, self.notes)
