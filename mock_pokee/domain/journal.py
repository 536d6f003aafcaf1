"""The timeline journal (C4): what happened, in order, per tenant.

Requests, the SSE events a turn or a response sent (and whether a client was listening),
faults fired, clock moves, expiries, turn and response starts and ends, deletions, skills
installed and removed: one bounded log per tenant, plus one for the server itself
(requests without a key, keyless clock moves). Every entry takes its ``seq`` from one
counter shared by the whole server, so the keyless view merges the logs in the order
things happened, and ``since=<seq>`` reads only what is new.

Recording is on the hot path (every request, every event), reading is not: a request
entry keeps the request's raw header list and is turned into JSON (key masked) only when
someone reads the journal. A full journal drops its oldest entry and counts it.

Live readers (the journal stream, the inspector page) wait on `Followers`, one set shared
by every journal of a server. Recording wakes them only when the set is not empty, so a
server nobody watches pays one truth test per entry.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from mock_pokee.domain.errors import InvalidRequest
from mock_pokee.domain.globs import PathGlob
from mock_pokee.domain.inputs import shown, whole_number
from mock_pokee.domain.keys import mask_authorization
from mock_pokee.limits import (
    FEED_SIZE,
    JOURNAL_SIZE,
    MAX_KEPT_HEADER_BYTES,
    MAX_KEPT_PATH,
    MAX_KEPT_VALUE,
    MAX_PATTERN,
)

KINDS = (
    "request",
    "event",
    "fault",
    "clock",
    "expiry",
    "turn.start",
    "turn.end",
    "response.start",
    "response.end",
    "deletion",
    "skill",
)


class Rendered(Protocol):
    """Fields kept in a cheap form while recording, made JSON only when read."""

    def render(self) -> dict[str, Any]: ...


def kept_headers(raw: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """``raw`` as the journal keeps it: as it is when small (the usual case, checked
    without copying), else cut to the bounds above, saying what was left out."""
    total = sum(len(name) + len(value) for name, value in raw)
    if total <= MAX_KEPT_HEADER_BYTES and all(len(v) <= MAX_KEPT_VALUE for _, v in raw):
        return raw
    kept: list[tuple[bytes, bytes]] = []
    room = MAX_KEPT_HEADER_BYTES
    for index, (name, value) in enumerate(raw):
        pair = (_cut(name), _cut(value))
        if len(pair[0]) + len(pair[1]) > room:
            left = b"%d headers not kept (the journal keeps 16 KiB of them)" % (len(raw) - index)
            kept.append((b"x-mock-journal", left))
            break
        kept.append(pair)
        room -= len(pair[0]) + len(pair[1])
    return kept


def kept_path(path: str) -> str:
    """A request's path as its entry keeps it (and as ``?path=`` filters then see it)."""
    if len(path) <= MAX_KEPT_PATH:
        return path
    return f"{path[:MAX_KEPT_PATH]}... ({len(path)} characters in all)"


def _cut(text: bytes) -> bytes:
    if len(text) <= MAX_KEPT_VALUE:
        return text
    return text[:MAX_KEPT_VALUE] + b"... (%d bytes in all)" % len(text)


@dataclass(slots=True)
class RequestRecord:
    """One request as the journal keeps it while it runs; rendered when read. Its headers
    are `kept_headers` of the request's."""

    method: str
    path: str
    raw_headers: list[tuple[bytes, bytes]]
    status: int | None = None
    first_byte_ms: float | None = None  # arrival to the answer's start, as the server saw it
    duration_ms: float | None = None
    body_size: int = 0
    response_id: str | None = None
    fault: str | None = None
    outcome: str = "in_progress"  # complete, cut, incomplete, no_response

    def render(self) -> dict[str, Any]:
        headers: dict[str, str] = {}
        for raw_name, raw_value in self.raw_headers:
            name = raw_name.decode("latin-1").lower()
            value = raw_value.decode("latin-1")
            if name == "authorization":
                value = mask_authorization(value)
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        fields: dict[str, Any] = {
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "first_byte_ms": self.first_byte_ms,
            "duration_ms": self.duration_ms,
            "outcome": self.outcome,
            "headers": headers,
            "body_size": self.body_size,
        }
        if self.response_id is not None:
            fields["response_id"] = self.response_id
        if self.fault is not None:
            fields["fault"] = self.fault
        return fields


