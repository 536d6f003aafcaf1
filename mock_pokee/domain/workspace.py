"""A tenant's workspace on disk (contract F1–F7) and the path rules (F2), in one place.

Files outlive sessions (F1); a session only selects the access scope (``file_access``).
Everything is written under a temporary name and renamed into place, so a listing never
shows half a file (F7), an upload over the limit leaves nothing behind and an overwritten
file keeps its old content until the new one is complete (F3). Modification times are
the tenant's clock time (C1).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from mock_pokee.domain.errors import ForbiddenPath, NotFound, PayloadTooLarge

PARTIAL_PREFIX = ".partial-"
_ENCODED = re.compile(r"%(2e|2f|5c|00)", re.IGNORECASE)

Access = Literal["read", "write"]


def check_raw_path(raw: str) -> None:
    """F2, before decoding: encoded dots, separators and NULs are refused outright."""
    if _ENCODED.search(raw):
        raise ForbiddenPath(
            f"path {raw!r}: encoded dots, slashes, backslashes and NULs are not allowed"
        )


def check_relative_path(path: str) -> PurePosixPath:
    """F2: a workspace-relative, ``/``-separated path with no way out of the root.

    Refused: absolute paths, backslashes, NUL and other control characters, empty
    segments (doubled slashes), and ``.`` or ``..`` segments.
    """
    if path.startswith("/"):
        raise ForbiddenPath(f"path {path!r}: must be relative to the workspace root")
    if "\\" in path:
        raise ForbiddenPath(f"path {path!r}: backslashes are not allowed; use '/'")
    if any(ord(c) < 32 or ord(c) == 127 for c in path):
        raise ForbiddenPath(f"path {path!r}: control characters are not allowed")
    segments = path.split("/")
    if path and any(segment in ("", ".", "..") for segment in segments):
        raise ForbiddenPath(f"path {path!r}: empty, '.' and '..' segments are not allowed")
    return PurePosixPath(path) if path else PurePosixPath()


def allowed(path: PurePosixPath, prefixes: list[str], *, directory: bool = False) -> bool:
    """S1 ``file_access``: ``""`` is the whole workspace; otherwise a path prefix.

    A directory is inside a prefix when its path with a trailing ``/`` is.
    """
    text = str(path) if path.parts else ""
    if directory and text:
        text += "/"
    return any(prefix == "" or text.startswith(prefix) for prefix in prefixes)


class Workspace:
    def __init__(self, root: Path):
        self.root = root

    def locate(self, path: PurePosixPath) -> Path:
        """The real location of ``path``; refused if it resolves outside the root (F2),
        symbolic links included."""
        root = self.root.resolve()
        target = (root / path).resolve()
        if target != root and not target.is_relative_to(root):
            raise ForbiddenPath(f"path {str(path)!r}: outside the workspace")
        return target

    def kind(self, path: PurePosixPath) -> Literal["file", "directory"] | None:
        target = self.locate(path)
        if target.is_file():
            return "file"
        if target.is_dir() or not path.parts:
            return "directory"
        return None

    def listing(self, path: PurePosixPath) -> list[dict[str, Any]]:
        """F4: entries of a directory, sorted by name in code-point order."""
        target = self.locate(path)
        if path.parts and not target.is_dir():
            raise NotFound(f"path {str(path)!r}: no such directory")
        if not target.is_dir():
            return []
        entries = []
        for entry in sorted(target.iterdir(), key=lambda e: e.name):
            if entry.name.startswith(PARTIAL_PREFIX) or entry.is_symlink():
                continue
            info = entry.stat()
            is_dir = entry.is_dir()
            entries.append(
                {
                    "name": entry.name,
                    "type": "directory" if is_dir else "file",
                    "size": 0 if is_dir else info.st_size,
                    "modified": info.st_mtime,
                }
            )
        return entries

    def write(self, path: PurePosixPath, data: bytes, now: float) -> dict[str, Any]:
        """Write ``data`` atomically (F7); returns F3's ``{"path", "size", "modified"}``."""
        target, (handle, name) = self._begin(path)
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
        except BaseException:
            Path(name).unlink(missing_ok=True)
            raise
        return self._commit(path, target, Path(name), now)

    async def upload(
        self, path: PurePosixPath, chunks: AsyncIterator[bytes], limit: int, now: float
    ) -> dict[str, Any]:
        """F3: stream to disk, enforcing ``limit`` while reading; nothing is stored on 413.

        Chunks are written synchronously: they are small and the disk is local, and a
        thread hop per chunk would cost more than the write.
        """
        target, (handle, name) = self._begin(path)
        temporary = Path(name)
        size = 0
        try:
            with os.fdopen(handle, "wb") as out:
                async for chunk in chunks:
                    size += len(chunk)
                    if size > limit:
                        raise PayloadTooLarge(
                            f"body: larger than the upload limit of {limit} bytes"
                        )
                    out.write(chunk)
        except BaseException:
            temporary.unlink(missing_ok=True)  # noqa: ASYNC240 (see the docstring)
            raise
        return self._commit(path, target, temporary, now)

    def delete(self, path: PurePosixPath) -> None:
        """F6: a file only."""
        target = self.locate(path)
        if not target.is_file() or target.name.startswith(PARTIAL_PREFIX):
            raise NotFound(f"path {str(path)!r}: no such file")
        target.unlink()

    def _begin(self, path: PurePosixPath) -> tuple[Path, tuple[int, str]]:
        if not path.parts:
            raise ForbiddenPath("path '': a file needs a name")
        target = self.locate(path)
        if target.is_dir():
            raise ForbiddenPath(f"path {str(path)!r}: is a directory")
        target.parent.mkdir(parents=True, exist_ok=True)
        self.locate(path)  # again, now that the parents exist (a symlink among them)
        return target, tempfile.mkstemp(dir=target.parent, prefix=PARTIAL_PREFIX)

    @staticmethod
    def _commit(path: PurePosixPath, target: Path, temporary: Path, now: float) -> dict[str, Any]:
        try:
            os.utime(temporary, (now, now))
            os.replace(temporary, target)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        return {"path": str(path), "size": target.stat().st_size, "modified": now}

    def files(self) -> list[dict[str, Any]]:
        """Every file, for ``GET /_mock/state``."""
        if not self.root.exists():
            return []
        return [
            {"path": p.relative_to(self.root).as_posix(), "size": p.stat().st_size}
            for p in sorted(self.root.rglob("*"))
            if p.is_file() and not p.name.startswith(PARTIAL_PREFIX)
        ]

    def clear(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
