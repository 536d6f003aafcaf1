"""Unpacking a skill bundle (contract K1, K2): a zip from a stranger, read as hostile.

Nothing a zip says about itself is trusted to bound the work it makes:

- sizes are counted as the bytes come out of the decompressor, and a file is cut off (and
  the bundle refused) before the byte that would pass a limit is written, whatever the
  headers declare: a zip bomb stops at `MAX_FILE_BYTES` or `MAX_TOTAL_BYTES`;
- the central directory is measured before `zipfile` reads it (`zipfile` keeps an object per
  entry it lists, so a directory of a million one-byte names would cost hundreds of MB
  before the entry count could be checked);
- only stored and deflated entries are read: `zipfile` decompresses a bzip2 or LZMA chunk
  with no bound on its output, so one small read could expand to gigabytes in memory;
- every entry is checked (name, type, flags, duplicates) before anything is written, so a
  bundle refused for its names leaves not even its staging folder behind;
- files are created with ``O_EXCL | O_NOFOLLOW`` in a folder only this code writes, so no
  entry can reach outside it, and two names one disk treats as one are refused.

`unpack` runs in a worker thread (the caller's job): it reads and writes up to 50 MB.
"""

from __future__ import annotations

import os
import re
import stat
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from mock_pokee.domain.errors import InvalidRequest, PayloadTooLarge
from mock_pokee.domain.paths import path_problem, quoted
from mock_pokee.limits import (
    MAX_CENTRAL_DIRECTORY,
    MAX_ENTRIES,
    MAX_FILE_BYTES,
    MAX_FIRST_LINE,
    MAX_TOTAL_BYTES,
)

CHUNK = 64 * 1024  # bytes decompressed at a time: what one file costs in memory

SKILL_FILE = "SKILL.md"
_READABLE = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflate"}
_ENCRYPTED = 0x1 | 0x40  # general purpose flags: traditional and strong encryption
_DOS_DIRECTORY = 0x10  # the MS-DOS attribute bit zips made on Windows carry
_DRIVE = re.compile(r"^[A-Za-z]:")


@dataclass(frozen=True, slots=True)
class Bundle:
    """What a bundle unpacked to: K1's answer, and SKILL.md's first line (K4)."""

    files: tuple[str, ...]  # sorted, without the wrapper folder
    total_bytes: int
    skill_md_size: int
    first_line: str


@dataclass(frozen=True, slots=True)
class _Entry:
    info: zipfile.ZipInfo
    path: PurePosixPath  # as named in the zip, checked
    is_dir: bool


def unpack(bundle: Path, into: Path) -> Bundle:
    """Check the zip at ``bundle`` and unpack it into ``into`` (made here; the caller
    removes it on failure). `InvalidRequest` (400) for what is not a skill bundle,
    `PayloadTooLarge` (413) naming the limit a bundle passes."""
    with bundle.open("rb") as raw:
        _check_central_directory(raw)
        try:
            archive = zipfile.ZipFile(raw)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, struct.error) as error:
            raise InvalidRequest(f"body: not a zip archive ({error})") from None
        except UnicodeDecodeError:
            raise InvalidRequest("body: an entry's name is flagged UTF-8 but is not") from None
        with archive:
            entries = _checked_entries(archive)
            wrapper = _wrapper(entries)
            into.mkdir()
            return _extract(archive, entries, wrapper, into)


def _check_central_directory(raw: BinaryIO) -> None:
    """Refuse a central directory larger than `MAX_CENTRAL_DIRECTORY` before `zipfile`
    parses it. The end record is found exactly as `zipfile` finds it (at the very end
    when there is no comment, else the last signature in the final 64 KiB, then the
    Zip64 record before its locator), so the size measured is the size it would read.
    A file without one is left to `zipfile` to refuse."""
    size = raw.seek(0, os.SEEK_END)
    tail_start = max(size - (1 << 16) - 22, 0)
    raw.seek(tail_start)
    tail = raw.read()
    if len(tail) >= 22 and tail[-22:-18] == b"PK\x05\x06" and tail[-2:] == b"\0\0":
        at = len(tail) - 22
    else:
        at = tail.rfind(b"PK\x05\x06")
        if at < 0 or len(tail) - at < 22:
            return
    directory_size = struct.unpack("<L", tail[at + 12 : at + 16])[0]
    end = tail_start + at  # where the end record starts in the file
    if end >= 20 + 56:
        raw.seek(end - 20)
        locator = raw.read(20)
        if locator[:4] == b"PK\x06\x07":
            raw.seek(end - 20 - 56)
            record = raw.read(56)
            if record[:4] == b"PK\x06\x06":
                directory_size = struct.unpack("<Q", record[40:48])[0]
    if directory_size > MAX_CENTRAL_DIRECTORY:
        raise PayloadTooLarge(
            f"bundle: its central directory takes {directory_size} bytes, more than the "
            f"{MAX_CENTRAL_DIRECTORY} that room for the limit of {MAX_ENTRIES:,} entries "
            "needs; nothing was installed"
        )


def _checked_entries(archive: zipfile.ZipFile) -> list[_Entry]:
    """Every entry, checked before anything is written (K2)."""
    infos = archive.infolist()
    if len(infos) > MAX_ENTRIES:
        raise PayloadTooLarge(
            f"bundle: {len(infos)} entries, more than the limit of {MAX_ENTRIES:,}; "
            "nothing was installed"
        )
    entries: list[_Entry] = []
    seen: dict[str, bool] = {}  # path -> is a folder
    for info in infos:
        entry = _checked_entry(info)
        name = entry.path.as_posix()
        if name in seen and not (entry.is_dir and seen[name]):
            raise InvalidRequest(f"bundle: two entries are named {quoted(name)}")
        seen[name] = entry.is_dir
        entries.append(entry)
    for name in seen:  # a file cannot also be the folder of other entries
        for parent in PurePosixPath(name).parents[:-1]:
            if seen.get(parent.as_posix()) is False:
                raise InvalidRequest(
                    f"bundle: {quoted(parent.as_posix())} is a file and also the folder of "
                    f"{quoted(name)}"
                )
    return entries


