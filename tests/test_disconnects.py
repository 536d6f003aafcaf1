"""A storm of clients that disconnect mid-stream, over real sockets (M5, and R5 for the
stateless responses): every turn and response still completes, and the server's running
tasks return to their baseline."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx

from mock_pokee.server import ThreadedServer
from mock_pokee.settings import Settings

STREAMS = 40


def tasks(client: httpx.Client) -> int:
    count: int = client.get("/_mock/state").json()["tasks"]  # keyless: the whole server
    return count


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
        baseline = tasks(anon)
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

        threads = [
            threading.Thread(target=disconnect_early, args=(sid, n % 7 * 3))
            for n, sid in enumerate(sessions)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=10)
        assert not any(thread.is_alive() for thread in threads)
        during = tasks(anon)
        anon.post("/_mock/clock/advance", json={"seconds": 600})  # every turn runs out
        busy = [
            httpx.get(f"{server.url}/v1/sessions/{sid}", headers=key).json()["busy"]
            for sid in sessions
        ]
        after = tasks(anon)
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
        baseline = tasks(anon)
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

        threads = [threading.Thread(target=disconnect_early, args=(n % 5,)) for n in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=10)
        assert not any(thread.is_alive() for thread in threads)
        during = tasks(anon)
        anon.post("/_mock/clock/advance", json={"seconds": 60})
        ends = [api.get(f"/v1/responses/{rid}/events").text.split("\n\n")[-2] for rid in ids]
        after = tasks(anon)
        assert server.errors == []
    assert during > baseline  # the paused responses were running
    assert len(ends) == 20
    assert all("event: response.completed" in end for end in ends)
    assert after == baseline
