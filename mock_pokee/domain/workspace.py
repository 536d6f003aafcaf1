"""A tenant's workspace on disk (contract F1, F7), as far as turns need it so far.

Files outlive sessions. A turn's write lands under a temporary name and is renamed into
place, so a listing never shows half a file (F7). The files API (issue 4) serves these.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path, PurePosixPath
from typing import Any

from mock_pokee.domain.errors import ForbiddenPath


def check_relative_path(path: str) -> PurePosixPath:
    """F2: a workspace-relative, ``/``-separated path with no way out of the root."""
    if not path or path.startswith("/") or "\\" in path:
        raise ForbiddenPath(f"path {path!r}: must be relative, '/'-separated")
    if any(ord(c) < 32 or ord(c) == 127 for c in path):
        raise ForbiddenPath(f"path {path!r}: control characters are not allowed")
    parts = PurePosixPath(path).parts
    if any(part in ("..", ".") for part in path.split("/")) or not parts:
        raise ForbiddenPath(f"path {path!r}: '.' and '..' segments are not allowed")
    return PurePosixPath(*parts)


def allowed(path: PurePosixPath, prefixes: list[str]) -> bool:
    """``file_access`` (S1): ``""`` is the whole workspace; otherwise a path prefix."""
    text = str(path)
    return any(text.startswith(prefix) for prefix in prefixes)


class Workspace:
    def __init__(self, root: Path):
        self.root = root

    def _resolve(self, path: PurePosixPath) -> Path:
        target = (self.root / path).resolve()
        if not target.is_relative_to(self.root.resolve()):
            raise ForbiddenPath(f"path {str(path)!r}: outside the workspace")
        return target

    def write(self, path: PurePosixPath, data: bytes, now: float) -> dict[str, Any]:
        """Write atomically (F7); returns ``{"path", "size", "modified"}`` (F3's shape).

        The file's modification time is set to ``now``, the tenant's clock time (C1).
        """
        target = self._resolve(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".partial-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.utime(temporary, (now, now))
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return {"path": str(path), "size": len(data), "modified": now}

    def files(self) -> list[dict[str, Any]]:
        """Every file, for ``GET /_mock/state``."""
        if not self.root.exists():
            return []
        return [
            {"path": p.relative_to(self.root).as_posix(), "size": p.stat().st_size}
            for p in sorted(self.root.rglob("*"))
            if p.is_file() and not p.name.startswith(".partial-")
        ]

    def clear(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