def _checked_entry(info: zipfile.ZipInfo) -> _Entry:
    """One entry's name, type and flags (K2; README "Skills" for the [C] details)."""
    raw_name = info.orig_filename  # before zipfile cut it at a NUL
    name = raw_name.removesuffix("/")
    shown = quoted(raw_name)
    if info.flag_bits & _ENCRYPTED:
        raise InvalidRequest(f"bundle: entry {shown} is encrypted; send it unencrypted")
    if raw_name.startswith("/"):
        raise InvalidRequest(f"bundle: entry {shown} has an absolute path")
    if "\\" in raw_name:
        raise InvalidRequest(f"bundle: entry {shown} has a backslash; zip paths use '/'")
    if _DRIVE.match(raw_name):
        raise InvalidRequest(f"bundle: entry {shown} starts with a drive letter")
    if ".." in name.split("/"):
        raise InvalidRequest(f"bundle: entry {shown} climbs out with '..' (path traversal)")
    problem = "an empty name" if not name else path_problem(name)
    if problem is not None:
        raise InvalidRequest(f"bundle: entry {shown}: {problem}")
    mode = info.external_attr >> 16
    kind = stat.S_IFMT(mode)
    if stat.S_ISLNK(mode):
        raise InvalidRequest(f"bundle: entry {shown} is a symbolic link; links are not allowed")
    if kind and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise InvalidRequest(
            f"bundle: entry {shown} is a device, FIFO or socket; only files and folders are allowed"
        )
    is_dir = (
        raw_name.endswith("/") or stat.S_ISDIR(mode) or bool(info.external_attr & _DOS_DIRECTORY)
    )
    if not is_dir and info.compress_type not in _READABLE:
        raise InvalidRequest(
            f"bundle: entry {shown} is compressed with method {info.compress_type}; a "
            "bundle's entries are stored or deflated"
        )
    return _Entry(info, PurePosixPath(name), is_dir)


def _wrapper(entries: list[_Entry]) -> str | None:
    """K1: SKILL.md at the root (None), or inside one folder holding everything (its
    name, stripped from every path); otherwise the bundle is no skill."""
    files = {e.path.as_posix() for e in entries if not e.is_dir}
    if SKILL_FILE in files:
        return None
    tops = {e.path.parts[0] for e in entries}
    if len(tops) == 1:
        (top,) = tops
        if f"{top}/{SKILL_FILE}" in files:
            return top
    found = ", ".join(sorted(quoted(t) for t in tops)[:5]) or "nothing"
    raise InvalidRequest(
        f"bundle: no {SKILL_FILE} at its root, nor inside one folder that holds every entry "
        f"(top-level entries: {found})"
    )


def _extract(
    archive: zipfile.ZipFile, entries: list[_Entry], wrapper: str | None, into: Path
) -> Bundle:
    files: list[str] = []
    total = 0
    skill_md_size = 0
    for entry in entries:
        parts = entry.path.parts[1:] if wrapper is not None else entry.path.parts
        if not parts:
            continue  # the wrapper folder itself
        relative = "/".join(parts)
        target = into.joinpath(*parts)
        if entry.is_dir:
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        size = _write(archive, entry.info, relative, target, room=MAX_TOTAL_BYTES - total)
        total += size
        files.append(relative)
        if relative == SKILL_FILE:
            skill_md_size = size
    return Bundle(tuple(sorted(files)), total, skill_md_size, first_line_of(into / SKILL_FILE))


def _write(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, relative: str, target: Path, room: int
) -> int:
    """One file, counted as it is decompressed; returns its size. The byte that would
    pass a limit is never written."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        fd = os.open(target, flags, 0o644)
    except FileExistsError:  # a disk that folds case: 'A.md' and 'a.md' are one file
        raise InvalidRequest(
            f"bundle: entry {quoted(relative)} names the same file as another on this disk"
        ) from None
    written = 0
    with os.fdopen(fd, "wb") as out:
        for chunk in _decompressed(archive, info, relative):
            written += len(chunk)
            if written > MAX_FILE_BYTES:
                raise PayloadTooLarge(
                    f"bundle: {quoted(relative)} is larger than the limit of "
                    f"{MAX_FILE_BYTES:,} bytes (25 MB) a file, uncompressed; nothing was "
                    "installed"
                )
            if written > room:
                raise PayloadTooLarge(
                    f"bundle: its files are larger than the limit of {MAX_TOTAL_BYTES:,} "
                    "bytes (50 MB) in all, uncompressed; nothing was installed"
                )
            out.write(chunk)
    return written


def _decompressed(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, relative: str
) -> Iterator[bytes]:
    """An entry's bytes, `CHUNK` at a time; a corrupt entry is the sender's fault (400)."""
    try:
        with archive.open(info) as source:
            while chunk := source.read(CHUNK):
                yield chunk
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, OSError) as error:
        raise InvalidRequest(f"bundle: entry {quoted(relative)} cannot be read ({error})") from None


def first_line_of(skill_md: Path) -> str:
    """SKILL.md's first line (K4), from its first `MAX_FIRST_LINE` bytes."""
    with skill_md.open("rb") as handle:
        head = handle.read(MAX_FIRST_LINE)
    return head.split(b"\n", 1)[0].removesuffix(b"\r").decode("utf-8", "replace")
