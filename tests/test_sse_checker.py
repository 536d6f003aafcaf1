"""The contract tests' event-stream checker (contract_tests/sse.py) on crafted bytes: it
passes a well-framed stream however the bytes are split, and names each rule a broken one
breaks (WHATWG parsing, M3 framing, M4 order)."""

from __future__ import annotations

import json

import pytest

from contract_tests.sse import EventStreamChecker, Frame


def event(seq: int, kind: str, **data: object) -> bytes:
    payload = json.dumps({**data, "sequence_number": seq}, separators=(",", ":"))
    return f"id: {seq}\nevent: {kind}\ndata: {payload}\n\n".encode()


GOOD = (
    event(0, "message.created", id="msg_1", session_id="sess_1", status="in_progress")
    + event(1, "text.start")
    + b": ping\n\n"
    + event(2, "text.delta", content="hi")
    + event(3, "text.stop")
    + event(4, "message.completed", id="msg_1", status="completed")
)


def check(
    body: bytes, *, strict: bool = True, first_seq: int | None = 0, cut: bool = False, step: int = 0
) -> tuple[list[Frame], EventStreamChecker]:
    checker = EventStreamChecker(first_seq=first_seq, strict=strict)
    frames: list[Frame] = []
    size = step or len(body) or 1
    for start in range(0, len(body), size):
        frames += checker.feed(body[start : start + size])
    if not cut:
        frames += checker.flush()
    checker.finish(cut=cut, stopped=False)
    return frames, checker


@pytest.mark.parametrize("step", [0, 1, 2, 7])
def test_a_well_framed_stream_passes_however_it_is_split(step: int) -> None:
    frames, checker = check(GOOD, step=step)
    assert checker.problems == []
    assert [f.seq for f in frames] == [0, 1, 2, 3, 4]
    assert frames[2].data == {"content": "hi", "sequence_number": 2}
    assert checker.pings == 1


@pytest.mark.parametrize("step", [0, 1, 3])
def test_crlf_and_cr_line_ends_parse_as_whatwg_says_and_are_only_the_mocks_choice(
    step: int,
) -> None:
    for ending in (b"\r\n", b"\r"):
        body = GOOD.replace(b"\n", ending)
        frames, lenient = check(body, strict=False, step=step)
        assert lenient.problems == [], ending
        assert len(frames) == 5
        _, strict = check(body, step=step)
        assert strict.problems
        assert all("ends with" in p for p in strict.problems)


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (GOOD.replace(b"id: 1\nevent: text.start\n", b"event: text.start\nid: 1\n"), "not id"),
        (GOOD.replace(b"id: 1\n", b"id: 1\nretry: 10\n"), "retry"),
        (GOOD.replace(b"id: 2\n", b"id: 02\n"), "plain decimal"),
        (GOOD.replace(b"id: 2\n", b"id:2\n"), "no space"),
        (GOOD.replace(b"event: text.start\n", b": hi\nevent: text.start\n"), "comment lines"),
        (GOOD.replace(b'"sequence_number":3', b'"sequence_number":7'), "sequence_number"),
        (GOOD.replace(b'data: {"sequence_number":1}', b"data: {nope"), "not JSON"),
        (GOOD.replace(b'data: {"sequence_number":1}', b"data: [1]"), "not a JSON object"),
        (GOOD.replace(b'data: {"sequence_number":1}', b"data: null"), "not a JSON object"),
        (GOOD.replace(b"event: text.start", b"event: text.begin"), "unknown event type"),
        (GOOD + b": ping\n\n", "comment after the terminal"),
        (GOOD + event(5, "text.start"), "after the terminal"),
        (GOOD.split(b"id: 4")[0], "without a terminal"),
        (GOOD[:-1], "inside an event"),
        (b"\xef\xbb\xbf" + GOOD, "byte order mark"),
        (GOOD.replace(b"hi", b"\xff"), "not UTF-8"),
        (event(0, "text.start") + event(1, "message.completed"), "not message.created"),
        (b"", "without any event"),
    ],
)
def test_each_broken_rule_is_named(body: bytes, problem: str) -> None:
    _, checker = check(body)
    assert any(problem in p for p in checker.problems), checker.problems


def test_a_seq_gap_is_reported_where_it_happens() -> None:
    body = GOOD.replace(b"id: 3\n", b"id: 4\n").replace(
        b'"sequence_number":3', b'"sequence_number":4'
    )
    _, checker = check(body)
    assert "M3: seq 4 where 3 was due" in checker.problems


def test_a_resume_starts_after_the_last_event_id_and_may_be_empty() -> None:
    rest = GOOD[GOOD.index(b"id: 3") :]
    frames, checker = check(rest, first_seq=3)
    assert checker.problems == []
    assert [f.seq for f in frames] == [3, 4]
    _, wrong = check(rest, first_seq=2)
    assert "M3: seq 3 where 2 was due" in wrong.problems
    assert check(b"", first_seq=5)[1].problems == []  # nothing after the terminal


def test_a_cut_stream_drops_its_unfinished_event_quietly() -> None:
    frames, checker = check(GOOD[: GOOD.index(b"id: 3") + 12], cut=True)
    assert checker.problems == []
    assert [f.seq for f in frames] == [0, 1, 2]


def test_on_a_deployment_only_the_documented_framing_is_held() -> None:
    """M3 [C] (seq grows by exactly one) and M7 [C] (a resume starts at n + 1) are the
    mock's choices: a deployment's stream is held to seq starting at 0 and growing, and a
    resume to events after n."""
    gapped = (
        event(0, "message.created", id="m", session_id="s", status="in_progress")
        + event(2, "text.delta", content="hi")
        + b"id: 5\nevent: message.completed\ndata: "
        + json.dumps({"id": "m", "status": "completed", "sequence_number": 5}).encode()
        + b"\nretry: 1000\n\n"
    )
    _, strict = check(gapped)
    assert any("seq 2 where 1 was due" in p for p in strict.problems)
    assert any("retry" in p for p in strict.problems)
    _, lenient = check(gapped, strict=False)
    assert not any("was due" in p or "a retry field" in p for p in lenient.problems)
    # ... though three field lines and no more is documented (M3 [D]) on any target.
    assert any("not id, event, data" in p for p in lenient.problems)
    _, late_start = check(event(1, "message.created", id="m", session_id="s"), strict=False)
    assert any("seq 1 where 0 was due" in p for p in late_start.problems)
    _, resumed = check(event(9, "text.delta", content="x"), strict=False, first_seq=4)
    assert not any("was due" in p for p in resumed.problems)
    _, backwards = check(event(3, "text.delta", content="x"), strict=False, first_seq=4)
    assert any("seq 3 where 4 was due" in p for p in backwards.problems)
