"""The syntax of workspace paths (contract F2) and of ``file_access`` entries (F8).

One rule serves both: a path the files API accepts and an entry a session may be created
with are spelled the same way, so an entry can never name something no request could
reach, and a refused path is refused for the same reason everywhere (routes and turns).

Limits the contract leaves open (README, "Files"): a segment is at most 255 bytes of UTF-8
(what every common filesystem allows) and a whole path at most 1,024 bytes (S3's key
limit; a fixed number, so that a path accepted on one host is accepted on every host,
whatever the length of the folder the workspace lives in).
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from mock_pokee.domain.errors import ForbiddenPath
from mock_pokee.limits import MAX_PATH_BYTES, MAX_SEGMENT_BYTES

_ENCODED = re.compile(r"%(2e|2f|5c|00)", re.IGNORECASE)
# Unicode category Cc (C0, DEL, C1: U+0085 included) and lone surrogates (Cs), which no
# filesystem name should hold and which cannot be encoded back to UTF-8.
_UNSAFE_CHARACTER = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def check_raw_path(raw: str) -> None:
    """F2, before decoding: encoded dots, separators and NULs are refused outright."""
    if _ENCODED.search(raw):
        raise ForbiddenPath(
            f"path {quoted(raw)}: encoded dots, slashes, backslashes and NULs are not allowed"
        )


def path_problem(text: str) -> str | None:
    """Why ``text`` is not a safe workspace-relative path, or None (``""`` is the root).

    Refused: absolute paths, backslashes, control characters and lone surrogates, empty
    segments (doubled slashes), ``.`` and ``..`` segments, and names too long to store.
    Linear in the length of ``text``.
    """
    if text.startswith("/"):
        return "must be relative to the workspace root (no leading '/')"
    if "\\" in text:
        return "backslashes are not allowed; use '/'"
    if _UNSAFE_CHARACTER.search(text):
        return "control characters and lone surrogates are not allowed"
    if not text:
        return None
    if len(text.encode()) > MAX_PATH_BYTES:
        return f"longer than {MAX_PATH_BYTES} bytes"
    for segment in text.split("/"):
        if segment in ("", ".", ".."):
            return "empty, '.' and '..' segments are not allowed"
        if len(segment.encode()) > MAX_SEGMENT_BYTES:
            return f"a segment is longer than {MAX_SEGMENT_BYTES} bytes"
    return None


def check_relative_path(text: str) -> PurePosixPath:
    """F2: a workspace-relative, ``/``-separated path with no way out of the root."""
    problem = path_problem(text)
    if problem is not None:
        raise ForbiddenPath(f"path {quoted(text)}: {problem}")
    return PurePosixPath(text)  # "" is the root, PurePosixPath()


def scope_entry_problem(entry: str) -> str | None:
    """F8: why ``entry`` cannot be a ``file_access`` entry, or None. One trailing slash is
    allowed and means nothing (``out/`` = ``out``); ``""`` is the whole workspace."""
    if entry.startswith("/"):
        return "must be relative to the workspace root (no leading '/')"
    return path_problem(entry.removesuffix("/"))


def entry_segments(entry: str) -> tuple[str, ...]:
    """The segments of a valid entry: ``""`` → ``()``, ``"out/"`` → ``("out",)``."""
    stripped = entry.removesuffix("/")
    return tuple(stripped.split("/")) if stripped else ()


def quoted(text: str, limit: int = 200) -> str:
    """``text`` quoted for a message: escaped (control characters, surrogates, so that the
    message can always be encoded) and cut short."""
    shown = repr(text[:limit])
    return shown + "…" if len(text) > limit else shown
