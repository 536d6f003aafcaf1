"""Skill bundles as the client sends them (K1): a zip as given, or a folder zipped here.

A folder is zipped the same way every time: entries in sorted path order, one fixed
timestamp, each file's permission bits kept (an executable script stays executable) and
nothing else of the machine's, one compression level. So the same folder gives the same
bytes on every run, and a bundle can be compared, cached or signed. The folder's contents
go at the zip's root (its ``SKILL.md`` with them); an empty folder is kept as an entry of
its own, other folders only through their files (K2 counts every entry).

A symbolic link in the folder is refused here, naming it: the server refuses links (K2),
and following one would put whatever it points at, anywhere on the machine, in the bundle.
Which bundles are acceptable is otherwise the server's rule, reported in its words.
"""

from __future__ import annotations

import io
import os
import stat
import zipfile
from pathlib import Path

# Zip's earliest date: no clock of the machine leaks into the bundle.
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
COMPRESS_LEVEL = 6


def bundle_of(source: str | Path | bytes) -> Path | bytes:
    """What to send for ``source``: bytes as they are, a zip file as it is (read when
    sent), a folder zipped (`zip_folder`)."""
    if isinstance(source, bytes):
        return source
    path = Path(source)
    return zip_folder(path) if path.is_dir() else path


def zip_folder(folder: Path) -> bytes:
    """``folder`` as a deterministic zip (see the module docstring)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL) as out:
        for path, is_dir in _entries(folder):
            relative = path.relative_to(folder).as_posix()
            mode = path.lstat().st_mode
            if is_dir:
                info = zipfile.ZipInfo(relative + "/", FIXED_TIME)
                info.external_attr = (stat.S_IFDIR | 0o755) << 16 | 0x10
                out.writestr(info, b"")
                continue
            if not stat.S_ISREG(mode):
                raise ValueError(f"{path}: not a regular file (a device, FIFO or socket)")
            info = zipfile.ZipInfo(relative, FIXED_TIME)
            info.external_attr = (stat.S_IFREG | (0o755 if mode & stat.S_IXUSR else 0o644)) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            out.writestr(info, path.read_bytes(), compresslevel=COMPRESS_LEVEL)
    return buffer.getvalue()


def _entries(folder: Path) -> list[tuple[Path, bool]]:
    """Files, and folders with nothing in them, sorted by path; a link is refused."""
    found: list[tuple[Path, bool]] = []
    for directory, folders, files in os.walk(folder):
        here = Path(directory)
        for name in [*folders, *files]:
            if (here / name).is_symlink():
                raise ValueError(
                    f"{here / name}: a symbolic link; a skill bundle holds files and folders only"
                )
        found += [(here / name, False) for name in files]
        if not folders and not files and here != folder:
            found.append((here, True))
    return sorted(found, key=lambda entry: entry[0].relative_to(folder).as_posix())