@dataclass(slots=True)
class Entry:
    seq: int
    at: float
    kind: str
    session: str | None
    fields: dict[str, Any] | Rendered

    def render(self, tenant: str | None = None, *, keyless: bool = False) -> dict[str, Any]:
        """The entry's JSON; the keyless view (C2) also names the tenant (None: the server)."""
        fields = self.fields if isinstance(self.fields, dict) else self.fields.render()
        out: dict[str, Any] = {"seq": self.seq, "kind": self.kind, "at": self.at}
        if keyless:
            out["tenant"] = tenant
        if self.session is not None:
            out["session"] = self.session
        out.update(fields)
        return out


@dataclass(frozen=True)
class JournalQuery:
    """C4's filters; ``kind`` may list several kinds, and ``turn`` means both turn kinds."""

    kinds: frozenset[str] | None = None
    method: str | None = None
    path: PathGlob | None = None
    session: str | None = None
    since: int = 0

    @classmethod
    def parse(cls, params: dict[str, str]) -> JournalQuery:
        kinds = None
        if "kind" in params:
            wanted = {k.strip() for k in params["kind"].split(",")}
            expanded = set()
            for kind in wanted:
                matching = {k for k in KINDS if k == kind or k.split(".")[0] == kind}
                if not matching:
                    raise InvalidRequest(
                        f"kind: unknown kind {shown(kind)}; known: {', '.join(KINDS)}"
                    )
                expanded |= matching
            kinds = frozenset(expanded)
        path = params.get("path")
        if path is not None and len(path) > MAX_PATTERN:
            raise InvalidRequest(f"path: a pattern of at most {MAX_PATTERN} characters")
        if path is not None and not path.startswith("/"):  # as a fault rule's path (C5)
            raise InvalidRequest(f"path: a request path starts with '/', not {shown(path)}")
        method = params.get("method")
        if method is not None and not (method.isascii() and method.isalpha() and len(method) <= 16):
            raise InvalidRequest(f"method: an HTTP method (1 to 16 letters), not {shown(method)}")
        since = whole_number(params.get("since", "0"), "since")
        return cls(
            kinds=kinds,
            method=params["method"].upper() if "method" in params else None,
            path=PathGlob.compile(path) if path is not None else None,
            session=params.get("session"),
            since=since,
        )

    def matches(self, entry: Entry) -> bool:
        """Whether ``entry`` passes the filters; ``since`` is applied by the callers, which
        read only newer entries in the first place."""
        if self.kinds is not None and entry.kind not in self.kinds:
            return False
        if self.session is not None and entry.session != self.session:
            return False
        if self.method is None and self.path is None:
            return True
        fields = entry.fields
        if not isinstance(fields, RequestRecord):
            return False  # method and path filters select requests
        if self.method is not None and fields.method != self.method:
            return False
        return self.path is None or self.path.matches(fields.path)


class Followers(set[asyncio.Event]):
    """The live readers of one journal (or of the `Feed`): each waits on its own event,
    which every new entry sets. Empty (false) while nobody follows."""

    def wake(self) -> None:
        for waiter in self:
            waiter.set()


