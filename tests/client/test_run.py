"""``run``: the cookbook flow in one call, for every built-in scenario, over real sockets
on the virtual clock (the test moves time only while the client is caught up)."""

from __future__ import annotations

import os
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from mock_pokee.server import ThreadedServer
from pokee_client import (
    NotFoundError,
    PokeeClient,
    RunResult,
    Terminated,
    TextDelta,
    ToolUseExecuting,
)
from pokee_client.running import AGENT_WORKSPACE as AGENT
from pokee_client.running import paths_named
from tests.client.helpers import EventCount, Sleeper, advance, drive_clock

DECK = "Build a Temasek-style PPT on Q3 NVIDIA performance."


@dataclass(frozen=True)
class Expected:
    status: str
    files: tuple[str, ...] = ()
    metadata: dict[str, Any] = field(default_factory=dict)
    resumes: int = 0
    error: str | None = None
    tools: tuple[str, ...] = ()


EXPECTED = {
    "presentation": Expected(
        "completed",
        files=("output/q3-nvidia-performance.pptx",),
        metadata={"temasek_status": "completed"},
        tools=("web_search", "write_file"),
    ),
    "report": Expected(
        "completed",
        files=("output/report.md",),
        metadata={"task_status": "done"},
        tools=("web_search", "write_file"),
    ),
    "quick-answer": Expected("completed"),
    "tool-error": Expected("completed", tools=("fetch_url",)),
    "turn-error": Expected("error", error="upstream_model_error"),
    "dropped-stream": Expected(
        "completed",
        files=("output/dropped-stream.txt",),
        metadata={"progress": "finished"},
        resumes=1,
        tools=("write_file",),
    ),
    "slow-stream": Expected("completed"),
    # run() creates its session without tools, so these end at their first step (M12).
    "client-tool": Expected("error", error="client_tool_unavailable: the session has no tools"),
    "parallel-tool-calls": Expected(
        "error", error="client_tool_unavailable: the session has no tools"
    ),
}


def test_every_builtin_scenario_has_an_expectation(control: httpx.Client) -> None:
    """C6: what the mock lists is what this module runs; a new scenario needs a row."""
    listed = {scenario["name"] for scenario in control.get("/_mock/scenarios").json()["scenarios"]}
    assert listed == set(EXPECTED)


def run_driven(
    client: PokeeClient, control: httpx.Client, out: Path, scenario: str, **options: Any
) -> tuple[RunResult, EventCount]:
    progress = EventCount()
    result = drive_clock(
        control,
        lambda: client.run(DECK, scenario=scenario, out=out, on_progress=progress, **options),
        progress,
    )
    return result, progress


@pytest.mark.parametrize("scenario", sorted(EXPECTED))
def test_run_every_scenario(
    client: PokeeClient, control: httpx.Client, sleeper: Sleeper, tmp_path: Path, scenario: str
) -> None:
    expected = EXPECTED[scenario]
    result, progress = run_driven(client, control, tmp_path, scenario)

    assert result.status == expected.status
    assert result.outcome.error == expected.error
    assert result.outcome.resumes == expected.resumes
    assert not result.outcome.polled
    assert result.session.metadata.items() >= expected.metadata.items()
    assert [p.relative_to(tmp_path).as_posix() for p in result.files] == list(expected.files)
    saved = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert saved == list(expected.files)  # nothing else, no temporary files left
    assert {p.tool for p in progress.reports if p.tool} == set(expected.tools)
    assert progress.events == result.outcome.events
    assert progress.reports[-1].phase == "done"
    assert client.sessions.list() == []  # deleted afterwards
    assert sleeper.calls == []  # nothing failed, so nothing waited


def test_run_saves_the_files_byte_for_byte(
    client: PokeeClient, control: httpx.Client, tmp_path: Path
) -> None:
    result, _ = run_driven(client, control, tmp_path, "presentation", keep=True)
    (deck,) = result.files
    assert deck.read_bytes()[:2] == b"PK"  # a zip container: a real .pptx
    served = control.get(
        f"/v1/sessions/{result.session.id}/files/output/q3-nvidia-performance.pptx"
    ).content
    assert deck.read_bytes() == served


def test_run_reports_metadata_progress_in_order(
    client: PokeeClient, control: httpx.Client, tmp_path: Path
) -> None:
    """M6: the stages of temasek_status reach the callback, in the order the turn set them."""
    _, progress = run_driven(client, control, tmp_path, "presentation")
    stages: list[str] = []
    for report in progress.reports:
        if report.status and (not stages or stages[-1] != report.status):
            stages.append(report.status)
    order = ["queued", "researching", "outlining", "building_slides", "exporting", "completed"]
    assert stages == [stage for stage in order if stage in stages]
    assert {"researching", "completed"} <= set(stages)


