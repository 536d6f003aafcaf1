"""``Range: bytes=…`` (contract F5, RFC 9110 §14), read strictly and in linear time.

Two steps, because ``If-Range`` sits between them: `parse_range` checks the syntax (a
malformed header is 416, F5's "Bad Range header", whether or not it would apply),
`satisfiable` then fits the parts to the file's size (none left is 416 too; the others
are served). Both 416s carry ``Content-Range: bytes */<size>``. Numbers are plain ASCII
digits of any length: a 5,000-digit number is simply larger than any file, never an
error from ``int()``, and ``²`` is not a digit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mock_pokee.domain.errors import RangeNotSatisfiable
from mock_pokee.domain.paths import quoted

MAX_PARTS = 100  # RFC 9110 lets a server refuse many small ranges; a strict fake does
_DIGITS = re.compile(r"[0-9]+")
_ENOUGH_DIGITS = 18  # more than any file's size has; anything longer is "past the end"
_HUGE = 1_000_000_000_000_000_000  # 10**18: larger than any number of 18 digits


@dataclass(frozen=True, slots=True)
class RangePart:
    """``first-last``, ``first-`` (``last`` None) or a suffix ``-length`` (``first`` None)."""

    first: int | None
    last: int | None


def parse_range(header: str, size: int) -> list[RangePart]:
    """The parts of a ``bytes`` range; `RangeNotSatisfiable` naming the header if
    malformed (the file's ``size`` goes into its ``Content-Range``)."""
    unit, equals, spec = header.partition("=")
    if not equals or unit.strip().lower() != "bytes" or not spec.strip():
        raise _bad(f"Range: {quoted(header)} is not a bytes range", size)
    pieces = spec.split(",")
    if len(pieces) > MAX_PARTS:
        raise _bad(f"Range: more than {MAX_PARTS} ranges in one request", size)
    parts = []
    for piece in pieces:
        start, dash, end = piece.strip().partition("-")
        first, last = _number(start), _number(end)
        if not dash or (start and first is None) or (end and last is None):
            raise _bad(f"Range: {quoted(header)} is malformed", size)
        if first is None and last is None:
            raise _bad(f"Range: {quoted(header)} has a part with no numbers", size)
        if first is not None and last is not None and last < first:
            raise _bad(f"Range: {quoted(header)} has a part that ends before it starts", size)
        parts.append(RangePart(first, last))
    return parts


def _bad(message: str, size: int) -> RangeNotSatisfiable:
    return RangeNotSatisfiable(message, headers={"Content-Range": f"bytes */{size}"})


def satisfiable(parts: list[RangePart], size: int) -> list[tuple[int, int]]:
    """The byte spans (first, last inclusive) of ``parts`` that fall inside a file of
    ``size`` bytes, sorted, overlapping ones merged; `RangeNotSatisfiable` if none do."""
    spans = []
    for part in parts:
        if part.first is None:
            length = part.last or 0
            if length > 0 and size > 0:
                spans.append((max(size - length, 0), size - 1))
        elif part.first < size:
            last = size - 1 if part.last is None else min(part.last, size - 1)
            spans.append((part.first, last))
    if not spans:
        raise _bad(f"Range: no part of it lies inside the file ({size} bytes)", size)
    spans.sort()
    merged = [spans[0]]
    for first, last in spans[1:]:
        previous_first, previous_last = merged[-1]
        if first <= previous_last + 1:
            merged[-1] = (previous_first, max(previous_last, last))
        else:
            merged.append((first, last))
    return merged


def _number(text: str) -> int | None:
    """An ASCII decimal number (None if empty or not one); huge ones come back as a
    number larger than any file, without converting thousands of digits."""
    if not text or not _DIGITS.fullmatch(text):
        return None
    significant = text.lstrip("0")
    if len(significant) > _ENOUGH_DIGITS:
        return _HUGE
    return int(significant or "0")
