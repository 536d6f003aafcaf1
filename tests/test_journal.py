"""C4's journal as plain Python: bounded with a count of what was dropped, filters,
incremental reads, and the keyless merge in the order things happened."""

from __future__ import annotations

import pytest

from mock_pokee.domain.errors import InvalidRequest
from mock_pokee.domain.journal import (
    Journal,
    JournalQuery,
    RequestRecord,
    new_numbering,
    read_merged,
)


def request(path: str, method: str = "GET") -> RequestRecord:
    return RequestRecord(method, path, [(b"Authorization", b"Bearer pk_acme_0123456789abcdef")])


def test_a_full_journal_drops_its_oldest_and_counts_them() -> None:
    journal = Journal(new_numbering(), capacity=3)
    for n in range(5):
        journal.record(float(n), "clock", None, n=n)
    answer = journal.read(JournalQuery())
    assert [e["n"] for e in answer["entries"]] == [2, 3, 4]
    assert answer["dropped"] == 2
    for n in range(2):  # entries rendered when read take their room the same way
        journal.record_lazy(5.0 + n, "request", None, request(f"/v1/{n}"))
    answer = journal.read(JournalQuery())
    assert [e["seq"] for e in answer["entries"]] == [5, 6, 7]
    assert answer["dropped"] == 4
    journal.clear()
    assert journal.read(JournalQuery()) == {"entries": [], "dropped": 0, "last": None}


def test_request_entries_render_when_read_with_the_key_masked() -> None:
    journal = Journal(new_numbering())
    record = request("/v1/usage")
    journal.record_lazy(1.0, "request", None, record)
    record.status, record.outcome = 200, "complete"  # completed after it was recorded
    (entry,) = journal.read(JournalQuery())["entries"]
    assert entry["status"] == 200
    assert entry["outcome"] == "complete"
    assert entry["headers"] == {"authorization": "Bearer pk_acme_…cdef"}


def test_filters_combine() -> None:
    journal = Journal(new_numbering())
    journal.record_lazy(1.0, "request", "sess_a", request("/v1/sessions/sess_a"))
    journal.record_lazy(2.0, "request", "sess_b", request("/v1/sessions/sess_b", "DELETE"))
    journal.record(3.0, "turn.start", "sess_a", response_id="msg_1")
    journal.record(4.0, "turn.end", "sess_a", response_id="msg_1")

    def seqs(**params: str) -> list[int]:
        return [e["seq"] for e in journal.read(JournalQuery.parse(params))["entries"]]

    assert seqs(kind="turn") == [3, 4]
    assert seqs(kind="request,turn.end") == [1, 2, 4]
    assert seqs(session="sess_a") == [1, 3, 4]
    assert seqs(method="delete") == [2]
    assert seqs(path="/v1/sessions/*", session="sess_a") == [1]
    assert seqs(since="2") == [3, 4]


def test_the_keyless_view_merges_journals_in_order() -> None:
    numbering = new_numbering()
    server, acme, beta = (Journal(numbering) for _ in range(3))
    acme.record(1.0, "clock", None)
    server.record(1.0, "clock", None)
    beta.record(1.0, "clock", None)
    acme.record(1.0, "clock", None)
    merged = read_merged([(None, server), ("acme", acme), ("beta", beta)], JournalQuery())
    assert [(e["seq"], e["tenant"]) for e in merged["entries"]] == [
        (1, "acme"),
        (2, None),
        (3, "beta"),
        (4, "acme"),
    ]


@pytest.mark.parametrize(
    "params",
    [{"kind": "requests"}, {"since": "x"}, {"since": "1" * 19}, {"path": "/" * 513}],
)
def test_bad_filters_name_the_parameter(params: dict[str, str]) -> None:
    with pytest.raises(InvalidRequest, match=next(iter(params))):
        JournalQuery.parse(params)
