"""The soak: many tests' worth of tenants against `mock-pokee serve`, to show that the
server's memory levels off and its tasks return to the idle count once the load stops.

Each simulated test does what a test on the pytest plugin with ``--pokee-url`` does: a
fresh key (a tenant of its own), a session, a turn streamed to its end, a file uploaded,
then ``POST /_mock/reset`` with its key (the fixture's teardown against a mock in another
process). One test in ten instead runs on one of a few long-lived keys that are never
reset (a CI job's key) and deletes its session. RSS and the server's task count (``GET
/_mock/state`` without a key) are sampled every few seconds; the idle count is read after
one warm-up test, once the per-process tasks a first turn starts (the clock's driver,
sse-starlette's shutdown watcher) exist.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx

from benchmarks.harness import server_process, tree_rss_bytes

TESTS = 10_000
CONCURRENCY = 8
SAMPLE_EVERY = 5.0  # seconds of real time between samples
SETTLE = 2.0  # real seconds after the load for closed connections and streams to go
MIB = 2**20


@dataclass
class Sample:
    seconds: float  # since the load started
    done: int  # tests finished
    rss: int
    tasks: int
    entries: int  # journal entries the server holds (each journal keeps its last 20,000)


@dataclass
class Soak:
    samples: list[Sample] = field(default_factory=list)
    idle_tasks: int = 0
    settled_tasks: int = 0
    seconds: float = 0.0
    done: int = 0


class Keys:
    """A fresh key per test, except every tenth test: the CI job's own key, kept all along
    (its journal fills up to its bound, 20,000 entries, in about 15 minutes here)."""

    def __init__(self) -> None:
        self.kept = f"pk_soak-ci_{secrets.token_hex(8)}"

    def for_test(self, n: int) -> tuple[str, bool]:
        if n % 10 == 0:
            return self.kept, True
        return f"pk_soak-{n}_{secrets.token_hex(8)}", False


async def one_test(http: httpx.AsyncClient, key: str, kept: bool, n: int) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    created = await http.post("/v1/sessions", headers=headers, json={})
    sid = created.raise_for_status().json()["id"]
    async with http.stream(
        "POST", f"/v1/sessions/{sid}/messages", headers=headers, json={"message": f"hi {n}"}
    ) as turn:
        async for _ in turn.aiter_bytes():
            pass
    put = await http.put(f"/v1/sessions/{sid}/files/out/n.txt", headers=headers, content=b"x" * 512)
    put.raise_for_status()
    if kept:
        (await http.delete(f"/v1/sessions/{sid}", headers=headers)).raise_for_status()
    else:
        (await http.post("/_mock/reset", headers=headers)).raise_for_status()


async def tasks_and_entries(http: httpx.AsyncClient) -> tuple[int, int]:
    state = (await http.get("/_mock/state")).json()
    return int(state["tasks"]), int(state["journal_entries"])


async def drive(url: str, pid: int, tests: int, minutes: float) -> Soak:
    """Run until ``tests`` tests are done and ``minutes`` have passed, whichever is later."""
    soak = Soak()
    keys = Keys()
    limits = httpx.Limits(max_connections=CONCURRENCY + 1)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as http:
        await one_test(http, *keys.for_test(1), 1)  # warm-up: the per-process tasks start
        await asyncio.sleep(SETTLE)
        soak.idle_tasks, _ = await tasks_and_entries(http)
        started = time.perf_counter()
        counter = iter(range(2, 2**62))

        def more() -> bool:
            return soak.done < tests or time.perf_counter() - started < minutes * 60

        async def worker() -> None:
            while more():
                n = next(counter)
                await one_test(http, *keys.for_test(n), n)
                soak.done += 1

        async def sampler() -> None:
            while True:
                seconds = time.perf_counter() - started
                tasks, entries = await tasks_and_entries(http)
                soak.samples.append(Sample(seconds, soak.done, tree_rss_bytes(pid), tasks, entries))
                await asyncio.sleep(SAMPLE_EVERY)

        sampling = asyncio.create_task(sampler())
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        sampling.cancel()
        soak.seconds = time.perf_counter() - started
        await asyncio.sleep(SETTLE)
        soak.settled_tasks, entries = await tasks_and_entries(http)
        soak.samples.append(Sample(soak.seconds, soak.done, tree_rss_bytes(pid), 0, entries))
    return soak


def run(tests: int = TESTS, minutes: float = 0.0) -> Iterator[str]:
    with server_process("mock", "--quiet") as (url, process):
        soak = asyncio.run(drive(url, process.pid, tests, minutes))
    yield (
        f"Soak: {soak.done:,} plugin-style tests in {soak.seconds:.0f} s "
        f"({soak.done / soak.seconds:,.0f} a second, {CONCURRENCY} at a time; each a fresh "
        "key, a session, a turn, an upload, a reset; one in ten on a kept CI key) against "
        "`mock-pokee serve --quiet`"
    )
    yield "    time   tests done   RSS MiB   tasks   journal entries"
    shown = soak.samples[:: max(1, len(soak.samples) // 12)]
    if shown[-1] is not soak.samples[-1]:
        shown.append(soak.samples[-1])
    for sample in shown:
        tasks = f"{sample.tasks:>5}" if sample.tasks else "    -"
        yield (
            f"  {sample.seconds:>5.0f}s   {sample.done:>10,}   {sample.rss / MIB:>7.1f}   "
            f"{tasks}   {sample.entries:>15,}"
        )
    yield from _verdict(soak)


LAST = 300.0  # seconds: the stretch judged, or the second half of a shorter run


def _verdict(soak: Soak) -> Iterator[str]:
    """Flat means: over the last five minutes (the second half of a run under ten), RSS
    grew by less than 5% of where it stood. Growth beside a journal still filling up to
    its bound (the kept key's keeps its last 20,000 entries) is reported as that, with its
    cost per entry."""
    since = soak.seconds - min(LAST, soak.seconds / 2)
    half = [s for s in soak.samples if s.seconds >= since]
    if len(half) < 2:
        yield "  too short to judge: fewer than two samples in its last stretch"
        return
    first, last = half[0], half[-1]
    growth = last.rss - first.rss
    minutes = (last.seconds - first.seconds) / 60
    more_entries = last.entries - first.entries
    if growth < 0.05 * first.rss:
        verdict = "flat"
    elif more_entries > 0:
        verdict = (
            f"growing while the journals filled up (+{more_entries:,} entries, "
            f"{growth / more_entries:,.0f} bytes of RSS an entry)"
        )
    else:
        verdict = "growing, with the journals full: a leak"
    busiest = max(s.tasks for s in half)
    yield (
        f"  last {minutes:.1f} min ({last.done - first.done:,} tests): RSS "
        f"{first.rss / MIB:.1f} → {last.rss / MIB:.1f} MiB ({growth / MIB:+.1f}), "
        f"{verdict}; at most {busiest} tasks"
    )
    back = soak.settled_tasks <= soak.idle_tasks
    yield (
        f"  tasks: {soak.idle_tasks} idle before the load, {soak.settled_tasks} "
        f"{SETTLE:.0f} s after it: {'back to idle' if back else 'NOT back to idle'}"
    )
