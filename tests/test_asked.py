"""What a message asks for (D): the topic without the instructions, the count of slides or
pages, the workspace path, the tool; and that reading it takes linear time, so a hostile
message cannot stall the server (issue 9, defect 1)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import pytest

from mock_pokee.domain.tools import parse_tools
from mock_pokee.scenarios import documents
from mock_pokee.scenarios.asked import (
    asked_tool,
    requested_count,
    requested_path,
    slug_of,
    topic_of,
)
from mock_pokee.scenarios.documents import markdown_report, part_count
from tests.processes import start_serve


@pytest.mark.parametrize(
    ("message", "topic"),
    [
        ("Build a Temasek-style PPT on Q3 NVIDIA performance.", "Q3 NVIDIA performance"),
        (
            "Research Q3 NVIDIA performance and write it to /opt/sandbox/workspace/report.md",
            "Q3 NVIDIA performance",
        ),
        (
            "Write a report on Q3 NVIDIA performance and write it to "
            "/opt/sandbox/workspace/report.md",
            "Q3 NVIDIA performance",
        ),
        ("Research solar; write it to /opt/sandbox/workspace/notes/solar.md.", "solar"),
        ("Build a deck on tides with 10 slides", "tides"),
        ("Make a 10-slide deck about coral reefs, then email it", "coral reefs"),
        ("Create a presentation of ten slides on the Roman Empire", "the Roman Empire"),
        ("Make a deck for the board on Q3 results", "Q3 results"),
        ("Write a 5-page report on (solar power)", "solar power"),
        ("Analyse churn in 2025. Keep it short.", "churn in 2025"),
        ("hello", "hello"),
        ("make slides", "Untitled"),
        ("   ", "Untitled"),
    ],
)
def test_d_the_topic_is_the_subject_without_the_instructions(message: str, topic: str) -> None:
    assert topic_of(message) == topic


def test_d_a_long_topic_is_cut_at_a_word() -> None:
    topic = topic_of("A deck on " + "very " * 100 + "long things")
    assert len(topic) <= 120
    assert topic.endswith("very")


@pytest.mark.parametrize(
    ("message", "count"),
    [
        ("a 10-slide deck", 10),
        ("a deck with 12 slides", 12),
        ("ten pages on X", 10),
        ("3 sections please", 3),
        ("a deck (7 slides)", 7),
        ("a deck on the 10 best slides", None),  # "best" stands between
        ("a deck", None),
        ("1234567 slides", None),  # not a count the mock takes literally
    ],
)
def test_d_the_count_of_slides_or_pages(message: str, count: int | None) -> None:
    assert requested_count(message) == count


def test_d_slug_and_requested_path() -> None:
    assert slug_of("Q3 NVIDIA performance!") == "q3-nvidia-performance"
    assert slug_of("?!") == "output"
    assert requested_path("write it to /opt/sandbox/workspace/a/b.md.") == "a/b.md"
    assert requested_path("save to '/opt/sandbox/workspace/x.md'") == "x.md"
    assert requested_path("no path here") == ""


def test_m12_the_tool_a_message_asks_for() -> None:
    tools = parse_tools(
        [
            {"type": "function", "name": "get_time", "parameters": {"type": "object"}},
            {"type": "function", "name": "getStockPrice", "parameters": {"type": "object"}},
            {"type": "function", "name": "weather-lookup", "parameters": {"type": "object"}},
        ]
    )
    assert asked_tool(tools, "What's the weather in Oslo?") is tools[2]
    assert asked_tool(tools, "stock prices for ACME") is tools[1]
    assert asked_tool(tools, "please call get_time") is tools[0]
    assert asked_tool(tools, "get me a deck") is None  # "get" says nothing
    assert asked_tool((), "the weather") is None


HOSTILE = {
    "repeated-on": "on " * 16000 + "\nx",
    "dotted-path": "/opt/sandbox/workspace/a" + "." * 48000 + "x",
    "dotted-path-with-space": "write to /opt/sandbox/workspace/" + "a." * 24000 + " now",
    "many-counts": "a deck on " + "10 " * 16000 + "slides",
    "words": "Research " + "and write " * 5000,
}


@pytest.fixture(scope="module")
def served() -> Iterator[str]:
    """`mock-pokee serve` in a process of its own: a server stalled in a regular
    expression would also hold this process's GIL, and a client in the same process could
    not even notice that it waited."""
    process, url = start_serve("--clock", "virtual", "--quiet")
    try:
        yield url
    finally:
        process.terminate()
        process.communicate(timeout=10)


@pytest.mark.parametrize("message", HOSTILE.values(), ids=HOSTILE.keys())
def test_issue9_a_hostile_message_does_not_stall_the_server(served: str, message: str) -> None:
    """Issue 9, defect 1: reading a ~48 KB message (topic, slug, path, count) is linear,
    so while its turn runs, /health answers within a bounded client timeout."""
    headers = {"Authorization": "Bearer pk_hostile_x"}
    sid = httpx.post(f"{served}/v1/sessions", headers=headers).json()["id"]
    outcome: list[int] = []

    def post() -> None:
        """Read the report's stream up to its tool call (the topic is in it by then)."""
        with httpx.stream(
            "POST",
            f"{served}/v1/sessions/{sid}/messages",
            json={"message": message},
            headers={**headers, "X-Mock-Scenario": "report"},
            timeout=30,
        ) as response:
            for line in response.iter_lines():
                if line == "event: tool_use.executing":
                    outcome.append(response.status_code)
                    return

    poster = threading.Thread(target=post)
    poster.start()
    try:
        for _ in range(1000):  # for as long as the turn is on its way to the tool call
            health = httpx.get(f"{served}/health", timeout=1.0)
            assert health.status_code == 200
            if not poster.is_alive():
                break
    finally:
        poster.join(timeout=30)
    assert outcome == [200]
    turn = httpx.get(f"{served}/_mock/state", headers=headers).json()["turns"][-1]
    assert turn["status"] == "in_progress"  # the report pauses on the clock: it got there


