"""Path globs for fault rules (C5) and journal filters (C4): ``*`` and ``**``.

``*`` matches any run of characters within one path segment (never a ``/``); ``**`` as a
whole segment matches any number of segments, none included. ``/v1/sessions/*/messages``
is every session's message route; ``/v1/sessions/**`` is everything under sessions.

Not ``fnmatch`` or a regular expression: a pattern with several stars can make a
backtracking matcher take polynomial (or worse) time on a long path, and a rule is
checked on every request. Here each ``*`` run is matched greedily leftmost with
``str.find`` (correct for star-only patterns), segment by segment, so a match costs
about the length of the path times the number of pieces, all in C.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_PATTERN = 512  # characters; a longer pattern is refused where rules are validated


def _segment_matches(pieces: tuple[str, ...], text: str) -> bool:
    """``pieces`` is a segment pattern split on ``*``: literal runs around the stars."""
    if len(pieces) == 1:
        return text == pieces[0]
    first, *middle, last = pieces
    if len(text) < len(first) + len(last) or not text.startswith(first):
        return False
    if not text.endswith(last):
        return False
    position, end = len(first), len(text) - len(last)
    for piece in middle:
        found = text.find(piece, position, end)
        if found < 0:
            return False
        position = found + len(piece)
    return True


@dataclass(frozen=True)
class PathGlob:
    """A compiled pattern: each segment is ``None`` for ``**``, else its pieces."""

    pattern: str
    segments: tuple[tuple[str, ...] | None, ...]

    @classmethod
    def compile(cls, pattern: str) -> PathGlob:
        segments = tuple(
            None if segment == "**" else tuple(segment.split("*")) for segment in pattern.split("/")
        )
        return cls(pattern, segments)

    def matches(self, path: str) -> bool:
        parts = path.split("/")
        runs = _split_runs(self.segments)
        if len(runs) == 1:  # no ``**``: segment counts must agree
            return len(parts) == len(runs[0]) and _run_matches(runs[0], parts, 0)
        head, *middle, tail = runs
        if len(parts) < len(head) + len(tail):
            return False
        if not _run_matches(head, parts, 0):
            return False
        if not _run_matches(tail, parts, len(parts) - len(tail)):
            return False
        position, end = len(head), len(parts) - len(tail)
        for run in middle:  # leftmost placement leaves the most room for what follows
            found = _find_run(run, parts, position, end)
            if found < 0:
                return False
            position = found + len(run)
        return True


def _split_runs(
    segments: tuple[tuple[str, ...] | None, ...],
) -> list[list[tuple[str, ...]]]:
    """The segment patterns between ``**`` segments (a leading or trailing ``**`` leaves an
    empty run at that end)."""
    runs: list[list[tuple[str, ...]]] = [[]]
    for segment in segments:
        if segment is None:
            runs.append([])
        else:
            runs[-1].append(segment)
    return runs


def _run_matches(run: list[tuple[str, ...]], parts: list[str], start: int) -> bool:
    """Whether ``run`` matches ``parts`` from ``start``; callers keep it within ``parts``."""
    return all(_segment_matches(p, parts[start + i]) for i, p in enumerate(run))


def _find_run(run: list[tuple[str, ...]], parts: list[str], start: int, end: int) -> int:
    for position in range(start, end - len(run) + 1):
        if _run_matches(run, parts, position):
            return position
    return -1
