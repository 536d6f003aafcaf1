"""What a recording saw that the contract did not expect: ``drift.md`` beside the scenarios.

The recorder hands over every answer and every event it proxied; this module holds them
to the contract this package ships and keeps what it does not name: an operation the
OpenAPI document does not have, a status it does not list for an operation, a top-level
field of a JSON answer that the operation's response schema does not name, an event type
neither stream knows (M4, M12, R5; `mock_pokee.vocabulary`), and a data field an event's
type is not known to carry. Each finding keeps how many times it was seen and its first
example, so that a developer who recorded a deployment can see at a glance where the mock
(and the contract) would need to follow it.

The report is Markdown, not YAML: every YAML file in a scenario folder is loaded as a
scenario. At most `MAX_FINDINGS` distinct findings are kept, each with its example cut to
`KEPT` characters, whatever the recording's length; later new ones are only counted.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, partial
from pathlib import Path
from typing import Any, Literal

from mock_pokee import __version__
from mock_pokee.app import openapi_document
from mock_pokee.recording.redact import Redactor
from mock_pokee.vocabulary import (
    EVERY_EVENT,
    EVERY_RESPONSE_EVENT,
    RESPONSE_EVENTS,
    TURN_EVENTS,
)

Surface = Literal["turn", "response"]
Kind = Literal["operation", "status", "answer field", "event type", "event field"]

REPORT = "drift.md"
MAX_FINDINGS = 300
EXAMPLE_LIMIT = 200  # characters of an example the report shows
KEPT = 4096  # characters of an example kept until the report is redacted and written
# A kept example cut short may end in part of a key, which no longer matches: when the
# redacted text is that short, the report shows none of its last GUARD characters.
GUARD = 256

HEADINGS: Mapping[Kind, str] = {
    "operation": "Operations the OpenAPI document does not have",
    "status": "Statuses the OpenAPI document does not list for the operation",
    "answer field": "Top-level fields of JSON answers that the response schema does not name",
    "event type": "Event types the contract does not name",
    "event field": "Event data fields the contract does not name for the event's type",
}
# The keys of an OpenAPI path item that are operations (the others are its parameters…).
METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})
STREAMS: Mapping[Surface, tuple[Mapping[str, frozenset[str]], frozenset[str], str]] = {
    "turn": (TURN_EVENTS, EVERY_EVENT, "session turn"),
    "response": (RESPONSE_EVENTS, EVERY_RESPONSE_EVENT, "/v1/responses"),
}


@dataclass
class Finding:
    """One kind of drift at one place: ``what`` was seen ``count`` times at ``where``;
    ``example`` is the first one's text, as JSON where it is a value (``cut`` if longer
    than `KEPT`)."""

    kind: Kind
    where: str
    what: str
    example: str
    cut: bool
    count: int = 1


class DriftReport:
    """Collects findings from the recorder's threads; `write` puts them in ``drift.md``."""

    def __init__(self) -> None:
        self.answers = 0
        self.events = 0
        self.unlisted = 0  # occurrences of new findings past MAX_FINDINGS
        self._findings: dict[tuple[Kind, str, str], Finding] = {}
        self._written: Path | None = None
        self._lock = threading.Lock()

    def event(self, surface: Surface, type: str, data: dict[str, Any]) -> None:
        """One event of a turn's stream or a response's, its data parsed."""
        known, every, stream = STREAMS[surface]
        with self._lock:
            self.events += 1
        fields = known.get(type)
        if fields is None:
            self._add("event type", stream, type, partial(_json, data))
            return
        for name, value in data.items():
            if name not in fields and name not in every:
                self._add("event field", f"{type} ({stream})", name, partial(_json, value))

    def answer(self, method: str, path: str, status: int, body: Any) -> None:
        """One answer: the request's method and path (a query is left out), its status and
        its body parsed when it was JSON (else None). ``/_mock`` is the mock's own."""
        path = path.partition("?")[0]
        if path == "/_mock" or path.startswith("/_mock/"):
            return
        method = "GET" if method.upper() == "HEAD" else method.upper()
        with self._lock:
            self.answers += 1
        template = _template_of(path)
        verb = method.lower()
        operation = template.operations.get(verb) if template and verb in METHODS else None
        if template is None or operation is None:
            if template is not None and status == 405:
                return  # the document's rule: a method a path does not list is a 405
            shown = f"{method} {path} → {status}"
            named = template.path if template else _generalise(path)
            self._add("operation", "", f"{method} {named}", lambda: shown)
            return
        where = f"{method} {template.path}"
        responses = operation.get("responses", {})
        if str(status) not in responses:
            self._add("status", where, str(status), partial(_body, body))
            return
        names = _answer_fields(responses[str(status)], body)
        if names is None:
            return
        objects = body if isinstance(body, list) else [body]
        for item in (one for one in objects if isinstance(one, dict)):
            for name, value in item.items():
                if name not in names:
                    self._add("answer field", f"{where} {status}", name, partial(_json, value))

    def _add(self, kind: Kind, where: str, what: str, example: Callable[[], str]) -> None:
        key = (kind, where, what)
        with self._lock:
            found = self._findings.get(key)
            if found is not None:
                found.count += 1
                return
            if len(self._findings) >= MAX_FINDINGS:
                self.unlisted += 1
                return
            text = example()
            self._findings[key] = Finding(kind, where, what, text[:KEPT], len(text) > KEPT)

    @property
    def findings(self) -> list[Finding]:
        """The findings kept, in the order first seen."""
        with self._lock:
            return list(self._findings.values())

    def summary(self) -> str:
        """One line for the terminal."""
        with self._lock:
            kept, more = len(self._findings), "+" if self.unlisted else ""
            answers, events = self.answers, self.events
        if not kept:
            return f"no drift in {_count(answers, 'answer')} and {_count(events, 'event')}"
        noun = "kind" if kept == 1 and not more else "kinds"
        return f"{kept}{more} {noun} of drift: see {self._written or REPORT}"

    def write(
        self, folder: Path, redactor: Redactor | None = None, notes: Sequence[str] = ()
    ) -> Path:
        """``folder/drift.md``, every text from the recording in it redacted first.
        ``notes`` are the recorder's own lines for the reader (what it could not record),
        listed last."""
        path = folder / REPORT
        path.write_text(self.render(redactor, notes), encoding="utf-8")
        self._written = path
        return path

    def render(self, redactor: Redactor | None = None, notes: Sequence[str] = ()) -> str:
        """The report's Markdown."""
        findings = self.findings
        with self._lock:
            answers, events, unlisted = self.answers, self.events, self.unlisted
        lines = [
            "# Drift: what the recording saw that the contract did not expect",
            "",
            f"Checked {_count(answers, 'answer')} and {_count(events, 'event')} against the "
            f"contract of mock-pokee {__version__} (contract.md and openapi.yaml).",
        ]
        if not findings and not unlisted:
            lines += ["", "No drift: the contract names everything the recording saw."]
        for kind, heading in HEADINGS.items():
            of_kind = [found for found in findings if found.kind == kind]
            if of_kind:
                lines += ["", f"## {heading}", ""]
                lines += [_line(found, redactor) for found in of_kind]
        if unlisted:
            lines += [
                "",
                f"And {_count(unlisted, 'occurrence')} of drift not listed: the report keeps "
                f"the first {MAX_FINDINGS} findings.",
            ]
        if notes:
            clean = redactor.text if redactor is not None else str
            lines += ["", "## Notes from the recorder", ""]
            lines += [f"- {' '.join(clean(note).splitlines())}" for note in notes]
        return "\n".join(lines) + "\n"