def test_d_documents_have_the_parts_asked_for_within_bounds() -> None:
    """D: 5 sections by default; a request is honoured from 1 to 50 parts."""
    report = markdown_report("Report: tides", "tides").decode()
    assert report.count("\n## ") == documents.DEFAULT_SECTIONS == 5
    assert "tides" in report.split("\n## ")[-1]
    assert [part_count(n, 8) for n in (None, 0, 1, 10, 50, 51, 10**6)] == [8, 1, 1, 10, 50, 50, 50]
    twelve = markdown_report("T", "tides", 12).decode()
    headings = [line for line in twelve.splitlines() if line.startswith("## ")]
    assert len(headings) == len(set(headings)) == 12


def test_issue9_a_long_answer_leaves_room_for_other_requests(served: str) -> None:
    """A 900 KB message echoed by quick-answer is over 100,000 deltas, emitted with no
    pause under the virtual clock; the turn yields to other requests as it goes, so
    /health answers within a bounded client timeout meanwhile."""
    headers = {"Authorization": "Bearer pk_hostile_long"}
    sid = httpx.post(f"{served}/v1/sessions", headers=headers).json()["id"]
    message = "word " * 180_000
    started = threading.Event()

    def post() -> None:
        with httpx.stream(
            "POST",
            f"{served}/v1/sessions/{sid}/messages",
            json={"message": message},
            headers={**headers, "X-Mock-Scenario": "quick-answer"},
            timeout=60,
        ) as response:
            started.set()
            for _ in response.iter_lines():
                pass

    poster = threading.Thread(target=post)
    poster.start()
    try:
        assert started.wait(timeout=30)
        for _ in range(20):
            assert httpx.get(f"{served}/health", timeout=1.0).status_code == 200
    finally:
        poster.join(timeout=60)
    assert not poster.is_alive()
    turn = httpx.get(f"{served}/_mock/state", headers=headers).json()["turns"][-1]
    assert turn["status"] == "completed"
    assert turn["events"] > 100_000
