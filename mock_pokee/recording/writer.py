"""The recordings folder: one scenario file per turn and per response conversation, the
files those turns wrote as fixtures, and the drift report (``mock-pokee record``).

Each file is checked by loading it as ``mock-pokee serve --scenarios`` will, before it
takes its name: a recording that would not load (a value the mock refuses to store, such
as NaN) goes to ``rejected/`` with the reason in the report, so the folder always serves.
Keys never reach a file: every key the proxy saw is a secret of the redactor, which runs
over every recorded string and file before it is written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from mock_pokee.domain.errors import InvalidRequest
from mock_pokee.domain.response_input import ResponseRequest, parse_input
from mock_pokee.limits import MAX_RECORDED_EVENTS
from mock_pokee.recording.capture import CapturedFile, ResponseCapture, TurnCapture
from mock_pokee.recording.drift import DriftReport
from mock_pokee.recording.redact import Redactor
from mock_pokee.recording.settings import RecordSettings
from mock_pokee.recording.steps import (
    FileSteps,
    Recorded,
    Rules,
    Step,
    Timing,
    response_steps,
    turn_steps,
)
from mock_pokee.scenarios.asked import slug_of
from mock_pokee.scenarios.loader import ScenarioFileError, load_file

FIXTURES = "fixtures"  # beside the scenario files: the bytes of the files turns wrote
REJECTED = "rejected"
_NUMBERED = re.compile(r"^(?:turn|response)-(\d+)-")
_REGEX_SPECIAL = re.compile(r"([\\.^$*+?{}\[\]|()])")
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")
_SURROGATE = re.compile("[\ud800-\udfff]")
SLUG_LENGTH = 40


def literal_match(message: str) -> str:
    """A pattern that matches exactly ``message`` (case aside, as every match is): only
    the characters special to a pattern are escaped, so it reads as the message."""
    return "^" + _REGEX_SPECIAL.sub(r"\\\1", message) + "$"


def _clean(value: Any) -> Any:
    """Lone surrogates (JSON can spell them) as U+FFFD: a file holds only UTF-8."""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {_clean(key): _clean(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_clean(item) for item in value]
    return value


def _left_out(count: int) -> list[str]:
    if not count:
        return []
    return [f"only its first {MAX_RECORDED_EVENTS:,} events were kept ({count:,} more left out)"]


def safe_segments(path: str) -> list[str] | None:
    """A workspace path's segments, or None when it could lead outside a folder."""
    segments = path.split("/")
    if any(s in ("", ".", "..") or "\\" in s or not s.isprintable() for s in segments):
        return None
    return segments


@dataclass
class _Conversation:
    """A response scenario growing call by call (R4): the steps so far and the calls they
    made, so the next call carrying their outputs continues it."""

    name: str
    steps: list[Step]
    calls: int
    events: int
    notes: list[str] = field(default_factory=list)


