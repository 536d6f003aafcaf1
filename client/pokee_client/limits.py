"""How much the client reads, and for how long, before it stops trusting a server.

A client embedded in an app must treat every server as hostile, as the server treats every
request: an event that never ends, a body of gigabytes, a stream that only pings, an answer
dripped a byte at a time, a folder listing without a bottom. Each bound below turns one of
those into a clear error (a stream that brings no event is resumed as any stall is) instead
of memory or time spent without end. The defaults sit far above what the API sends (an M3
event is a few KiB, an F4 listing a few hundred entries, M10 ends every turn within 90
minutes), so that only a broken or hostile server ever meets them.

Per-read timeouts (``timeout``, ``stream_read_timeout``) are not deadlines: a server that
sends one byte before each read times out keeps them from ever firing. So ``timeout`` also
bounds the whole of an answer read in one piece, and the deadlines here bound the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

KiB = 1024
MiB = 1024 * KiB


@dataclass(frozen=True)
class Limits:
    """The bounds a `PokeeClient` or `AsyncPokeeClient` keeps (``limits=Limits(...)``).

    ``max_event_size``: bytes of one server-sent event, its lines together (a longer one is
        a `ProtocolError`: resuming would only bring it again).
    ``max_answer_size``: bytes of a JSON answer or an error body, read as they come. A
        larger JSON answer is a `ProtocolError`; a larger error body is left unread and the
        error is known by its status.
    ``stream_deadline``: seconds one turn's or response's stream may last, resumes
        included, before the client gives up on it (`TransportError`); the polling
        fallback has its own bound.
    ``download_deadline``: seconds one download may last, resumes included.
    ``max_walk_entries``, ``max_walk_folders``, ``max_walk_depth``: how much of the
        workspace ``run`` lists to learn what its turn changed: entries seen in all,
        folders listed, and folders nested; past any of them ``run`` fails
        (`ProtocolError`) and cleans up.
    """

    max_event_size: int = 16 * MiB
    max_answer_size: int = 10 * MiB
    stream_deadline: float = 7200.0  # M10 ends a turn after 90 minutes
    download_deadline: float = 3600.0
    max_walk_entries: int = 100_000
    max_walk_folders: int = 10_000
    max_walk_depth: int = 32

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if not value > 0:
                raise ValueError(f"Limits.{field.name} must be positive, not {value!r}")


def size_text(size: int) -> str:
    """``16 MiB``, ``64 KiB``, ``1000 bytes``: a limit as people write it."""
    for unit, name in ((MiB, "MiB"), (KiB, "KiB")):
        if size % unit == 0:
            return f"{size // unit} {name}"
    return f"{size} bytes"
