"""Issue 7's target: with the journal on and 20 fault rules installed that do not match,
a session read stays ≥ 0.7× bare Starlette. Measured on `mock-pokee serve` as a user
starts it (default options: request log and journal on)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import httpx

from benchmarks.harness import free_port, requests_per_second, server_process, wait_for_health

KEY = {"Authorization": "Bearer pk_bench_key"}
RULES = 20


def session_read_under_rules() -> Iterator[str]:
    with server_process("bare") as (url, _):
        requests_per_second(f"{url}/v1/sessions/sess_0123456789ab", KEY, seconds=1)  # warm up
        bare = requests_per_second(f"{url}/v1/sessions/sess_0123456789ab", KEY)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [sys.executable, "-m", "mock_pokee", "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_health(url)
        sid = httpx.post(f"{url}/v1/sessions", headers=KEY, json={"persistent": True}).json()["id"]
        for n in range(RULES):
            rule = {
                "match": {"method": "GET", "path": f"/v1/sessions/*/files/nothing-{n}"},
                "fault": {"type": "status", "status": 503},
            }
            httpx.post(f"{url}/_mock/faults", headers=KEY, json=rule).raise_for_status()
        requests_per_second(f"{url}/v1/sessions/{sid}", KEY, seconds=1)
        mock = requests_per_second(f"{url}/v1/sessions/{sid}", KEY)
        journal = httpx.get(f"{url}/_mock/journal", headers=KEY, params={"since": 0}).json()
    finally:
        process.terminate()
        process.wait(timeout=10)
    yield f"GET /v1/sessions/{{id}} on `mock-pokee serve`, journal on, {RULES} fault rules"
    yield f"  bare Starlette JSON endpoint  {bare:10,.0f} req/s"
    yield f"  mock-pokee session read       {mock:10,.0f} req/s"
    yield f"  ratio                         {mock / bare:10.2f}×   (target ≥ 0.70)"
    yield f"  journal: {len(journal['entries']):,} entries kept, {journal['dropped']:,} dropped\n"
