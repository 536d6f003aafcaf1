"""Fault rules (C5): which requests a fault hits, and the fault itself.

A rule is a match (method, path glob, session, scenario), a fault, and a schedule that
picks which *matching attempts* it hits: ``nth``, ``times``, ``every``, or
``probability`` with a ``seed``. Every rule counts every request it matches, whether or
not another rule fired first, so a schedule means the same thing however many rules are
installed; of the rules that would fire on one request, the oldest wins (one fault per
request). A probability rule draws from its own seeded generator, one draw per matching
attempt, so a chaotic run replays exactly; without a seed one is picked and shown.

This module only decides. How each fault is applied to the bytes on the wire is the HTTP
layer's job (``mock_pokee.api.delivery``).
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, NamedTuple, TypeAlias

from pydantic import (
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    StrictStr,
    model_validator,
)

from mock_pokee.domain.errors import InvalidRequest, NotFound
from mock_pokee.domain.globs import PathGlob, SplitPath, pattern_problem
from mock_pokee.domain.strict import JsonInt, JsonNumber, StrictBody
from mock_pokee.limits import (
    FAULT_MATCH_CACHE,
    MAX_BOOK_FLOATING,
    MAX_DELAY,
    MAX_NTH,
    MAX_PATTERN,
    MAX_RULES,
    MAX_STUB_HEADERS,
)

Seconds = Annotated[JsonNumber, Field(ge=0, le=MAX_DELAY)]
Count = Annotated[JsonInt, Field(ge=0, le=1_000_000_000)]
Attempts = Annotated[JsonInt, Field(ge=1, le=1_000_000_000)]


class _Strict(StrictBody):
    model_config = ConfigDict(frozen=True)


class _Fault(_Strict):
    """A fault, with its JSON form made once: every time the fault fires the journal (C4)
    records that form, and a ``respond`` stub's ``json`` may be a megabyte, which a copy
    per firing would multiply by the journal's length."""

    _shown: dict[str, Any] = PrivateAttr(default_factory=dict)

    def model_post_init(self, context: Any, /) -> None:
        self._shown = self.model_dump(exclude_none=True, by_alias=True)


class StatusFault(_Fault):
    """Answer with this status and an A5 body; the request is not processed."""

    type: Literal["status"]
    status: Annotated[JsonInt, Field(ge=400, le=599)]
    retry_after: Seconds | None = None
    message: Annotated[StrictStr, Field(max_length=1_000)] | None = None


class DelayFault(_Fault):
    """Wait this many real seconds before processing (the client's timeouts are real)."""

    type: Literal["delay"]
    seconds: Seconds


class DropFault(_Fault):
    """A stream: cut after ``after_events`` events. Without it, or on any other response:
    the request is processed and the connection closes with no response at all."""

    type: Literal["drop"]
    after_events: Count | None = None


class CutFrameFault(_Fault):
    """After ``after_events`` events, half of the next frame's bytes, then cut."""

    type: Literal["cut_frame"]
    after_events: Count = 0


class StallFault(_Fault):
    """After ``after_events`` events (or before any response), silence until the client
    gives up."""

    type: Literal["stall"]
    after_events: Count = 0


class DripFault(_Fault):
    """The response body, slowly."""

    type: Literal["drip"]
    bytes_per_second: Attempts


class MalformedFault(_Fault):
    """The event after ``after_events`` events arrives as a frame whose data is not JSON;
    the stream then goes on. A non-stream response's body arrives cut in half."""

    type: Literal["malformed"]
    after_events: Count = 0


class AbortDownloadFault(_Fault):
    """The headers (with the full length) and ``after_bytes`` bytes of body, then cut."""

    type: Literal["abort_download"]
    after_bytes: Count