class Feed:
    """Every journal's entries in the order they are recorded, for the readers of the
    whole server (keyless streams, C2). Kept only while one follows: an entry costs a
    keyless reader only itself, never a pass over every tenant's journal."""

    def __init__(self, capacity: int = FEED_SIZE):
        self.followers = Followers()
        self.entries: deque[tuple[Entry, str | None]] = deque(maxlen=capacity)
        self.last_dropped = 0  # the seq of the last entry dropped for room

    def push(self, entry: Entry, owner: str | None) -> None:
        if len(self.entries) == self.entries.maxlen:
            self.last_dropped = self.entries[0][0].seq
        self.entries.append((entry, owner))
        self.followers.wake()

    def leave(self, waiter: asyncio.Event) -> None:
        self.followers.discard(waiter)
        if not self.followers:  # nobody reads it: keep nothing
            self.entries.clear()

    def newer_than(self, seq: int) -> list[tuple[Entry, str | None]]:
        newer: list[tuple[Entry, str | None]] = []
        for pair in reversed(self.entries):
            if pair[0].seq <= seq:
                break
            newer.append(pair)
        newer.reverse()
        return newer


@dataclass
class Journal:
    """One tenant's (or the server's) log. ``numbering`` is shared by the whole server;
    ``followers`` are this journal's live readers; ``feed`` (named ``owner`` there) takes
    each entry too while the whole server is followed."""

    numbering: Iterator[int]
    capacity: int = JOURNAL_SIZE
    followers: Followers = field(default_factory=Followers)
    feed: Feed | None = None
    owner: str | None = None
    dropped: int = 0
    # The seq of the last entry dropped for room: a live reader that had not read up to
    # it has missed entries.
    last_dropped: int = 0
    # Entries other than requests and events recorded since the last clear (a clock
    # move, a fault, an expiry …): a tenant with any is never forgotten (`TenantRegistry`).
    noted: int = 0
    entries: deque[Entry] = field(init=False)

    def __post_init__(self) -> None:
        self.entries = deque(maxlen=self.capacity)

    def record(
        self, at: float, kind: str, session: str | None = None, **fields: Any
    ) -> dict[str, Any]:
        """Add an entry; returns its fields so a caller may complete them later."""
        return self.record_fields(at, kind, session, fields)

    def record_fields(
        self, at: float, kind: str, session: str | None, fields: dict[str, Any]
    ) -> dict[str, Any]:
        """`record` with the fields as one dict, which entries may share (a bulk delete
        journals ten thousand sessions with the same few fields)."""
        self.noted += 1
        self._append(Entry(next(self.numbering), at, kind, session, fields))
        return fields

    def record_lazy(self, at: float, kind: str, session: str | None, fields: Rendered) -> None:
        """Add an entry whose fields are rendered when read (requests, events): on the
        hot path, so `_append` is written out here."""
        entries = self.entries
        if len(entries) == self.capacity:
            self.dropped += 1
            self.last_dropped = entries[0].seq
        entry = Entry(next(self.numbering), at, kind, session, fields)
        entries.append(entry)
        if self.followers:
            self.followers.wake()
        feed = self.feed
        if feed is not None and feed.followers:
            feed.push(entry, self.owner)

    def _append(self, entry: Entry) -> None:
        if len(self.entries) == self.capacity:
            self.dropped += 1
            self.last_dropped = self.entries[0].seq
        self.entries.append(entry)
        if self.followers:
            self.followers.wake()
        if self.feed is not None and self.feed.followers:
            self.feed.push(entry, self.owner)

    def clear(self) -> None:
        self.entries.clear()
        self.dropped = 0
        self.noted = 0

    @property
    def last_seq(self) -> int:
        """The seq of the newest entry kept; 0 when empty."""
        return self.entries[-1].seq if self.entries else 0

    def newer_than(self, seq: int) -> list[Entry]:
        """The entries after ``seq``, in order, found from the newest end: a reader that
        keeps up reads only what is new, however long the journal."""
        newer: list[Entry] = []
        for entry in reversed(self.entries):
            if entry.seq <= seq:
                break
            newer.append(entry)
        newer.reverse()
        return newer

    def select(self, query: JournalQuery) -> list[Entry]:
        entries = self.newer_than(query.since) if query.since else self.entries
        return [entry for entry in entries if query.matches(entry)]

    def read(self, query: JournalQuery) -> dict[str, Any]:
        """``GET /_mock/journal`` for one tenant."""
        return _answer([(entry, None) for entry in self.select(query)], self.dropped)


