"""Who may touch which path: a session's scope (contract F8), decided in one place.

`authorize` is the only check of ``file_access``: the files routes (list, download, upload,
delete) and the files a turn writes all call it, so the agent and the API can never
disagree about a path.

- An entry covers itself and what lies under it, segment by segment: ``projects/acme``
  covers ``projects/acme/x`` but not ``projects/acme-corp/x``. ``""`` covers everything.
- ``write`` implies ``read``; ``.sessions/{id}/`` is always readable and writable by the
  session ``{id}``.
- A directory above the scope can be listed, but shows only the entries that lead to
  in-scope paths (a `Grant` that is not ``full``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Literal

from mock_pokee.domain.errors import ForbiddenPath
from mock_pokee.domain.sessions import Session

# "list": read a directory, or a file if the grant is full (a download does not know
# which it is until it looks).
Need = Literal["read", "write", "list"]

SESSIONS_FOLDER = ".sessions"


@dataclass(frozen=True, slots=True)
class Grant:
    """What a session may see of a path: all of it, or (a directory above its scope) the
    children named in ``covered`` (in scope themselves) and in ``leading`` (directories
    on the way to the scope)."""

    full: bool
    covered: frozenset[str] = frozenset()
    leading: frozenset[str] = frozenset()

    def shows(self, name: str, is_directory: bool) -> bool:
        """Whether a listing under this grant shows the child ``name``."""
        return self.full or name in self.covered or (is_directory and name in self.leading)


FULL = Grant(full=True)


def authorize(session: Session, path: PurePosixPath, need: Need) -> Grant:
    """F8: what ``session`` may do with ``path`` (already F2-checked), or `ForbiddenPath`
    with the documented message ``'<path>' not in session scope``."""
    own = (SESSIONS_FOLDER, session.id)
    access = session.file_access
    entries = access.write_entries if need == "write" else access.read_entries
    parts = path.parts
    if _covers(entries, parts) or parts[:2] == own:
        return FULL
    if need == "list":
        grant = _leading_to(entries, parts, own)
        if grant is not None:
            return grant
    raise not_in_scope(path)


def not_in_scope(path: PurePosixPath) -> ForbiddenPath:
    return ForbiddenPath(f"'{path.as_posix() if path.parts else ''}' not in session scope")


def _covers(entries: Iterable[tuple[str, ...]], parts: tuple[str, ...]) -> bool:
    return any(parts[: len(entry)] == entry for entry in entries)


def _leading_to(
    entries: Iterable[tuple[str, ...]], parts: tuple[str, ...], own: tuple[str, ...]
) -> Grant | None:
    """The partial grant of a directory above some entries, or None if it is above none."""
    depth = len(parts)
    below = [e for e in (*entries, own) if len(e) > depth and e[:depth] == parts]
    if not below:
        return None
    return Grant(
        full=False,
        covered=frozenset(e[depth] for e in below if len(e) == depth + 1),
        leading=frozenset(e[depth] for e in below if len(e) > depth + 1),
    )
