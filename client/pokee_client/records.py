"""What the API answers, as typed values: the session record (S2), file entries (F3, F4),
skills (K1, K3) and usage (U1).

Fields the contract does not name are ignored (A8: responses grow additively); a field it
does name but that is missing or of the wrong type is a `ProtocolError`, raised here so that
no caller meets a half-built record.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from pokee_client.errors import ProtocolError

T = TypeVar("T")


def _field(body: Mapping[str, Any], name: str, kind: type[T], what: str) -> T:
    value = body.get(name)
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise ProtocolError(f"{what}: field {name!r} is {value!r}, expected {kind.__name__}")
    return value


def _object(body: object, what: str) -> Mapping[str, Any]:
    if not isinstance(body, dict):
        raise ProtocolError(f"{what}: expected a JSON object, got {type(body).__name__}")
    return body


@dataclass(frozen=True)
class FileAccess:
    """S1 ``file_access``: workspace path prefixes the session may read and write."""

    read: tuple[str, ...]
    write: tuple[str, ...]


@dataclass(frozen=True)
class Session:
    """The session record (S2), as S2, S3 and S4 return it."""

    id: str
    created_at: float
    last_activity: float
    busy: bool
    persistent: bool
    ttl: int
    status: str
    metadata: dict[str, Any]
    file_access: FileAccess
    model: str | None = None

    @classmethod
    def from_json(cls, body: object) -> Session:
        record = _object(body, "session record")
        what = f"session {record.get('id')!r}"
        access = _object(record.get("file_access"), f"{what} file_access")
        model = record.get("model")
        return cls(
            id=_field(record, "id", str, what),
            created_at=_field(record, "created_at", float, what),
            last_activity=_field(record, "last_activity", float, what),
            busy=_field(record, "busy", bool, what),
            persistent=_field(record, "persistent", bool, what),
            ttl=_field(record, "ttl", int, what),
            status=_field(record, "status", str, what),
            metadata=dict(_field(record, "metadata", dict, what)),
            file_access=FileAccess(
                read=tuple(_field(access, "read", list, what)),
                write=tuple(_field(access, "write", list, what)),
            ),
            model=model if isinstance(model, str) else None,
        )


@dataclass(frozen=True)
class FileEntry:
    """One entry of a directory listing (F4)."""

    name: str
    type: str  # "file" or "directory"
    size: int
    modified: float

    @property
    def is_dir(self) -> bool:
        return self.type == "directory"

    @classmethod
    def from_json(cls, body: object) -> FileEntry:
        entry = _object(body, "file entry")
        what = f"file entry {entry.get('name')!r}"
        return cls(
            name=_field(entry, "name", str, what),
            type=_field(entry, "type", str, what),
            size=_field(entry, "size", int, what),
            modified=_field(entry, "modified", float, what),
        )


@dataclass(frozen=True)
class StoredFile:
    """F3's answer to an upload."""

    path: str
    size: int
    modified: float

    @classmethod
    def from_json(cls, body: object) -> StoredFile:
        stored = _object(body, "upload answer")
        return cls(
            path=_field(stored, "path", str, "upload answer"),
            size=_field(stored, "size", int, "upload answer"),
            modified=_field(stored, "modified", float, "upload answer"),
        )


@dataclass(frozen=True)
class InstalledSkill:
    """K1's answer to an install: the bundle's files (sorted, its wrapper folder
    stripped), their bytes in all, and the size of its SKILL.md."""

    name: str
    files: tuple[str, ...]
    total_bytes: int
    skill_md_size: int

    @classmethod
    def from_json(cls, body: object) -> InstalledSkill:
        answer = _object(body, "skill install answer")
        what = f"skill {answer.get('name')!r}"
        files = _field(answer, "files", list, what)
        if not all(isinstance(path, str) for path in files):
            raise ProtocolError(f"{what}: field 'files' holds something that is not a path")
        return cls(
            name=_field(answer, "name", str, what),
            files=tuple(files),
            total_bytes=_field(answer, "total_bytes", int, what),
            skill_md_size=_field(answer, "skill_md_size", int, what),
        )


@dataclass(frozen=True)
class Skill:
    """One installed skill, as K3 lists it."""

    name: str
    skill_md_size: int
    modified: float

    @classmethod
    def from_json(cls, body: object) -> Skill:
        entry = _object(body, "skill entry")
        what = f"skill {entry.get('name')!r}"
        return cls(
            name=_field(entry, "name", str, what),
            skill_md_size=_field(entry, "skill_md_size", int, what),
            modified=_field(entry, "modified", float, what),
        )


@dataclass(frozen=True)
class UsageWindow:
    """One window of a U1 bucket (``hour`` or ``day``)."""

    name: str
    duration_seconds: int
    turns: int
    max_turns: int
    tokens: int
    max_tokens: int
    enabled: bool

    @classmethod
    def from_json(cls, body: object) -> UsageWindow:
        window = _object(body, "usage window")
        what = f"usage window {window.get('name')!r}"
        return cls(
            name=_field(window, "name", str, what),
            duration_seconds=_field(window, "duration_seconds", int, what),
            turns=_field(window, "turns", int, what),
            max_turns=_field(window, "max_turns", int, what),
            tokens=_field(window, "tokens", int, what),
            max_tokens=_field(window, "max_tokens", int, what),
            enabled=_field(window, "enabled", bool, what),
        )


@dataclass(frozen=True)
class Credits:
    """U1/U2 credits."""

    enabled: bool
    mode: str
    balance: float


@dataclass(frozen=True)
class Usage:
    """U1: the tenant's rate-limit windows per bucket, and its credits."""

    caller_id: str
    session_turn: tuple[UsageWindow, ...]
    response: tuple[UsageWindow, ...]
    credits: Credits

    def window(self, name: str) -> UsageWindow:
        """The ``session_turn`` window called ``name`` (``"hour"`` or ``"day"``)."""
        for window in self.session_turn:
            if window.name == name:
                return window
        raise KeyError(name)

    @classmethod
    def from_json(cls, body: object) -> Usage:
        usage = _object(body, "usage")
        limits = _object(usage.get("rate_limit"), "usage rate_limit")
        buckets = _object(limits.get("buckets"), "usage buckets")
        credits = _object(usage.get("credits"), "usage credits")

        def windows(bucket: str) -> tuple[UsageWindow, ...]:
            listed = _field(_object(buckets.get(bucket), bucket), "windows", list, bucket)
            return tuple(UsageWindow.from_json(w) for w in listed)

        return cls(
            caller_id=_field(limits, "caller_id", str, "usage"),
            session_turn=windows("session_turn"),
            response=windows("response"),
            credits=Credits(
                enabled=_field(credits, "enabled", bool, "credits"),
                mode=_field(credits, "mode", str, "credits"),
                balance=_field(credits, "balance", float, "credits"),
            ),
        )
