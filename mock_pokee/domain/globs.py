"""Path globs for fault rules (C5) and journal filters (C4): ``*`` and ``**``.

``*`` matches any run of characters within one path segment (never a ``/``); ``**`` as a
whole segment matches any number of segments, none included. ``/v1/sessions/*/messages``
is every session's message route; ``/v1/sessions/**`` is everything under sessions.

Not ``fnmatch`` or a plain regular expression: a pattern with several stars makes a
backtracking matcher take polynomial (or worse) time on a long path, and every rule is
checked on every request, on the server's one event loop. Here a pattern is compiled once
into parts whose matching never backtracks, so a match costs time linear in the pattern
plus the path:

- The segments before the first ``**`` (the head) and after the last (the tail) sit at
  known places: each is one anchored regular expression made of literals, possessive
  ``[^/]*+`` runs and fixed-width lookbehinds. A segment with stars inside (``a*b*c``)
  is captured whole and its middle pieces are then found leftmost, in order, by a literal
  search (``re``'s literal search is KMP: linear, unlike ``str.find`` on short needles).
- The runs of segments between ``**`` segments (floating runs) are each placed leftmost,
  which leaves the most room for what follows: one literal search when the run has no
  star, else one search with a backtracking-free expression (atomic groups around each
  middle piece). That search costs at most the path's length times the run's, which is
  what `MAX_FLOATING` bounds per pattern and ``faults.MAX_BOOK_FLOATING`` per rule book.

What a pattern needs to know of a path (how many segments, where the last few begin) is
worked out once per request (`SplitPath`) and shared by every rule's pattern; a request
checked against a thousand rules pays each of them its own search, never a split.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mock_pokee.domain.errors import InvalidRequest
from mock_pokee.limits import (
    MAX_FLOATING,
    MAX_PATTERN,
    MAX_STARS,
)

Pieces = tuple[str, ...]  # a segment pattern split on ``*``: literal runs around the stars


def pattern_problem(pattern: str) -> str | None:
    """Why ``pattern`` cannot be a path glob, or None: the one rule for fault rules and
    journal filters alike."""
    if len(pattern) > MAX_PATTERN:
        return f"a pattern of at most {MAX_PATTERN} characters, not {len(pattern)}"
    stars = sum(segment.count("*") for segment in pattern.split("/") if segment != "**")
    if stars > MAX_STARS:
        return f"{stars} '*' (outside '**' segments); at most {MAX_STARS}"
    weight = sum(_weight(run) for run in _runs(pattern)[1:-1])
    if weight > MAX_FLOATING:
        return (
            f"the segments between the first and the last '**' are {weight} characters "
            f"long; at most {MAX_FLOATING}"
        )
    return None


def _weight(run: list[str]) -> int:
    return sum(len(segment) + 1 for segment in run)


def _runs(pattern: str) -> list[list[str]]:
    """The segment patterns between ``**`` segments: head, floating runs, tail (a leading
    or trailing ``**`` leaves an empty run at that end; ``**/**`` leaves none between)."""
    runs: list[list[str]] = [[]]
    for segment in pattern.split("/"):
        if segment != "**":
            runs[-1].append(segment)
        elif len(runs) == 1 or runs[-1]:
            runs.append([])
    return runs


@dataclass(frozen=True)
class _Segment:
    """One segment pattern: its pieces around the stars (``a**b`` is ``a*b``), and a
    literal search for each middle piece."""

    pieces: Pieces
    middle: tuple[re.Pattern[str], ...]

    @classmethod
    def compile(cls, text: str) -> _Segment:
        pieces = text.split("*")
        if len(pieces) > 2:
            pieces = [pieces[0], *(p for p in pieces[1:-1] if p), pieces[-1]]
        middle = tuple(re.compile(re.escape(piece)) for piece in pieces[1:-1])
        return cls(tuple(pieces), middle)

    @property
    def starred(self) -> bool:
        return len(self.pieces) > 1

    def anchored(self) -> str:
        """As part of an anchored expression: a segment with middle pieces is captured
        whole, for `matches` to check with linear searches."""
        if self.middle:
            return "([^/]*+)"
        return self.floating()

    def floating(self) -> str:
        """As part of a search: each middle piece at its leftmost place, never revisited
        (an atomic lazy run), then the rest of the segment."""
        if not self.starred:
            return re.escape(self.pieces[0])
        middle = (f"(?>[^/]*?{re.escape(piece)})" for piece in self.pieces[1:-1])
        return re.escape(self.pieces[0]) + "".join(middle) + _rest(self.pieces[-1])

    def matches(self, text: str) -> bool:
        """A captured segment: first and last piece at its ends, middle pieces leftmost
        in order between them, none overlapping."""
        first, last = self.pieces[0], self.pieces[-1]
        if len(text) < len(first) + len(last) or not text.startswith(first):
            return False
        if not text.endswith(last):
            return False
        position, end = len(first), len(text) - len(last)
        for piece in self.middle:
            found = piece.search(text, position, end)
            if found is None:
                return False
            position = found.end()
        return True


def _rest(last: str) -> str:
    """The rest of a segment after a star: at least as long as ``last`` and ending with
    it, taken possessively (to the ``/``) and checked by a fixed-width lookbehind."""
    if not last:
        return "[^/]*+"
    return f"(?=[^/]{{{len(last)}}})[^/]*+(?<={re.escape(last)})"


class SplitPath:
    """A request path as the patterns read it, worked out once for every pattern it is
    matched against (a request meets every rule of its tenant): how many segments it
    has, where its last few begin, and its ``/``-delimited form for floating runs. Each
    is made when first needed and costs one pass in C at most; the path is never split
    into a list (a 64 KB path of empty segments would be 32,000 strings)."""

    __slots__ = ("_delimited", "_segments", "_tails", "path")

    def __init__(self, path: str):
        self.path = path
        self._segments = -1
        self._delimited: str | None = None
        self._tails: dict[int, int] = {}

    @property
    def segments(self) -> int:
        if self._segments < 0:
            self._segments = self.path.count("/") + 1
        return self._segments

    def tail_start(self, count: int) -> int:
        """Where the last ``count`` segments begin (the path has more than ``count``)."""
        start = self._tails.get(count)
        if start is None:
            start = self._tails[count] = len(self.path.rsplit("/", count)[0]) + 1
        return start

    @property
    def delimited(self) -> str:
        """``/path/``: every segment, the first and the last too, between two ``/``."""
        if self._delimited is None:
            self._delimited = f"/{self.path}/"
        return self._delimited


@dataclass(frozen=True)
class _Anchored:
    """The head or the tail: one expression over its segments, then the captured
    segments with middle pieces checked."""

    segments: int
    regex: re.Pattern[str]
    captured: tuple[_Segment, ...]

    @classmethod
    def compile(cls, run: list[str], end: str) -> _Anchored:
        segments = [_Segment.compile(text) for text in run]
        source = "/".join(segment.anchored() for segment in segments) + end
        captured = tuple(segment for segment in segments if segment.middle)
        return cls(len(run), re.compile(source), captured)

    def match(self, path: str, start: int = 0) -> int:
        """Where the run ends when it matches at ``start``, else -1."""
        found = self.regex.match(path, start)
        if found is None:
            return -1
        for index, segment in enumerate(self.captured, start=1):
            if not segment.matches(found.group(index)):
                return -1
        return found.end()


@dataclass(frozen=True)
class _Floating:
    """A run between two ``**``, searched in `SplitPath.delimited` as ``/a/b*c/``: a
    literal search without stars, else a backtracking-free expression."""

    segments: int
    weight: int  # what a search may cost, per character of the path (`MAX_FLOATING`)
    regex: re.Pattern[str]

    @classmethod
    def compile(cls, run: list[str]) -> _Floating:
        segments = [_Segment.compile(text) for text in run]
        source = "/" + "/".join(segment.floating() for segment in segments) + "/"
        starred = any(segment.starred for segment in segments)
        return cls(len(run), _weight(run) if starred else 0, re.compile(source))

    def find(self, text: str, start: int, end: int) -> int:
        """The end of the leftmost placement within ``text[start:end]``, or -1."""
        found = self.regex.search(text, start, end)
        return -1 if found is None else found.end()


@dataclass(frozen=True)
class PathGlob:
    """A compiled pattern (see the module docstring)."""

    pattern: str
    head: _Anchored | None
    tail: _Anchored | None
    floating: tuple[_Floating, ...]
    deep: bool  # the pattern has a ``**``
    least: int  # the fewest segments a matching path has

    @classmethod
    def compile(cls, pattern: str) -> PathGlob:
        """`InvalidRequest` naming ``path`` when `pattern_problem` finds one."""
        problem = pattern_problem(pattern)
        if problem is not None:
            raise InvalidRequest(f"path: {problem}")
        runs = _runs(pattern)
        if len(runs) == 1:  # no ``**``: the whole path, segment for segment
            whole = _Anchored.compile(runs[0], r"\Z")
            return cls(pattern, whole, None, (), False, whole.segments)
        head = _Anchored.compile(runs[0], "(?![^/])") if runs[0] else None
        tail = _Anchored.compile(runs[-1], r"\Z") if runs[-1] else None
        floating = tuple(_Floating.compile(run) for run in runs[1:-1])
        least = len(runs[0]) + len(runs[-1]) + sum(run.segments for run in floating)
        return cls(pattern, head, tail, floating, True, least)

    @property
    def floating_weight(self) -> int:
        """What searching this pattern's starred floating runs may cost (per path
        character): what a rule book adds up to bound a request's matching."""
        return sum(run.weight for run in self.floating)

    def matches(self, path: str | SplitPath) -> bool:
        split = path if isinstance(path, SplitPath) else SplitPath(path)
        if not self.deep:
            assert self.head is not None
            return split.segments == self.least and self.head.match(split.path) >= 0
        if split.segments < self.least:
            return False
        start = 0  # where the free segments begin, in ``/path/``: the ``/`` before them
        if self.head is not None:
            start = self.head.match(split.path) + 1
            if start == 0:
                return False
        end = len(split.path) + 2  # one past the ``/`` after the free segments
        if self.tail is not None:
            if split.segments == self.tail.segments:  # the tail is the whole path
                tail_start = 0
            else:
                tail_start = split.tail_start(self.tail.segments)
            if self.tail.match(split.path, tail_start) < 0:
                return False
            end = tail_start + 1
        return self._place_floating(split, start, end)

    def _place_floating(self, split: SplitPath, start: int, end: int) -> bool:
        """Each floating run leftmost, in order, between the head and the tail; runs may
        share the ``/`` between them (a ``**`` that matches nothing)."""
        text = split.delimited if self.floating else ""
        for run in self.floating:
            found = run.find(text, start, end)
            if found < 0:
                return False
            start = found - 1
        return True
