"""Generated file contents of an exact size, for ``write`` steps with ``size:`` (contract D).

``mock-pokee record`` keeps a file the recorded service wrote as a fixture only when it is
small; a larger one is recorded as its path and size, and replayed from here. A client
that downloads it must meet what it met on the real service as far as it can tell without
reading the content: the same size to the byte, and the type its name says. So a ``.pptx``
is a deck python-pptx opens, a text file reads as text (``.json`` parses), a ``.zip`` is an
archive, a ``.pdf`` or ``.png`` starts as one; anything else is pseudo-random bytes. Every
byte is filler, and the same path and size give the same bytes (a deck aside, whose
properties carry the time it was built).
"""

from __future__ import annotations

import html
import io
import random
import zipfile
from pathlib import PurePosixPath

from mock_pokee.scenarios import documents

_SENTENCES = (
    "This file stands in for one that a recorded turn wrote. It has the size the recording "
    "saw and the type its name says. Its words are filler from mock-pokee and mean nothing. "
)
_PARAGRAPH = _SENTENCES + "\n\n"
_LINE = _SENTENCES.rstrip() + "\n"
_MAGIC = {".pdf": b"%PDF-1.4\n", ".png": b"\x89PNG\r\n\x1a\n"}
_JSON = (b'{"text": "', b'"}\n')  # a document's frame; its text is _SENTENCES (no quotes)
_EMPTY_ZIP = b"PK\x05\x06" + bytes(18)  # an archive of no members: its end record alone
_MAX_COMMENT = 0xFFFF  # bytes of a zip archive's comment
_PADDING_MEMBER = "mock-pokee-filler.xml"  # ".xml": a type every OOXML package declares
_NOISE_BLOCK = 1 << 20


def generate(path: str, size: int, title: str, topic: str) -> bytes:
    """``size`` bytes whose type follows ``path``'s extension; a deck's title slide says
    ``title`` and its slides ``topic``. Slow for large sizes: run it in a worker thread."""
    suffix = PurePosixPath(path).suffix.lower()
    made: bytes | None
    if suffix == ".pptx":
        made = _deck(size, title, topic)
    elif suffix == ".zip":
        made = _padded_zip(_EMPTY_ZIP, size)
    elif suffix == ".json":
        made = _json(size)
    elif suffix in _MAGIC:
        head = _MAGIC[suffix][:size]
        made = head + _noise(path, size - len(head))
    elif suffix in _TEXT_SUFFIXES:
        made = _text(suffix, size, title)
    else:
        made = None
    return made if made is not None else _noise(path, size)


def _noise(path: str, size: int) -> bytes:
    """Pseudo-random bytes seeded from the path (a string seed is hashed, not salted),
    made a block at a time: `random.Random.randbytes` takes at most 256 MiB at once."""
    source = random.Random(path)
    whole, rest = divmod(size, _NOISE_BLOCK)
    return b"".join(
        [source.randbytes(_NOISE_BLOCK) for _ in range(whole)] + [source.randbytes(rest)]
    )


def _repeat(unit: bytes, size: int) -> bytes:
    """``unit`` over and over, cut at ``size`` bytes."""
    count, rest = divmod(size, len(unit))
    return unit * count + unit[:rest]


def _frames(title: str) -> dict[str, tuple[str, str, str]]:
    """Each text type's (head, repeated unit, tail): the unit has no character the type
    would need to escape, so cutting it anywhere leaves the file well-formed."""
    page = f"<!DOCTYPE html>\n<html><head><title>{html.escape(title)}</title></head><body><p>"
    return {
        ".md": (f"# {title}\n\n", _PARAGRAPH, "\n"),
        ".txt": (f"{title}\n\n", _PARAGRAPH, "\n"),
        ".log": ("", _LINE, ""),
        ".csv": ("text\n", _LINE, ""),
        ".html": (page, _PARAGRAPH, "</p></body></html>\n"),
        ".xml": ('<?xml version="1.0" encoding="UTF-8"?>\n<text>', _PARAGRAPH, "</text>\n"),
        ".yaml": ('text: "', _SENTENCES, '"\n'),
        ".yml": ('text: "', _SENTENCES, '"\n'),
    }


_TEXT_SUFFIXES = frozenset(_frames(""))


def _text(suffix: str, size: int, title: str) -> bytes:
    """UTF-8 text of exactly ``size`` bytes: the type's frame filled with prose, or the
    prose alone when the frame does not fit."""
    head, unit, tail = (part.encode() for part in _frames(title)[suffix])
    room = size - len(head) - len(tail)
    if room < 0:
        return _repeat(unit, size)
    return head + _repeat(unit, room) + tail


def _json(size: int) -> bytes:
    """A JSON document of ``size`` bytes: an object with some text, an empty object
    spaced out when that does not fit, ``0`` for one byte (nothing for none)."""
    head, tail = _JSON
    room = size - len(head) - len(tail)
    if room >= 0:
        return head + _repeat(_SENTENCES.encode(), room) + tail
    if size >= 2:
        return b"{" + b" " * (size - 2) + b"}"
    return b"0"[:size]


def _deck(size: int, title: str, topic: str) -> bytes | None:
    """A deck padded to ``size`` bytes: the default number of slides, else the title
    slide alone; None when even that is larger."""
    for slides in (documents.DEFAULT_SLIDES, 1):
        padded = _padded_zip(documents.pptx_deck(title, topic, slides), size)
        if padded is not None:
            return padded
    return None


def _padded_zip(archive: bytes, size: int) -> bytes | None:
    """``archive`` (a zip) grown to exactly ``size`` bytes, or None when it is larger.
    A little padding goes into the archive's comment, more into a stored member of XML
    text that nothing refers to. Sizes are measured as zipfile writes the archive, not
    predicted: headers do not change with a member's length below zip64's 2 GiB."""
    bare = _rezipped(archive, b"", None)
    room = size - len(bare)
    if room < 0:
        return None
    if room <= _MAX_COMMENT:
        return _rezipped(archive, b" " * room, None)
    headers = len(_rezipped(archive, b"", 0)) - len(bare)
    return _rezipped(archive, b"", room - headers)


def _rezipped(archive: bytes, comment: bytes, member: int | None) -> bytes:
    """``archive`` with ``comment``, and a filler member of ``member`` bytes if not None."""
    out = io.BytesIO(archive)
    with zipfile.ZipFile(out, "a") as package:
        package.comment = comment
        if member is not None:
            text = _text(".xml", member, "")
            package.writestr(zipfile.ZipInfo(_PADDING_MEMBER), text)
    return out.getvalue()