def test_keep_leaves_the_session_and_only_new_files_are_downloaded(
    client: PokeeClient, control: httpx.Client, tmp_path: Path
) -> None:
    first, _ = run_driven(client, control, tmp_path / "one", "report", keep=True)
    assert client.sessions.get(first.session.id).persistent
    client.files.upload(first.session.id, "notes/old.txt", b"written before the run")
    second, _ = run_driven(client, control, tmp_path / "two", "dropped-stream")
    # output/report.md and notes/old.txt were there before the second turn (F1).
    assert [p.name for p in second.files] == ["dropped-stream.txt"]
    assert [s.id for s in client.sessions.list()] == [first.session.id]


def test_a_failed_run_deletes_its_session_and_writes_nothing(
    client: PokeeClient, tmp_path: Path
) -> None:
    """Bad input: an unknown scenario is refused (C6) and nothing is left behind."""
    with pytest.raises(Exception, match="unknown scenario 'no-such-thing'") as raised:
        client.run("hello", scenario="no-such-thing", out=tmp_path / "out")
    assert type(raised.value).__name__ == "InvalidRequestError"
    assert client.sessions.list() == []
    assert not (tmp_path / "out").exists()


def test_an_evicted_log_falls_back_to_polling(
    client: PokeeClient, control: httpx.Client, sleeper: Sleeper, tmp_path: Path
) -> None:
    """M7 after 120 s: the log is gone (404), so the client polls S4 until idle and
    reports the outcome from metadata, and the files that changed as unattributed."""

    def on_progress(progress: Any) -> None:
        # The stream is cut right after text.stop (the scenario's drop). Before the client
        # can resume, let the turn finish and its log expire.
        if progress.event is not None and progress.event.type == "text.stop":
            advance(control, 31)  # the scenario's 30 s pause: the turn completes
            advance(control, 121)  # and its log is evicted (M7: 120 s)

    result = client.run(DECK, scenario="dropped-stream", out=tmp_path, on_progress=on_progress)

    assert result.status == "unknown"
    assert result.outcome.polled
    assert result.outcome.metadata == {"progress": "finished"}
    assert result.outcome.text == "Working on it"  # what was seen before the drop
    # The write_file event was lost with the log: the client cannot tell the file is
    # this turn's, so it names it instead of guessing.
    assert result.files == ()
    assert result.unattributed == ("output/dropped-stream.txt",)
    assert sleeper.calls == []  # the session was already idle at the first poll


def test_polling_waits_on_the_clock_until_the_turn_ends(
    client: PokeeClient, control: httpx.Client, sleeper: Sleeper, tmp_path: Path
) -> None:
    """M7 refused (404) while the turn still runs: the client polls S4 every poll
    interval, each wait passing on the mock's clock, until the session is idle (M5)."""
    session = client.sessions.create(persistent=True)
    stream = client.messages.stream(session.id, DECK, scenario="presentation")
    first = next(stream)
    stream.close()
    # A stranger's response id: M7 answers 404, as for an evicted log.
    resumed = client.messages.resume(session.id, "msg_" + "0" * 24, after=first.seq)
    events = list(resumed)
    assert events == []
    assert resumed.outcome is not None
    assert resumed.outcome.polled
    assert resumed.outcome.metadata is not None
    assert resumed.outcome.metadata["temasek_status"] == "completed"
    assert sleeper.calls
    assert set(sleeper.calls) == {5.0}
    assert not client.sessions.get(session.id).busy


def test_run_on_an_unknown_session_is_not_found(client: PokeeClient) -> None:
    with pytest.raises(NotFoundError):
        list(client.messages.stream("sess_000000000000", "hello"))


def test_the_async_client_runs_the_same_flow(
    mock: ThreadedServer, key: str, control: httpx.Client, tmp_path: Path
) -> None:
    """The async twin drives the same flows: a dropped stream resumed, files saved."""
    import asyncio

    from pokee_client import AsyncPokeeClient

    progress = EventCount()

    async def go() -> RunResult:
        async with AsyncPokeeClient(mock.url, key, watch_interval=0.02) as pokee:
            return await pokee.run(
                DECK, scenario="dropped-stream", out=tmp_path, on_progress=progress
            )

    result = drive_clock(control, lambda: asyncio.run(go()), progress)
    assert result.status == "completed"
    assert result.outcome.resumes == 1
    assert [p.name for p in result.files] == ["dropped-stream.txt"]


