"""The session record and its lifetime rules (contract S1, S2, S7, S8).

A session's end is computed, never swept: `Session.deadline` says when it stops existing,
and every read compares it with the clock. A background timer only frees the memory.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictStr,
)

from mock_pokee.domain.paths import entry_segments, quoted, scope_entry_problem
from mock_pokee.domain.strict import JsonInt, StrictBody
from mock_pokee.domain.tools import ClientTool
from mock_pokee.limits import MAX_TTL

if TYPE_CHECKING:  # skills → workspace → scopes → sessions: a cycle at import time
    from mock_pokee.domain.skills import SkillVersion

DEFAULT_TTL = 14_400  # S1: four hours
IDLE_TIMEOUT = 300.0  # S7: a non-persistent session lives 5 minutes past its last activity

ExpiryReason = Literal["ttl", "idle"]


# Ids need to be unique and unguessable across tenants, not secret: a generator seeded
# once from the system is as unique as a system call per id, and a create is a hot path.
_ids = random.Random(secrets.randbits(128))


def new_session_id() -> str:
    """S2: ``sess_`` and 12 lowercase hex digits."""
    return f"sess_{_ids.getrandbits(48):012x}"


def _scope_entry(entry: str) -> str:
    """F8: an entry is checked at create, so that a session never holds one that no path
    could match or that cannot be served back (a lone surrogate)."""
    problem = scope_entry_problem(entry)
    if problem is not None:
        raise ValueError(f"{quoted(entry)}: {problem}")
    return entry


ScopeEntry = Annotated[StrictStr, AfterValidator(_scope_entry)]


class FileAccess(StrictBody):
    """S1 ``file_access``: the paths the session may read and write (F8).

    Without the object, the whole workspace (``[""]`` for both). Within a given object, a
    key left out grants nothing (``[]``): with ``write`` implying ``read``, defaulting a
    missing ``write`` to the whole workspace would make ``{"read": ["docs"]}`` read (and
    write) everything, the opposite of what its author meant.
    The entries are kept as given (the record echoes them); their segments, which
    `mock_pokee.domain.scopes.authorize` compares, are worked out once per session.
    """

    model_config = ConfigDict(frozen=True)  # fixed for the session's life (F8)

    # fail_fast: a 1 MiB list of bad entries is refused at its first, not after pydantic
    # has collected an error for each (seconds of the event loop).
    read: list[ScopeEntry] = Field(default_factory=list, fail_fast=True)
    write: list[ScopeEntry] = Field(default_factory=list, fail_fast=True)

    @cached_property
    def write_entries(self) -> tuple[tuple[str, ...], ...]:
        return tuple(entry_segments(entry) for entry in self.write)

    @cached_property
    def read_entries(self) -> tuple[tuple[str, ...], ...]:
        """``write`` implies ``read`` (F8)."""
        return tuple(entry_segments(entry) for entry in self.read) + self.write_entries


# S1's default, validated once and shared: a scope is fixed for a session's life (F8),
# and FileAccess is frozen, so no session can change another's.
_WHOLE_WORKSPACE = FileAccess(read=[""], write=[""])


class SessionSpec(StrictBody):
    """The body of ``POST /v1/sessions`` (S1). Unknown keys at any depth are refused (A8)."""

    persistent: StrictBool = False
    ttl: JsonInt = Field(default=DEFAULT_TTL, ge=1, le=MAX_TTL)
    metadata: dict[str, Any] = Field(default_factory=dict)
    file_access: FileAccess = Field(default_factory=lambda: _WHOLE_WORKSPACE)
    model: StrictStr | None = None
    tools: list[Any] | None = None


@dataclass(slots=True)
class Session:
    """One session of one tenant. ``busy`` is true while a turn runs (M2, M5)."""

    id: str
    created_at: float
    last_activity: float
    persistent: bool
    ttl: int
    metadata: dict[str, Any]
    file_access: FileAccess
    model: str | None = None
    tools: tuple[ClientTool, ...] = ()  # S1b, validated by `mock_pokee.domain.tools`
    # K4: the tenant's skills when the session was made (a mapping never changed after)
    skills: Mapping[str, SkillVersion] = field(default_factory=dict)
    busy: bool = False

    @classmethod
    def create(
        cls,
        spec: SessionSpec,
        now: float,
        tools: tuple[ClientTool, ...] = (),
        skills: Mapping[str, SkillVersion] | None = None,
    ) -> Session:
        return cls(
            id=new_session_id(),
            created_at=now,
            last_activity=now,
            persistent=spec.persistent,
            ttl=spec.ttl,
            metadata=dict(spec.metadata),
            file_access=spec.file_access,
            model=spec.model,
            tools=tools,
            skills=skills if skills is not None else {},
        )

    @property
    def hard_deadline(self) -> float:
        """S7: the ttl bound, counted from creation, whatever the session does."""
        return self.created_at + self.ttl

    @property
    def idle_deadline(self) -> float | None:
        """S7: when an idle non-persistent session goes, counted from its last activity
        (None for a persistent one). Shown by ``GET /_mock/state``; `deadline` is the rule."""
        return None if self.persistent else self.last_activity + IDLE_TIMEOUT

    @property
    def deadline(self) -> float:
        """S7: the clock time at which this session stops existing, as things stand now.

        A busy session is never idle, so only the ttl bound applies to it; when its turn
        ends, ``last_activity`` moves and the idle deadline starts again from there.
        """
        if self.persistent or self.busy:
            return self.hard_deadline
        return min(self.hard_deadline, self.last_activity + IDLE_TIMEOUT)

    def expiry_reason(self) -> ExpiryReason:
        return "ttl" if self.deadline == self.hard_deadline else "idle"

    def is_expired(self, now: float) -> bool:
        """S7: visible while ``now < deadline``, gone from ``deadline`` on."""
        return now >= self.deadline

    def idle_for(self, now: float) -> float:
        """S6: how long since the last activity (``now - last_activity``)."""
        return now - self.last_activity

    def record(self) -> dict[str, Any]:
        """The S2 record, as S2, S3 and S4 return it."""
        record: dict[str, Any] = {
            "id": self.id,
            "created_at": self.created_at,
            "last_activity": self.last_activity,
            "busy": self.busy,
            "persistent": self.persistent,
            "ttl": self.ttl,
            "status": "ready",
            "metadata": self.metadata,
            "file_access": {"read": self.file_access.read, "write": self.file_access.write},
        }
        if self.model is not None:
            record["model"] = self.model
        return record