def _line(found: Finding, redactor: Redactor | None) -> str:
    clean = redactor.text if redactor is not None else str
    example = clean(found.example)
    limit = EXAMPLE_LIMIT
    if found.cut:
        limit = min(limit, len(example) - GUARD)
    shown = example if len(example) <= limit else example[: max(limit, 0)] + "…"
    where = f"{_code(clean(found.where))}: " if found.where else ""
    times = "once" if found.count == 1 else f"{found.count:,} times"
    return f"- {where}{_code(clean(found.what))}, {times}; first: {_code(shown)}"


def _code(text: str) -> str:
    """A Markdown code span holding the text on one line, whatever backticks it has."""
    text = " ".join(text.splitlines())
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _body(body: Any) -> str:
    return "no JSON body" if body is None else _json(body)


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}" + ("" if number == 1 else "s")


# -- the OpenAPI document --------------------------------------------------------------------


@dataclass(frozen=True)
class Template:
    """A path of the OpenAPI document, as a pattern for concrete paths."""

    path: str
    pattern: re.Pattern[str]
    operations: Mapping[str, Any]  # by lower-case method

    @property
    def literal(self) -> int:
        """How much of the path is fixed: the most fixed template matching a path wins."""
        return len(re.sub(r"\{[^}]*\}", "", self.path))


@cache
def _templates() -> tuple[Template, ...]:
    """The document's paths, the most fixed first. A parameter named ``…path`` (the files'
    ``{file_path}``, F2) spans segments; any other is one segment."""
    found = []
    for path, operations in openapi_document()["paths"].items():
        regex = re.sub(r"\\\{\w*path\\\}", ".+", re.escape(path))
        regex = re.sub(r"\\\{\w+\\\}", "[^/]+", regex)
        found.append(Template(path, re.compile(regex), operations))
    return tuple(sorted(found, key=lambda template: -template.literal))


def _template_of(path: str) -> Template | None:
    return next((t for t in _templates() if t.pattern.fullmatch(path)), None)


def _generalise(path: str) -> str:
    """An unknown path with the longest known start put as its template, so that the
    same unknown operation on many sessions is one finding:
    ``/v1/sessions/ses_1/notes`` is ``/v1/sessions/{session_id}/notes``."""
    best: tuple[int, str] = (0, path)
    for template in _templates():
        match = template.pattern.match(path)
        if match is not None and path[match.end() : match.end() + 1] == "/":
            best = max(best, (match.end(), template.path + path[match.end() :]))
    return best[1]


def _answer_fields(response: Any, body: Any) -> frozenset[str] | None:
    """The top-level fields the response's JSON schema names for this body (for a list,
    those of its items), or None when it names none or allows any: then nothing is
    checked. A response that may also be a file's bytes (``*/*``) is not checked either:
    a JSON file is not an answer."""
    content = _resolve(response).get("content") or {}
    if "*/*" in content or "application/json" not in content:
        return None
    schema = _resolve(content["application/json"].get("schema") or {})
    if (schema.get("type") == "array") != isinstance(body, list):
        return None
    return _names(_resolve(schema.get("items") or {}) if isinstance(body, list) else schema)


def _names(schema: Mapping[str, Any]) -> frozenset[str] | None:
    if schema.get("additionalProperties") not in (None, False):
        return None
    names = set(schema.get("properties") or ())
    alternatives = [
        _names(_resolve(one))
        for word in ("allOf", "anyOf", "oneOf")
        for one in schema.get(word, ())
    ]
    if None in alternatives or not (names or alternatives):
        return None
    return frozenset(names.union(*(found for found in alternatives if found is not None)))


def _resolve(node: Any) -> Any:
    """A ``$ref`` within the document (``#/components/…``) followed, to the end of a chain."""
    while isinstance(node, dict) and "$ref" in node:
        target: Any = openapi_document()
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node
