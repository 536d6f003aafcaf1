"""C4 live, as plain Python: incremental reads from the newest end, the `Follower` that the
journal stream and the inspector read through, and `Followers`, woken by recording only
while someone follows."""

from __future__ import annotations

import asyncio

from mock_pokee.domain.events import Deliveries, Event, EventRecord
from mock_pokee.domain.journal import (
    Feed,
    Follower,
    Followers,
    Journal,
    JournalQuery,
    RequestRecord,
    kept_headers,
    kept_path,
    new_numbering,
)
from mock_pokee.limits import MAX_JOURNALED_DATA, MAX_KEPT_HEADER_BYTES, MAX_KEPT_PATH


def request(path: str) -> RequestRecord:
    return RequestRecord("GET", path, [(b"authorization", b"Bearer pk_acme_0123456789abcdef")])


def test_c4_newer_than_reads_only_what_is_new() -> None:
    journal = Journal(new_numbering())
    for n in range(6):
        journal.record(float(n), "clock", None, n=n)
    assert [e.seq for e in journal.newer_than(4)] == [5, 6]
    assert [e.seq for e in journal.newer_than(6)] == []
    assert [e.seq for e in journal.newer_than(0)] == [1, 2, 3, 4, 5, 6]
    assert [e.seq for e in journal.select(JournalQuery.parse({"since": "5"}))] == [6]


def test_c4_recording_wakes_followers_only_while_there_are_some() -> None:
    followers = Followers()
    journal = Journal(new_numbering(), followers=followers)
    journal.record(1.0, "clock", None)  # nobody follows: nothing to wake, nothing fails
    assert not followers
    woken = asyncio.Event()
    followers.add(woken)
    journal.record_lazy(2.0, "request", None, request("/v1/usage"))
    assert woken.is_set()
    woken.clear()
    journal.record(3.0, "expiry", "sess_a", reason="idle")
    assert woken.is_set()


def test_c2_a_keyless_follower_merges_every_journal_in_order_naming_tenants() -> None:
    numbering = new_numbering()
    server, acme, umbrella = (Journal(numbering) for _ in range(3))
    acme.record(1.0, "clock", None)
    server.record_lazy(2.0, "request", None, request("/health"))
    umbrella.record(3.0, "expiry", "sess_u", reason="ttl")
    journals = [(None, server), ("acme", acme), ("umbrella", umbrella)]
    follower = Follower(lambda: journals, JournalQuery(), keyless=True)
    entries, missed = follower.read()
    assert [(seq, e["tenant"]) for seq, e in entries] == [(1, "acme"), (2, None), (3, "umbrella")]
    assert not missed
    assert follower.read() == ([], False)  # nothing new
    acme.record(4.0, "clock", None)
    assert [seq for seq, _ in follower.read()[0]] == [4]


def test_c4_a_follower_applies_the_filters_and_reads_in_bounded_batches() -> None:
    journal = Journal(new_numbering())
    for n in range(10):
        journal.record(float(n), "expiry" if n % 2 else "clock", "sess_a")
    follower = Follower(
        lambda: [("acme", journal)], JournalQuery.parse({"kind": "expiry"}), keyless=False
    )
    first, _ = follower.read(limit=3)
    second, _ = follower.read(limit=3)
    assert [seq for seq, _ in first] == [2, 4, 6]
    assert [seq for seq, _ in second] == [8, 10]
    assert all("tenant" not in entry and entry["kind"] == "expiry" for _, entry in first)
    assert follower.position == 10


def test_c4_a_follower_that_fell_behind_a_full_journal_is_told_once() -> None:
    journal = Journal(new_numbering(), capacity=3)
    follower = Follower(lambda: [("acme", journal)], JournalQuery(), keyless=False)
    journal.record(1.0, "clock", None)
    assert follower.read()[1] is False
    for n in range(5):  # seq 2…6: 2 and 3 are dropped before the follower reads them
        journal.record(float(n), "clock", None)
    entries, missed = follower.read()
    assert [seq for seq, _ in entries] == [4, 5, 6]
    assert missed
    journal.record(9.0, "clock", None)  # drops 4, which this follower has read
    entries, missed = follower.read()
    assert [seq for seq, _ in entries] == [7]
    assert not missed


def test_c4_a_follower_starting_after_what_was_dropped_has_missed_nothing() -> None:
    journal = Journal(new_numbering(), capacity=2)
    for n in range(5):
        journal.record(float(n), "clock", None)
    follower = Follower(
        lambda: [("acme", journal)], JournalQuery.parse({"since": "3"}), keyless=False
    )
    entries, missed = follower.read()
    assert [seq for seq, _ in entries] == [4, 5]
    assert not missed


