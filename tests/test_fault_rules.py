"""C5's rules as plain Python: schedules, counting, which rule fires, validation."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from mock_pokee.domain.errors import InvalidRequest, NotFound
from mock_pokee.domain.faults import Attempt, FaultBook, RuleSpec, StatusFault
from mock_pokee.limits import MAX_RULES

GET_USAGE = Attempt("GET", "/v1/usage")


def spec(schedule: dict[str, Any] | None = None, **match: str) -> RuleSpec:
    return RuleSpec.model_validate(
        {"fault": {"type": "status", "status": 503}, "match": match, "schedule": schedule or {}}
    )


def fired(book: FaultBook, attempts: int, attempt: Attempt = GET_USAGE) -> list[bool]:
    return [book.choose(attempt) is not None for _ in range(attempts)]


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [
        ({"nth": [2, 5]}, [False, True, False, False, True, False]),
        ({"times": 3}, [True, True, True, False, False, False]),
        ({"every": 3}, [False, False, True, False, False, True]),
        ({}, [True] * 6),
    ],
)
def test_schedules(schedule: dict[str, Any], expected: list[bool]) -> None:
    book = FaultBook()
    rule = book.add(spec(schedule))
    assert fired(book, 6) == expected
    assert rule.matched == 6
    assert rule.hits == sum(expected)


def test_a_seed_replays_and_another_seed_differs() -> None:
    def sequence(seed: int) -> list[bool]:
        book = FaultBook()
        book.add(spec({"probability": 0.5, "seed": seed}))
        return fired(book, 64)

    assert sequence(7) == sequence(7)
    assert sequence(7) != sequence(8)


def test_a_rule_counts_only_what_it_matches() -> None:
    book = FaultBook()
    rule = book.add(spec({"nth": [2]}, method="POST", path="/v1/sessions/*/messages"))
    post = Attempt("POST", "/v1/sessions/sess_1/messages")
    assert book.choose(Attempt("GET", "/v1/sessions/sess_1/messages")) is None
    assert book.choose(Attempt("POST", "/v1/sessions")) is None
    assert rule.matched == 0
    assert [book.choose(post) is not None for _ in range(2)] == [False, True]


def test_session_and_scenario_must_both_match_when_given() -> None:
    book = FaultBook()
    book.add(spec(session="sess_a", scenario="report"))
    path = "/v1/sessions/sess_a/messages"
    assert book.choose(Attempt("POST", path, "sess_a", "report")) is not None
    assert book.choose(Attempt("POST", path, "sess_a", "presentation")) is None
    assert book.choose(Attempt("POST", path, "sess_b", "report")) is None
    assert book.choose(Attempt("POST", path, "sess_a", None)) is None


def test_the_oldest_hitting_rule_fires_and_fire_false_only_counts() -> None:
    book = FaultBook()
    older = book.add(spec({"nth": [2]}))
    newer = book.add(spec())
    first, second = book.choose(GET_USAGE), book.choose(GET_USAGE)
    assert first is not None
    assert first.rule == newer.id  # the older one misses attempt 1
    assert second is not None
    assert second.rule == older.id
    assert book.choose(GET_USAGE, fire=False) is None
    assert (older.matched, older.hits, newer.matched, newer.hits) == (3, 1, 3, 1)


def test_adding_or_removing_a_rule_is_seen_by_the_next_attempt() -> None:
    """The per-path candidate cache is dropped whenever the rules change."""
    book = FaultBook()
    assert book.choose(GET_USAGE) is None
    rule = book.add(spec())
    assert book.choose(GET_USAGE) is not None
    book.remove(rule.id)
    assert book.choose(GET_USAGE) is None
    with pytest.raises(NotFound):
        book.remove(rule.id)


def test_a_book_holds_a_bounded_number_of_rules() -> None:
    book = FaultBook()
    for _ in range(MAX_RULES):
        book.add(spec())
    with pytest.raises(InvalidRequest, match="at most"):
        book.add(spec())
    assert book.clear() == MAX_RULES


@pytest.mark.parametrize(
    "body",
    [
        {"fault": {"type": "status", "status": 503}, "schedule": {"nth": []}},
        {"fault": {"type": "status", "status": 503}, "schedule": {"every": 0}},
        {"fault": {"type": "status", "status": 503}, "schedule": {"probability": 0}},
        {"fault": {"type": "status", "status": 503}, "schedule": {"probability": 1.5}},
        {"fault": {"type": "status", "status": 503}, "schedule": {"nth": [1.5]}},
        {"fault": {"type": "delay", "seconds": "1"}},  # a number as JSON writes one
        {"fault": {"type": "delay", "seconds": True}},
        {"fault": {"type": "drip", "bytes_per_second": "200"}},
        {"fault": {"type": "status", "status": 503, "retry_after": float("inf")}},
        {"fault": {"type": "delay", "seconds": float("nan")}},
        {"fault": {"type": "drop", "after_events": True}},
        {"fault": {"type": "status", "status": 503}, "match": {"method": "G E T"}},
    ],
)
def test_impossible_rules_are_refused(body: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        RuleSpec.model_validate(body)


def test_whole_numbers_are_read_as_json_schema_reads_them() -> None:
    """``2.0`` is an integer (as ``ttl`` reads it, S1), stored and shown as 2."""
    rule = RuleSpec.model_validate(
        {"fault": {"type": "status", "status": 503.0}, "schedule": {"nth": [2.0, 3]}}
    )
    assert rule.schedule.nth == [2, 3]
    assert isinstance(rule.fault, StatusFault)
    assert type(rule.fault.status) is int


def test_describe_shows_the_rule_as_given_with_its_counts() -> None:
    book = FaultBook()
    rule = book.add(spec({"times": 1}, path="/v1/usage"))
    book.choose(GET_USAGE)
    book.choose(GET_USAGE)
    assert rule.describe() == {
        "id": rule.id,
        "match": {"path": "/v1/usage"},
        "fault": {"type": "status", "status": 503},
        "schedule": {"times": 1},
        "hits": 1,
        "matched": 2,
    }
