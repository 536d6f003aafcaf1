"""A tenant's workspace on disk (contract F1–F7).

Files outlive sessions (F1); a session only selects the access scope (`scopes`). Paths
arrive already checked (`paths`); here they meet the disk:

- Every write goes first to a staging folder beside the tenants' folders
  (``<workspace>/.staging/<tenant>/``, outside anything a path can name, on the same
  filesystem) and is renamed into place when complete. So a listing never shows half a
  file (F7), an upload over the limit or cut short leaves nothing behind, not even the
  folders it would have created (F3), and every file in the tree is a user's file, listed
  and deletable.
- A download opens the file once and reads only from that handle (`OpenFile`): an
  overwrite or a delete that lands while it is served replaces or unlinks the name, not
  the bytes being sent, so the body is exactly one version.
- Modification times of files and folders are the tenant's clock time (C1): a folder's
  is when an entry was last added to or removed from it, as on a filesystem.
- A reset (`clear`) also refuses to commit the uploads under way when it happened.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import Any

from mock_pokee.domain.errors import (
    DomainError,
    ForbiddenPath,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
)
from mock_pokee.domain.scopes import Grant
from mock_pokee.limits import WORKSPACE_LIMIT

STAGING_FOLDER = ".staging"  # no tenant name can start with a dot


@contextlib.contextmanager
def out_of_descriptors() -> Iterator[None]:
    """A process out of file descriptors (EMFILE, ENFILE) cannot take the request now:
    503 with ``Retry-After`` (A7), never a 500."""
    try:
        yield
    except OSError as error:
        if error.errno in (errno.EMFILE, errno.ENFILE):
            raise ServiceUnavailable(
                "the server has too many files open; try again shortly", retry_after=1
            ) from None
        raise


async def _starting_with(first: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    yield first
    async for chunk in rest:
        yield chunk


def _name(path: PurePosixPath) -> str:
    return path.as_posix() if path.parts else ""


@dataclass(slots=True)
class OpenFile:
    """One version of a file, held open: what a download serves, whatever happens to the
    name meanwhile. The caller closes it."""

    fd: int
    size: int
    modified: float
    etag: str

    def read(self, offset: int, length: int) -> bytes:
        return os.pread(self.fd, length, offset)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.fd)


class Staged:
    """A body received into the staging folder, not yet in the tree. Leaving the
    ``with`` block removes it unless `Workspace.commit` moved it into place."""

    def __init__(self, temporary: Path, size: int, epoch: int):
        self.temporary = temporary
        self.size = size
        self.epoch = epoch
        self.committed = False

    def __enter__(self) -> Staged:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if not self.committed:
            self.temporary.unlink(missing_ok=True)


class Workspace:
    def __init__(self, root: Path, limit: int = WORKSPACE_LIMIT):
        self.root = root
        self.staging = root.parent / STAGING_FOLDER / root.name
        self.limit = limit  # F9: bytes of every file together
        self._epoch = 0  # bumped by each reset: uploads begun before one are not stored
        self._used: int | None = None  # bytes stored, counted once then kept up to date

    # -- the limit (F9) -----------------------------------------------------------------

    @property
    def used(self) -> int:
        """Bytes of every file, counted from the disk the first time (a --workspace may
        hold files already), then kept up to date by commits and deletes."""
        if self._used is None:
            self._used = sum(file["size"] for file in self.files())
        return self._used

    def _check_room(self, adding: int, replacing: int) -> None:
        after = self.used - replacing + adding
        if after > self.limit:
            raise PayloadTooLarge(
                f"workspace: storing {adding} bytes would pass the workspace limit of "
                f"{self.limit} bytes ({self.used} used); delete files first"
            )

    def check_declared(self, path: PurePosixPath, declared: int) -> None:
        """F9 before a body is read: one that announces more than the room left (what a
        file it replaces takes is room too)."""
        self._check_room(declared, self._size_of(path))

    def _size_of(self, path: PurePosixPath) -> int:
        _, existing = self._stat(path)
        return existing.st_size if existing is not None and stat.S_ISREG(existing.st_mode) else 0

    # -- locating (F2) ------------------------------------------------------------------

    def locate(self, path: PurePosixPath) -> Path:
        """The real location of ``path``; refused if it resolves outside the root (F2),
        symbolic links included."""
        root = self.root.resolve()
        target = (root / path).resolve()
        if target != root and not target.is_relative_to(root):
            raise ForbiddenPath(f"path {_name(path)!r}: outside the workspace")
        return target

    def real_path(self, path: PurePosixPath) -> PurePosixPath:
        """Where ``path`` leads once symbolic links are followed, relative to the root
        (the path itself unless a link is on the way): what a scope must cover too."""
        target = self.locate(path)
        return PurePosixPath(target.relative_to(self.root.resolve()).as_posix())

    def _under_a_file(self, path: PurePosixPath) -> ForbiddenPath | None:
        """F8 [C]: a path under an existing file (``a.txt/b``) is 403, never a 500."""
        for ancestor in reversed(path.parents[:-1]):  # from the top down
            location = self.root / ancestor
            if location.is_file():
                return ForbiddenPath(
                    f"path {_name(path)!r}: {_name(ancestor)!r} is a file, not a folder"
                )
            if not location.is_dir():
                return None
        return None

    def _missing(self, path: PurePosixPath, error: OSError) -> DomainError:
        """What a path that could not be found is: under a file (403), or not there (404)."""
        under_a_file = self._under_a_file(path)
        if under_a_file is not None:
            return under_a_file
        if isinstance(error, NotADirectoryError):  # the file left again meanwhile
            return ForbiddenPath(f"path {_name(path)!r}: a parent is not a folder")
        return NotFound(f"path {_name(path)!r}: no such file or directory")

    def _stat(self, path: PurePosixPath) -> tuple[Path, os.stat_result | None]:
        """The location of ``path`` and what is there (None: nothing)."""
        target = self.locate(path)
        try:
            return target, target.stat()
        except (FileNotFoundError, NotADirectoryError) as error:
            missing = self._missing(path, error)
            if isinstance(missing, NotFound):
                return target, None
            raise missing from None

    # -- reading (F4, F5) ---------------------------------------------------------------

    def listing(self, path: PurePosixPath, grant: Grant) -> list[dict[str, Any]]:
        """F4: the entries of a directory that ``grant`` shows, sorted by name in
        code-point order."""
        target, info = self._stat(path)
        if info is None and not path.parts:
            return []  # the tenant has stored nothing yet
        if info is None or not stat.S_ISDIR(info.st_mode):
            raise NotFound(f"path {_name(path)!r}: no such directory")
        entries = []
        with os.scandir(target) as found:
            for entry in found:
                if entry.is_symlink():
                    continue
                is_dir = entry.is_dir()
                if not grant.shows(entry.name, is_dir):
                    continue
                details = entry.stat()
                entries.append(
                    {
                        "name": entry.name,
                        "type": "directory" if is_dir else "file",
                        "size": 0 if is_dir else details.st_size,
                        "modified": details.st_mtime,
                    }
                )
        entries.sort(key=lambda e: e["name"])
        return entries

    def open_file(self, path: PurePosixPath) -> OpenFile | None:
        """F5: the file at ``path``, open; None if it is a directory; `NotFound` if
        nothing is there (deleted a moment ago included)."""
        target = self.locate(path)
        try:  # non-blocking: a FIFO someone made in the folder must not stall the server
            with out_of_descriptors():
                fd = os.open(target, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
        except (FileNotFoundError, NotADirectoryError) as error:
            if not path.parts:
                return None  # the root, before the tenant stored anything
            raise self._missing(path, error) from None
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            os.close(fd)
            if stat.S_ISDIR(info.st_mode):
                return None
            raise NotFound(f"path {_name(path)!r}: not a file or directory")
        # The inode and change time tell two versions apart even when a frozen clock
        # gives them the same modification time and size.
        tag = f'"{info.st_ino:x}-{info.st_ctime_ns:x}-{info.st_mtime_ns:x}-{info.st_size:x}"'
        return OpenFile(fd, info.st_size, info.st_mtime, tag)

    # -- writing (F3, F6, F7) ---------------------------------------------------------------

    def check_writable(self, path: PurePosixPath) -> None:
        """Whether a file could be stored at ``path`` now (checked again at commit)."""
        if not path.parts:
            raise ForbiddenPath("path '': a file needs a name")
        _, info = self._stat(path)
        if info is not None and stat.S_ISDIR(info.st_mode):
            raise ForbiddenPath(f"path {_name(path)!r}: is a directory")

    async def receive(self, chunks: AsyncIterator[bytes], limit: int) -> Staged:
        """F3: stream a body into the staging folder, enforcing ``limit`` while reading.

        The staging file is opened with the first bytes, so an upload that has sent none
        holds no file descriptor. Chunks are written synchronously: they are small and the
        disk is local, and a thread hop per chunk would cost more than the write.
        """
        epoch = self._epoch
        body = aiter(chunks)
        first = await anext(body, b"")
        with self._staging_file() as (out, temporary):
            size = 0
            async for chunk in _starting_with(first, body):
                size += len(chunk)
                if size > limit:
                    raise PayloadTooLarge(f"body: larger than the upload limit of {limit} bytes")
                out.write(chunk)
        return Staged(temporary, size, epoch)

    def write(self, path: PurePosixPath, data: bytes, now: float) -> dict[str, Any]:
        """A turn's file (F7): staged, then committed at once."""
        self.check_writable(path)
        with self._staging_file() as (out, temporary):
            out.write(data)
        with Staged(temporary, len(data), self._epoch) as staged:
            return self.commit(path, staged, now)

    def commit(self, path: PurePosixPath, staged: Staged, now: float) -> dict[str, Any]:
        """Move a staged body to ``path``: F3's ``{"path", "size", "modified"}``.

        Synchronous from the checks to the rename, so nothing can change in between.
        """
        if staged.epoch != self._epoch:
            raise NotFound(
                f"path {_name(path)!r}: the tenant was reset while the body was sent; "
                "nothing was stored"
            )
        self.check_writable(path)
        target = self.locate(path)
        replacing = self._size_of(path)
        self._check_room(staged.size, replacing)
        self.root.mkdir(parents=True, exist_ok=True)
        created = self._make_parents(target.parent)
        try:
            self.locate(path)  # again, now that the parents exist (a symlink among them)
            os.utime(staged.temporary, (now, now))
            os.replace(staged.temporary, target)
        except BaseException:
            for folder in reversed(created):
                with contextlib.suppress(OSError):
                    folder.rmdir()
            raise
        staged.committed = True
        self._used = self.used - replacing + staged.size
        # The folders whose entries changed: each one created, and the one it was made in
        # (or, if none was created, the file's own folder).
        changed = [created[0].parent, *created] if created else [target.parent]
        for folder in changed:
            os.utime(folder, (now, now))
        return {"path": _name(path), "size": staged.size, "modified": now}

    def delete(self, path: PurePosixPath, now: float) -> None:
        """F6: a file only."""
        target, info = self._stat(path)
        if info is not None and stat.S_ISDIR(info.st_mode):
            raise NotFound(f"path {_name(path)!r}: is a folder; only files can be deleted")
        if info is None or not stat.S_ISREG(info.st_mode):
            raise NotFound(f"path {_name(path)!r}: no such file")
        target.unlink()
        if self._used is not None:
            self._used -= info.st_size
        os.utime(target.parent, (now, now))

    @contextlib.contextmanager
    def _staging_file(self) -> Iterator[tuple[Any, Path]]:
        self.staging.mkdir(parents=True, exist_ok=True)
        with out_of_descriptors():
            handle, name = tempfile.mkstemp(dir=self.staging)
        temporary = Path(name)
        try:
            with os.fdopen(handle, "wb") as out:
                yield out, temporary
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise

    def _make_parents(self, folder: Path) -> list[Path]:
        """Create ``folder`` and its missing parents; returns those created, top first."""
        missing = []
        while not folder.is_dir():
            missing.append(folder)
            folder = folder.parent
        for created in reversed(missing):
            created.mkdir()
        return list(reversed(missing))

    # -- the control plane (C3) -----------------------------------------------------------

    def files(self) -> list[dict[str, Any]]:
        """Every file, for ``GET /_mock/state``."""
        found = []
        for folder, _, names in os.walk(self.root):
            for name in names:
                location = Path(folder) / name
                if not location.is_symlink() and location.is_file():
                    path = location.relative_to(self.root).as_posix()
                    found.append({"path": path, "size": location.stat().st_size})
        return sorted(found, key=lambda f: f["path"])

    def clear(self) -> None:
        """Remove every file; uploads under way are not stored (see `commit`)."""
        self._epoch += 1
        shutil.rmtree(self.root, ignore_errors=True)
        shutil.rmtree(self.staging, ignore_errors=True)
        self._used = 0
