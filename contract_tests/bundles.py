"""Skill bundles for the K tests: zips built entry by entry, hostile ones included (links,
devices, flags, names no archiver would write), so a test says exactly what it sends.

Bombs are cheap to send: `zeros` entries compress about a thousand to one."""

from __future__ import annotations

import io
import stat
import struct
import warnings
import zipfile
from dataclasses import dataclass

FILE_MODE = stat.S_IFREG | 0o644


@dataclass(frozen=True)
class Entry:
    """One zip entry: its name exactly as written, its bytes (or ``zeros`` of them,
    generated while writing), its mode bits (external_attr's upper half) and flags."""

    name: str
    data: bytes = b""
    mode: int = FILE_MODE
    flags: int = 0
    zeros: int = 0


def skill_md(title: str) -> bytes:
    return f"# {title}\n\nWhat this skill does, for the contract tests.\n".encode()


def bundle(*entries: Entry | tuple[str, bytes]) -> bytes:
    """A deflated zip of ``entries`` in order; a pair is a plain file."""
    buffer = io.BytesIO()
    flagged: list[tuple[int, int]] = []  # (local header offset, flags)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns of the duplicate names tests want
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
            for item in entries:
                entry = item if isinstance(item, Entry) else Entry(*item)
                info = zipfile.ZipInfo(entry.name, (2026, 1, 1, 0, 0, 0))
                info.create_system = 3  # Unix: the mode bits below mean what they say
                info.external_attr = entry.mode << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                with archive.open(info, "w") as out:
                    left = entry.zeros
                    while left > 0:
                        out.write(bytes(min(left, 1 << 20)))
                        left -= 1 << 20
                    out.write(entry.data)
                if entry.flags:  # zipfile clears flags as it writes: set them afterwards
                    info.flag_bits |= entry.flags  # in the central directory
                    flagged.append((info.header_offset, entry.flags))
    data = bytearray(buffer.getvalue())
    for offset, flags in flagged:  # and in the entry's local header
        (bits,) = struct.unpack_from("<H", data, offset + 6)
        struct.pack_into("<H", data, offset + 6, bits | flags)
    return bytes(data)


def simple(title: str = "A skill", **files: bytes) -> bytes:
    """SKILL.md at the root, and ``files`` beside it."""
    return bundle(("SKILL.md", skill_md(title)), *files.items())