HeaderName = Annotated[StrictStr, Field(pattern=r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$")]
HeaderValue = Annotated[StrictStr, Field(pattern=r"^[\t\x20-\x7e]{0,4096}$")]


def _few_headers(value: object) -> object:
    """Count the headers before checking each: 80,000 wrong ones would each be described."""
    if isinstance(value, dict) and len(value) > MAX_STUB_HEADERS:
        raise ValueError(f"at most {MAX_STUB_HEADERS} headers, not {len(value)}")
    return value


_FRAMING_HEADERS = frozenset({"content-length", "transfer-encoding", "connection"})


class RespondFault(_Fault):
    """A one-off stub: answer with this status, these headers and this body instead of
    handling the request, for an answer the scenarios do not give. ``json`` (any JSON
    value) or ``body`` (text), not both; neither is an empty body."""

    # What `_one_body` refuses, said to the control plane's OpenAPI document too.
    model_config = ConfigDict(
        frozen=True,
        json_schema_extra={
            "not": {"required": ["json", "body"]},
            "if": {"properties": {"status": {"enum": [204, 304]}}},
            "then": {"not": {"anyOf": [{"required": ["json"]}, {"required": ["body"]}]}},
        },
    )

    type: Literal["respond"]
    status: Annotated[JsonInt, Field(ge=200, le=599)]
    headers: Annotated[
        dict[HeaderName, HeaderValue],
        Field(max_length=MAX_STUB_HEADERS, json_schema_extra={"additionalProperties": False}),
        BeforeValidator(_few_headers),  # outermost: runs first
    ] = Field(default_factory=dict)
    json_body: Any = Field(default=None, alias="json")
    body: Annotated[StrictStr, Field(max_length=1_048_576)] | None = None

    @model_validator(mode="after")
    def _one_body(self) -> RespondFault:
        given = self.model_fields_set & {"json_body", "body"}
        if len(given) > 1:
            raise ValueError("give json or body, not both")
        framing = sorted(n for n in self.headers if n.lower() in _FRAMING_HEADERS)
        if framing:
            raise ValueError(f"headers: {framing} are set by the mock from the body")
        if given and self.status in (204, 304):
            raise ValueError(f"status {self.status} has no body; leave out json and body")
        return self


Fault: TypeAlias = Annotated[
    StatusFault
    | RespondFault
    | DelayFault
    | DropFault
    | CutFrameFault
    | StallFault
    | DripFault
    | MalformedFault
    | AbortDownloadFault,
    Field(discriminator="type"),
]

# Faults that count SSE events; a turn stream applies them itself, event by event.
EventFault: TypeAlias = DropFault | CutFrameFault | StallFault | MalformedFault


class FaultOnly(_Strict):
    """The ``X-Mock-Fault`` header: one fault for one request."""

    fault: Fault


class Match(_Strict):
    """All optional; what is given must all match."""

    method: Annotated[StrictStr, Field(pattern=r"^[A-Za-z]{1,16}$")] | None = None
    path: (
        Annotated[
            StrictStr,
            Field(min_length=1, max_length=MAX_PATTERN, json_schema_extra={"pattern": "^/"}),
        ]
        | None
    ) = None
    session: Annotated[StrictStr, Field(min_length=1, max_length=128)] | None = None
    scenario: Annotated[StrictStr, Field(min_length=1, max_length=128)] | None = None

    @model_validator(mode="after")
    def _path_is_a_glob(self) -> Match:
        if self.path is None:
            return self
        if not self.path.startswith("/"):
            raise ValueError(f"path: a request path starts with '/', not {self.path!r}")
        problem = pattern_problem(self.path)
        if problem is not None:
            raise ValueError(f"path: {problem}")
        return self


class Schedule(_Strict):
    """Exactly one of ``nth``, ``times``, ``every``, ``probability`` (with ``seed``);
    none given: every matching attempt."""

    # fail_fast: a list of 300,000 wrong items is refused at the first, not described whole
    nth: (
        Annotated[list[Attempts], Field(min_length=1, max_length=MAX_NTH, fail_fast=True)] | None
    ) = None
    times: Attempts | None = None
    every: Attempts | None = None
    probability: Annotated[JsonNumber, Field(gt=0, le=1)] | None = None
    seed: Annotated[JsonInt, Field(ge=0, le=2**63)] | None = None

    @model_validator(mode="after")
    def _one_form(self) -> Schedule:
        forms = ("nth", "times", "every", "probability")
        given = [form for form in forms if getattr(self, form) is not None]
        if len(given) > 1:
            raise ValueError(f"give one of nth, times, every, probability, not {given}")
        if self.seed is not None and self.probability is None:
            raise ValueError("seed: only goes with probability")
        return self


class RuleSpec(_Strict):
    """The body of ``POST /_mock/faults``."""

    match: Match = Field(default_factory=Match)
    fault: Fault
    schedule: Schedule = Field(default_factory=Schedule)


def fault_json(fault: Any) -> dict[str, Any]:
    """A fault as its rule was written (``json``, not the field's Python name): one dict
    per fault, shared by whoever shows it (no reader changes it)."""
    if isinstance(fault, _Fault):
        return fault._shown
    shown: dict[str, Any] = fault.model_dump(exclude_none=True, by_alias=True)
    return shown


class Attempt(NamedTuple):
    """What a fault rule can match a request on (a tuple: made on every request)."""

    method: str
    path: str
    session: str | None = None
    scenario: str | None = None


@dataclass(eq=False)
class Rule:
    spec: RuleSpec
    id: str = field(default_factory=lambda: "flt_" + secrets.token_hex(6))
    hits: int = 0
    matched: int = 0
    seed: int | None = None
    _glob: PathGlob | None = None
    _random: random.Random | None = None
    _nth: frozenset[int] = frozenset()

    def __post_init__(self) -> None:
        match, schedule = self.spec.match, self.spec.schedule
        self._glob = PathGlob.compile(match.path) if match.path else None
        if schedule.probability is not None:
            self.seed = schedule.seed if schedule.seed is not None else secrets.randbits(32)
            self._random = random.Random(self.seed)
        self._nth = frozenset(schedule.nth or ())

    @property
    def glob(self) -> PathGlob | None:
        return self._glob

    @property
    def floating_weight(self) -> int:
        """What this rule adds to its book's `MAX_BOOK_FLOATING`."""
        return 0 if self._glob is None else self._glob.floating_weight

    def matches_method(self, method: str) -> bool:
        wanted = self.spec.match.method
        return wanted is None or wanted.upper() == method

    def matches_rest(self, attempt: Attempt) -> bool:
        match = self.spec.match
        if match.session is not None and match.session != attempt.session:
            return False
        return match.scenario is None or match.scenario == attempt.scenario

    def due(self) -> bool:
        """Count one matching attempt; True if the schedule hits it."""
        self.matched += 1
        schedule, n = self.spec.schedule, self.matched
        if self._random is not None and schedule.probability is not None:
            return self._random.random() < schedule.probability
        if schedule.nth is not None:
            return n in self._nth
        if schedule.times is not None:
            return n <= schedule.times
        if schedule.every is not None:
            return n % schedule.every == 0
        return True

    def describe(self) -> dict[str, Any]:
        schedule = self.spec.schedule.model_dump(exclude_none=True)
        if self.seed is not None:
            schedule["seed"] = self.seed
        return {
            "id": self.id,
            "match": self.spec.match.model_dump(exclude_none=True),
            "fault": fault_json(self.spec.fault),
            "schedule": schedule,
            "hits": self.hits,
            "matched": self.matched,
        }


@dataclass(frozen=True, slots=True)
class Hit:
    """A fault chosen for one request: by a rule, or by the request's own header."""

    fault: Any  # one of the Fault classes
    rule: str  # the rule's id, or "header"

    @property
    def type(self) -> str:
        kind: str = self.fault.type
        return kind


class FaultBook:
    """One tenant's rules (or the server's), oldest first."""

    def __init__(self) -> None:
        self._rules: list[Rule] = []
        self._candidates: dict[tuple[str, str], tuple[Rule, ...]] = {}
        self._floating = 0  # the rules' floating weight, within MAX_BOOK_FLOATING
        # Read on every request before anything else: a plain attribute, not a call.
        self.empty = True

    def __len__(self) -> int:
        return len(self._rules)

    def __iter__(self) -> Iterator[Rule]:
        return iter(list(self._rules))

    def add(self, spec: RuleSpec) -> Rule:
        if len(self._rules) >= MAX_RULES:
            raise InvalidRequest(f"rules: at most {MAX_RULES} fault rules; delete some first")
        rule = Rule(spec)
        weight = rule.floating_weight
        if self._floating + weight > MAX_BOOK_FLOATING:
            raise InvalidRequest(
                f"match.path: a '*' between two '**' makes every request search its path; "
                f"this rule would search {weight} characters' worth and the rules here "
                f"already {self._floating}, past the {MAX_BOOK_FLOATING} one book allows; "
                "delete some rules first, or put fewer segments between the '**'"
            )
        self._rules.append(rule)
        self._changed()
        return rule

    def remove(self, rule_id: str) -> None:
        for rule in self._rules:
            if rule.id == rule_id:
                self._rules.remove(rule)
                self._changed()
                return
        raise NotFound(f"fault rule {rule_id}: not found")

    def get(self, rule_id: str) -> Rule | None:
        return next((rule for rule in self._rules if rule.id == rule_id), None)

    def clear(self) -> int:
        count = len(self._rules)
        self._rules.clear()
        self._changed()
        return count

    def _changed(self) -> None:
        self._candidates.clear()
        self._floating = sum(rule.floating_weight for rule in self._rules)
        self.empty = not self._rules

    def _route_candidates(self, method: str, path: str) -> tuple[Rule, ...]:
        """The rules whose method and path match, oldest first. The path is split once
        for them all, and a pattern several rules share is matched once."""
        split: SplitPath | None = None
        verdicts: dict[str, bool] = {}
        chosen = []
        for rule in self._rules:
            glob = rule.glob
            if not rule.matches_method(method):
                continue
            if glob is not None:
                verdict = verdicts.get(glob.pattern)
                if verdict is None:
                    split = split or SplitPath(path)
                    verdict = verdicts[glob.pattern] = glob.matches(split)
                if not verdict:
                    continue
            chosen.append(rule)
        return tuple(chosen)

    def choose(self, attempt: Attempt, *, fire: bool = True) -> Hit | None:
        """Count the attempt against every matching rule; the oldest that hits fires,
        unless ``fire`` is false (another book's rule already did)."""
        if self.empty:
            return None
        key = (attempt.method, attempt.path)
        candidates = self._candidates.get(key)
        if candidates is None:
            if len(self._candidates) >= FAULT_MATCH_CACHE:
                self._candidates.clear()
            candidates = self._route_candidates(*key)
            self._candidates[key] = candidates
        chosen: Hit | None = None
        for rule in candidates:
            if rule.matches_rest(attempt) and rule.due() and fire and chosen is None:
                rule.hits += 1
                chosen = Hit(rule.spec.fault, rule.id)
        return chosen