def _terminate_once_busy(control: httpx.Client) -> threading.Thread:
    """SIGTERM to this process as soon as the tenant has a running turn, as a CI job's
    timeout would send it; the turn is paused on the virtual clock until then."""

    def wait_then_kill() -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            turns = control.get("/_mock/state").json()["turns"]
            if any(turn["status"] == "in_progress" for turn in turns):
                os.kill(os.getpid(), signal.SIGTERM)
                return
            time.sleep(0.01)

    thread = threading.Thread(target=wait_then_kill, name="ci-timeout")
    thread.start()
    return thread


def _cancelled_and_gone(control: httpx.Client, *, kept: bool) -> None:
    (ended,) = control.get("/_mock/journal?kind=turn.end").json()["entries"]
    assert ended["status"] == "cancelled"
    assert [s["busy"] for s in control.get("/v1/sessions").json()] == ([False] if kept else [])


@pytest.mark.parametrize("keep", [False, True])
def test_sigterm_cancels_the_turn_and_deletes_the_session(
    client: PokeeClient, control: httpx.Client, tmp_path: Path, keep: bool
) -> None:
    killer = _terminate_once_busy(control)
    with pytest.raises(Terminated):
        client.run(DECK, scenario="presentation", out=tmp_path, keep=keep)
    killer.join()
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # put back afterwards
    _cancelled_and_gone(control, kept=keep)


def test_sigterm_cancels_the_async_run_too(
    mock: ThreadedServer, key: str, control: httpx.Client, tmp_path: Path
) -> None:
    import asyncio

    from pokee_client import AsyncPokeeClient

    async def go() -> RunResult:
        async with AsyncPokeeClient(mock.url, key, watch_interval=0.02) as pokee:
            return await pokee.run(DECK, scenario="presentation", out=tmp_path)

    killer = _terminate_once_busy(control)
    with pytest.raises(Terminated):
        asyncio.run(go())
    killer.join()
    _cancelled_and_gone(control, kept=False)


def test_a_program_that_handles_sigterm_itself_keeps_its_handler(
    client: PokeeClient, tmp_path: Path
) -> None:
    def own(signum: int, frame: Any) -> None:
        raise AssertionError("not called")

    seen: list[Any] = []
    previous = signal.signal(signal.SIGTERM, own)
    try:
        client.run(
            "hello",
            scenario="quick-answer",
            out=tmp_path,
            on_progress=lambda _: seen.append(signal.getsignal(signal.SIGTERM)),
        )
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert seen
    assert set(seen) == {own}


def test_a_file_another_session_writes_during_the_turn_is_named_not_saved(
    client: PokeeClient, control: httpx.Client, tmp_path: Path
) -> None:
    """F1: one workspace for the key's sessions. A file that changed during the turn but
    that none of the turn's events named is reported (``unattributed``), not saved."""
    other = client.sessions.create(persistent=True)
    progress = EventCount()

    def on_progress(report: Any) -> None:
        progress(report)
        if report.event is not None and report.event.type == "message.created":
            client.files.upload(other.id, "elsewhere/notes.txt", b"another session's file")

    result = drive_clock(
        control,
        lambda: client.run(DECK, scenario="presentation", out=tmp_path, on_progress=on_progress),
        progress,
    )
    assert [p.relative_to(tmp_path).as_posix() for p in result.files] == [
        "output/q3-nvidia-performance.pptx"
    ]
    assert result.unattributed == ("elsewhere/notes.txt",)
    assert not (tmp_path / "elsewhere").exists()


@pytest.mark.parametrize(
    ("event", "paths"),
    [
        (ToolUseExecuting(3, "tool_use.executing", {"input": {"path": "out/a.md"}}), ["out/a.md"]),
        (
            ToolUseExecuting(3, "tool_use.executing", {"input": {"path": AGENT + "r.md"}}),
            ["r.md"],
        ),
        (ToolUseExecuting(3, "tool_use.executing", {"input": {"query": "tides"}}), []),
        (ToolUseExecuting(3, "tool_use.executing", {"input": {"path": 7}}), []),
        (ToolUseExecuting(3, "tool_use.executing", {"input": "out/a.md"}), []),
        (TextDelta(3, "text.delta", {"content": "path"}), []),
    ],
)
def test_the_paths_a_turns_tools_name(event: Any, paths: list[str]) -> None:
    assert paths_named(event) == paths
