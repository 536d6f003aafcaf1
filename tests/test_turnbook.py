"""The turn book without HTTP: which turn runs where (M2), retention of finished turns
(M7), idempotency keys (M9) and the turn time limit (M10)."""

from __future__ import annotations

import asyncio

import pytest

from mock_pokee.clock import Clock
from mock_pokee.domain.errors import IdempotencyMismatch, NotFound
from mock_pokee.domain.runbook import IDEMPOTENCY_TTL, RETENTION, RUN_TIMEOUT
from mock_pokee.domain.turnbook import TurnBook
from mock_pokee.domain.turns import Turn
from mock_pokee.limits import MAX_FINISHED_TURNS

T0 = 1_700_000_000.0


def book_and_turn(session: str = "sess_a") -> tuple[Clock, TurnBook, Turn]:
    clock = Clock("virtual", now=T0)
    book = TurnBook(clock)
    turn = Turn(session_id=session, message="m", scenario="s", clock=clock, on_end=book.finished)
    return clock, book, turn


def test_a_running_turn_is_found_by_session_and_by_id() -> None:
    _, book, turn = book_and_turn()
    book.add(turn, None, "")
    assert book.running("sess_a") is turn
    assert book.get("sess_a", turn.id) is turn
    with pytest.raises(NotFound, match=turn.id):
        book.get("sess_other", turn.id)  # another session's turn does not exist here
    with pytest.raises(NotFound):
        book.get("sess_a", "msg_unknown")


def test_m7_a_finished_turn_is_kept_120_seconds_then_evicted() -> None:
    clock, book, turn = book_and_turn()

    async def go() -> None:
        book.add(turn, None, "")
        turn.end("completed")
        assert book.running("sess_a") is None
        await clock.advance(RETENTION - 1)
        assert book.get("sess_a", turn.id) is turn
        await clock.advance(1)

    asyncio.run(go())
    assert book.retained(turn.id) is None
    with pytest.raises(NotFound, match="120 s"):
        book.get("sess_a", turn.id)


def test_m10_a_turn_still_running_after_90_minutes_ends_with_turn_timeout() -> None:
    clock, book, turn = book_and_turn()
    book.add(turn, None, "")
    asyncio.run(clock.advance(RUN_TIMEOUT - 0.5))
    assert turn.running
    asyncio.run(clock.advance(0.5))
    assert turn.status == "error"
    assert turn.error == "turn_timeout"


def test_m9_a_key_recalls_its_turn_only_for_the_same_session_and_body() -> None:
    clock, book, turn = book_and_turn()
    book.add(turn, "key-1", "hash-a")
    record = book.recall("key-1", "sess_a", "hash-a")
    assert record is not None
    assert record.response_id == turn.id
    assert book.recall("key-2", "sess_a", "hash-a") is None
    with pytest.raises(IdempotencyMismatch, match="another session"):
        book.recall("key-1", "sess_b", "hash-a")
    with pytest.raises(IdempotencyMismatch, match=r"different body on this session$"):
        book.recall("key-1", "sess_a", "hash-b")
    asyncio.run(clock.advance(IDEMPOTENCY_TTL))
    assert book.recall("key-1", "sess_b", "hash-b") is None  # forgotten: no mismatch either


def test_clear_cancels_running_turns_and_forgets_everything() -> None:
    clock, book, turn = book_and_turn()

    async def go() -> None:
        book.add(turn, "key", "h")
        book.clear()

    asyncio.run(go())
    assert turn.status == "cancelled"
    assert book.running("sess_a") is None
    assert book.retained(turn.id) is None
    assert book.recall("key", "sess_a", "h") is None
    assert book.describe() == []
    assert clock.pending == 0


def finish_turns(book: TurnBook, clock: Clock, count: int, text: str = "") -> list[Turn]:
    turns = []
    for n in range(count):
        turn = Turn(
            session_id=f"sess_{n}", message="m", scenario="s", clock=clock, on_end=book.finished
        )
        book.add(turn, None, "")
        if text:
            turn.emit("text.delta", content=text)
        turn.end("completed")
        turns.append(turn)
    return turns


def test_m7_a_tenant_keeps_a_bounded_number_of_finished_turns_under_a_still_clock() -> None:
    """The 120 s of M7 may never pass on a test's clock: past `MAX_FINISHED_TURNS` the
    oldest finished turns go early, as if their time had come (404 to a resume)."""
    clock = Clock("virtual", now=T0)
    book = TurnBook(clock)

    async def go() -> list[Turn]:  # the turn time limit's timer needs a running loop
        return finish_turns(book, clock, MAX_FINISHED_TURNS + 5)

    turns = asyncio.run(go())
    assert len(book.describe()) == MAX_FINISHED_TURNS
    with pytest.raises(NotFound):
        book.get("sess_0", turns[0].id)
    assert book.get(f"sess_{len(turns) - 1}", turns[-1].id) is turns[-1]


def test_m7_and_a_bounded_size_of_their_events(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("mock_pokee.domain.runbook.MAX_FINISHED_BYTES", 10_000)
    clock = Clock("virtual", now=T0)
    book = TurnBook(clock)

    async def go() -> list[Turn]:
        turns = finish_turns(book, clock, 6, text="x" * 3_000)  # each over 3,000 bytes
        kept = [t["id"] for t in book.describe()]
        assert kept == [t.id for t in turns[-3:]]
        book.clear()
        return finish_turns(book, clock, 1, text="y" * 50_000)  # alone over the bound: kept

    asyncio.run(go())
    assert len(book.describe()) == 1