def test_c2_a_keyless_follower_once_caught_up_reads_only_the_feed() -> None:
    """An entry costs a keyless reader that entry, not a pass over every journal: with
    a thousand tenants, reads after the catch-up never ask for the journals again."""
    numbering, feed = new_numbering(), Feed()
    journals = [Journal(numbering, feed=feed, owner=f"t{n}") for n in range(999)]
    for journal in journals:
        journal.record(0.0, "clock", None)
    asked = 0

    def every() -> list[tuple[str | None, Journal]]:
        nonlocal asked
        asked += 1
        return [(j.owner, j) for j in journals]

    woken = asyncio.Event()
    feed.followers.add(woken)  # a stream joins the feed before its first read
    follower = Follower(every, JournalQuery(), keyless=True, feed=feed)
    caught_up, _ = follower.read()
    assert len(caught_up) == 999  # fewer than a batch: caught up
    assert asked == 1
    journals[7].record(1.0, "fault", None, rule="x")
    journals[3].record_lazy(2.0, "request", None, request("/v1/usage"))
    assert woken.is_set()
    more, missed = follower.read()
    assert [(entry["tenant"], entry["kind"]) for _, entry in more] == [
        ("t7", "fault"),
        ("t3", "request"),
    ]
    assert not missed
    assert asked == 1  # the feed alone


def test_c4_the_feed_keeps_nothing_while_nobody_follows_and_tells_of_a_gap() -> None:
    numbering, feed = new_numbering(), Feed(capacity=2)
    journal = Journal(numbering, feed=feed, owner="acme")
    journal.record(0.0, "clock", None)
    assert not feed.entries  # nobody follows the whole server
    woken = asyncio.Event()
    feed.followers.add(woken)
    follower = Follower(lambda: [("acme", journal)], JournalQuery(), keyless=True, feed=feed)
    assert len(follower.read()[0]) == 1
    for n in range(3):
        journal.record(float(n), "clock", None)
    entries, missed = follower.read()
    assert missed  # three recorded, two kept
    assert [seq for seq, _ in entries] == [3, 4]
    feed.leave(woken)
    assert not feed.entries


def test_c4_a_request_entry_keeps_a_bounded_part_of_huge_headers() -> None:
    """Twenty requests with a 5 MB header must not make a journal of 100 MB."""
    small = [(b"authorization", b"Bearer pk_acme_0123456789abcdef"), (b"x-trace", b"abc")]
    assert kept_headers(small) is small  # the usual case: nothing copied
    huge = [*small, (b"x-blob", b"z" * 5_000_000), *[(b"x-%d" % n, b"v") for n in range(5000)]]
    kept = kept_headers(huge)
    assert sum(len(n) + len(v) for n, v in kept) <= MAX_KEPT_HEADER_BYTES + 200
    assert kept[:2] == small
    assert kept[2][1].endswith(b"... (5000000 bytes in all)")
    assert kept[-1][0] == b"x-mock-journal"
    left_out = int(kept[-1][1].split()[0])
    assert len(kept) - 1 + left_out == len(huge)
    shown = RequestRecord("GET", "/v1/usage", kept).render()["headers"]
    assert shown["authorization"] == "Bearer pk_acme_…cdef"  # still masked as a key


def test_c4_an_event_entry_carries_its_data_whole_or_cut() -> None:
    short = Event(3, "text.delta", '{"content":"hi","sequence_number":3}')
    rendered = EventRecord.of("msg_1", short, Deliveries()).render()
    assert rendered["data"] == {"content": "hi", "sequence_number": 3}
    long = Event(4, "text.delta", '{"content":"' + "x" * 10_000 + '","sequence_number":4}')
    cut = EventRecord.of("msg_1", long, Deliveries()).render()["data"]
    assert isinstance(cut, str)
    assert len(cut) == MAX_JOURNALED_DATA + 1
    assert cut.endswith("…")


def test_c4_a_request_entry_keeps_a_bounded_part_of_a_long_path() -> None:
    """A 64 KiB target times 20,000 entries would be a gigabyte, which every ``?path=``
    filter would also walk."""
    short = "/v1/sessions/sess_1/files/a.txt"
    assert kept_path(short) is short
    long = "/v1/sessions/sess_1/files/" + "a/" * 30_000
    kept = kept_path(long)
    assert kept.startswith(long[:MAX_KEPT_PATH])
    assert kept.endswith(f"... ({len(long)} characters in all)")
    assert len(kept) < MAX_KEPT_PATH + 40