class RecordingFolder:
    """The sink of the recording proxy (`mock_pokee.recording.capture.Sink`), which calls
    it from one thread, in the order things happened."""

    def __init__(self, settings: RecordSettings):
        self.settings = settings
        self.out = settings.out
        self.out.mkdir(parents=True, exist_ok=True)
        self.redactor = Redactor.from_file(settings.redact)
        if settings.key:
            self.redactor.secret(settings.key)
        self.drift = DriftReport()
        self.timing = Timing(settings.upstream_scale, settings.min_pause)
        self.rules = Rules(text=self.redactor.text, value=self.redactor.value)
        self._number = max(
            (int(m.group(1)) for p in self.out.iterdir() if (m := _NUMBERED.match(p.name))),
            default=0,
        )
        self._conversations: dict[str, _Conversation] = {}
        self.written: dict[str, Path] = {}
        self.rejected: dict[str, str] = {}
        self.skipped: list[str] = []

    # -- the Sink protocol ------------------------------------------------------------------

    def secret(self, value: str) -> None:
        self.redactor.secret(value)

    def answer(self, method: str, path: str, status: int, body: Any) -> None:
        self.drift.answer(method, path, status, body)

    def turn(self, capture: TurnCapture) -> None:
        for seen in capture.events:
            self.drift.event("turn", seen.type, seen.data)
        name = self._name("turn", capture.message)
        files = FileSteps(capture.files, lambda file: self._source(name, file))
        recorded = turn_steps(capture, self.timing, self.rules, files)
        recorded.notes += _left_out(capture.left_out)
        scenario = self._scenario(
            name,
            capture.message,
            recorded,
            events=len(capture.events),
            sampled=capture.poll_interval,
        )
        self._write(name, scenario)

    def response(self, capture: ResponseCapture) -> None:
        for seen in capture.events:
            self.drift.event("response", seen.type, seen.data)
        try:
            request = ResponseRequest(items=parse_input(capture.request.get("input")), model="")
        except InvalidRequest as refused:
            self.skipped.append(f"a /v1/responses call whose input was refused: {refused}")
            return
        message = request.last_user_message
        recorded = response_steps(capture, self.timing, self.rules)
        recorded.notes += _left_out(capture.left_out)
        made = sum(len(step["client_tool"]) for step in recorded.steps if "client_tool" in step)
        conversation = self._conversations.get(message)
        if conversation is None or request.calls_since_user != conversation.calls:
            conversation = _Conversation(self._name("response", message), [], 0, 0)
            self._conversations[message] = conversation
        conversation.steps += recorded.steps
        conversation.calls += made
        conversation.events += len(capture.events)
        conversation.notes += recorded.notes
        scenario = self._scenario(
            conversation.name,
            message,
            Recorded(conversation.steps, conversation.notes),
            events=conversation.events,
        )
        scenario["surface"] = "response"
        self._write(conversation.name, scenario)

    def close(self) -> str:
        """Write the drift report; a line saying what was recorded, for the terminal."""
        extra = [f"rejected {name}: {reason}" for name, reason in self.rejected.items()]
        self.drift.write(self.out, self.redactor, notes=extra + self.skipped)
        return (
            f"{len(self.written)} recording(s) in {self.out}"
            + (f", {len(self.rejected)} rejected" if self.rejected else "")
            + f"; {self.drift.summary()}"
        )

    # -- writing ------------------------------------------------------------------------------

    def _name(self, kind: str, message: str) -> str:
        """``turn-001-<the message, redacted, as a slug>``."""
        self._number += 1
        slug = slug_of(self._text(message))[:SLUG_LENGTH].strip("-")
        return f"{kind}-{self._number:03d}-{slug}"

    def _text(self, text: str) -> str:
        return str(_clean(self.redactor.text(text)))

    def _scenario(
        self, name: str, message: str, recorded: Recorded, *, events: int, sampled: float = 0
    ) -> dict[str, Any]:
        upstream = urlsplit(self.settings.upstream)
        when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        lines = [
            f"Recorded from {upstream.scheme}://{upstream.hostname} on {when}: {events} events."
        ]
        if sampled:
            scale = self.settings.upstream_scale
            clock = f" ({sampled * scale:g} s of the upstream's clock)" if scale != 1 else ""
            lines.append(
                f"Metadata was sampled every {sampled:g} s{clock}, so a stage shorter than "
                "that may be missing and each is placed where a poll saw it."
            )
        lines += sorted(set(recorded.notes))
        return {
            "name": name,
            "description": " ".join(lines),
            "match": literal_match(self._text(message)),
            "steps": recorded.steps,
        }

    def _source(self, name: str, file: CapturedFile) -> dict[str, Any]:
        """A write's source: the bytes as a fixture when kept (and redactable), else
        generated bytes of the same size, whose type follows the path's extension."""
        segments = safe_segments(file.path)
        data = None if file.data is None else self.redactor.file(file.path, file.data)
        if segments is None or data is None:
            return {"size": file.size}
        relative = Path(FIXTURES, name, *(_UNSAFE_NAME.sub("_", s) for s in segments))
        target = self.out / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        return {"fixture": relative.as_posix()}

    def _write(self, name: str, scenario: dict[str, Any]) -> None:
        """Write ``scenario`` as ``<name>.yaml`` once it loads as the server will load it."""
        text = yaml.safe_dump(_clean(scenario), sort_keys=False, allow_unicode=True, width=100)
        draft = self.out / f".{name}.draft"
        draft.write_text(text, encoding="utf-8")
        try:
            load_file(draft)
        except ScenarioFileError as refused:
            (self.out / REJECTED).mkdir(exist_ok=True)
            draft.replace(self.out / REJECTED / f"{name}.yaml")
            self.rejected[name] = str(refused)
            self.written.pop(name, None)
            return
        final = self.out / f"{name}.yaml"
        draft.replace(final)
        self.rejected.pop(name, None)
        self.written[name] = final
