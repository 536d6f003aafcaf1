"""A storm of clients that disconnect mid-stream, over real sockets (M5, and R5 for the
stateless responses): every turn and response still completes, and the server's running
tasks return to their baseline."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from mock_pokee.server import ThreadedServer
from mock_pokee.settings import Settings

STREAMS = 40


def tasks(client: httpx.Client) -> int:
    count: int = client.get("/_mock/state").json()["tasks"]  # keyless: the whole server
    return count


def steady(client: httpx.Client, within: float = 2.0) -> int:
    """The task count once three reads 20 ms apart agree (or after ``within`` real
    seconds): the warm-up stream's server task ends just after its client has read it."""
    deadline = time.monotonic() + within
    counts = [tasks(client)]
    while len(set(counts[-3:])) > 1 or len(counts) < 3:
        if time.monotonic() > deadline:
            break
        time.sleep(0.02)
        counts.append(tasks(client))
    return counts[-1]


def settled(client: httpx.Client, baseline: int, within: float = 2.0) -> int:
    """The task count once it is back to ``baseline``, or as it stands after ``within``
    real seconds: a stream's server task ends just after its client read the last byte."""
    deadline = time.monotonic() + within
    count = tasks(client)
    while count != baseline and time.monotonic() < deadline:
        time.sleep(0.02)
        count = tasks(client)
    return count


def all_at_once(work: Callable[..., None], arguments: list[tuple[Any, ...]]) -> None:
    """``work`` on each of ``arguments`` in a thread of its own, all to their end."""
    threads = [threading.Thread(target=work, args=given) for given in arguments]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert not any(thread.is_alive() for thread in threads)


def test_no_task_outlives_a_storm_of_disconnects() -> None:
    with (
        ThreadedServer(Settings(port=0, clock_mode="virtual", max_sessions=STREAMS)) as server,
        httpx.Client(base_url=server.url, timeout=10) as anon,
    ):
        key = {"Authorization": "Bearer pk_storm_key"}
        # One whole stream first: sse-starlette starts one shutdown watcher task per
        # server with its first stream, which belongs in the baseline.
        warm = httpx.post(f"{server.url}/v1/sessions", headers=key).json()["id"]
        httpx.post(f"{server.url}/v1/sessions/{warm}/messages", headers=key, json={"message": "hi"})
        httpx.delete(f"{server.url}/v1/sessions/{warm}", headers=key)
        baseline = steady(anon)
        sessions = [
            httpx.post(f"{server.url}/v1/sessions", headers=key, json={"persistent": True}).json()[
                "id"
            ]
            for _ in range(STREAMS)
        ]

        def disconnect_early(sid: str, after: int) -> None:
            with (
                httpx.Client(base_url=server.url, headers=key, timeout=10) as client,
                client.stream(
                    "POST",
                    f"/v1/sessions/{sid}/messages",
                    json={"message": "Build a deck on storms"},
                ) as response,
            ):
                for seen, _ in enumerate(response.iter_lines()):
                    if seen >= after:
                        return

        all_at_once(disconnect_early, [(sid, n % 7 * 3) for n, sid in enumerate(sessions)])
        during = tasks(anon)
        anon.post("/_mock/clock/advance", json={"seconds": 600})  # every turn runs out
        busy = [
            httpx.get(f"{server.url}/v1/sessions/{sid}", headers=key).json()["busy"]
            for sid in sessions
        ]
        after = settled(anon, baseline)
        assert server.errors == []
    assert during > baseline  # the paused turns were running
    assert busy == [False] * STREAMS
    assert after == baseline


SLOW_ANSWER = """\
name: slow-answer
surface: response
match: 'slowly'
steps:
  - think: "Taking my time."
  - pause: 30s
  - text: "There you are."
"""


def test_r5_no_task_outlives_a_storm_of_disconnected_responses(tmp_path: Path) -> None:
    """R5 as M5: stateless streams left at every point while paused on the clock each run
    on to their end, and the server's tasks return to their baseline."""
    (tmp_path / "slow.yaml").write_text(SLOW_ANSWER)
    settings = Settings(port=0, clock_mode="virtual", scenario_folders=(tmp_path,))
    key = {"Authorization": "Bearer pk_storm_key"}
    with (
        ThreadedServer(settings) as server,
        httpx.Client(base_url=server.url, timeout=10) as anon,
        httpx.Client(base_url=server.url, headers=key, timeout=10) as api,
    ):
        # A whole stream first: sse-starlette's shutdown watcher belongs in the baseline.
        api.post("/v1/responses", json={"input": "hi", "stream": True})
        baseline = steady(anon)
        ids: list[str] = []

        def disconnect_early(after: int) -> None:
            with (
                httpx.Client(base_url=server.url, headers=key, timeout=10) as client,
                client.stream(
                    "POST", "/v1/responses", json={"input": "answer slowly", "stream": True}
                ) as response,
            ):
                ids.append(response.headers["x-response-id"])
                for seen, _ in enumerate(response.iter_lines()):
                    if seen >= after:
                        return

        all_at_once(disconnect_early, [(n % 5,) for n in range(20)])
        during = tasks(anon)
        anon.post("/_mock/clock/advance", json={"seconds": 60})
        ends = [api.get(f"/v1/responses/{rid}/events").text.split("\n\n")[-2] for rid in ids]
        after = settled(anon, baseline)
        assert server.errors == []
    assert during > baseline  # the paused responses were running
    assert len(ends) == 20
    assert all("event: response.completed" in end for end in ends)
    assert after == baseline