def new_numbering() -> Iterator[int]:
    return itertools.count(1)


def read_merged(
    journals: Iterable[tuple[str | None, Journal]], query: JournalQuery
) -> dict[str, Any]:
    """The keyless view (C2): every journal merged by ``seq``, each entry naming its tenant
    (``None`` for the server's own)."""
    journals = list(journals)
    streams = [[(entry, tenant) for entry in journal.select(query)] for tenant, journal in journals]
    dropped = sum(journal.dropped for _, journal in journals)
    merged = list(heapq.merge(*streams, key=lambda pair: pair[0].seq))
    return _answer(merged, dropped, keyless=True)


def _answer(
    pairs: list[tuple[Entry, str | None]], dropped: int, *, keyless: bool = False
) -> dict[str, Any]:
    return {
        "entries": [entry.render(tenant, keyless=keyless) for entry, tenant in pairs],
        "dropped": dropped,
        "last": pairs[-1][0].seq if pairs else None,
    }


Journals = Callable[[], list[tuple[str | None, Journal]]]


class Follower:
    """One live reader of some journals (C4's stream): each `read` returns what was
    recorded since the last, in order, at most ``limit`` entries at a time.

    ``journals`` is asked anew at every read, since a reset replaces the tenants. It
    names each journal's tenant; ``keyless`` readers see that name in each entry (C2).
    """

    def __init__(
        self,
        journals: Journals,
        query: JournalQuery,
        *,
        keyless: bool,
        feed: Feed | None = None,
    ):
        self._journals = journals
        self._query = query
        self._keyless = keyless
        self._feed = feed  # a keyless reader that is following already reads only it
        self._caught_up = False
        self.position = query.since  # the seq read up to
        self._missed_up_to = query.since  # the last dropped seq already reported

    def read(self, limit: int = 1000) -> tuple[list[tuple[int, dict[str, Any]]], bool]:
        """``(seq, entry)`` pairs, and whether entries were dropped for room before this
        reader could read them. A reader of the `Feed` catches up from the journals once,
        then reads what the feed took since (it must be among its followers by then)."""
        if self._feed is not None and self._caught_up:
            return self._read_feed(self._feed, limit)
        rendered, missed = self._read_journals(limit)
        self._caught_up = len(rendered) < limit
        return rendered, missed

    def _read_feed(self, feed: Feed, limit: int) -> tuple[list[tuple[int, dict[str, Any]]], bool]:
        missed = feed.last_dropped > max(self.position, self._missed_up_to)
        if missed:
            self._missed_up_to = feed.last_dropped
        newer = feed.newer_than(self.position)
        pairs = [pair for pair in newer if self._query.matches(pair[0])][:limit]
        if pairs and len(pairs) == limit:
            self.position = pairs[-1][0].seq
        elif newer:
            self.position = newer[-1][0].seq
        return [(e.seq, e.render(t, keyless=self._keyless)) for e, t in pairs], missed

    def _read_journals(self, limit: int) -> tuple[list[tuple[int, dict[str, Any]]], bool]:
        after, newest, missed = self.position, self.position, False
        streams = []
        for tenant, journal in self._journals():
            if journal.last_dropped > max(after, self._missed_up_to):
                missed, self._missed_up_to = True, journal.last_dropped
            newer = journal.newer_than(after)
            if newer:
                newest = max(newest, newer[-1].seq)
                streams.append([(e, tenant) for e in newer if self._query.matches(e)])
        pairs = list(itertools.islice(heapq.merge(*streams, key=lambda p: p[0].seq), limit))
        self.position = pairs[-1][0].seq if len(pairs) == limit else newest
        rendered = [(e.seq, e.render(t, keyless=self._keyless)) for e, t in pairs]
        return rendered, missed
