"""Driving the mock from tests: a server on port 0, and a handle per tenant.

    from mock_pokee.testing import MockServer

    with MockServer() as server:              # virtual clock, ephemeral port
        acme = server.tenant()                # a fresh key: a tenant no one else sees
        acme.faults.add({"type": "drop", "after_events": 3})
        ...                                   # run the client under test at acme.url
        acme.clock.advance(4 * 3600)          # a 4-hour TTL in milliseconds
        assert acme.journal.entries(kind="expiry")

Every handle talks to the control plane over HTTP (C1–C5), so the same calls work
against a mock started elsewhere (`mock-pokee serve`): ``TenantHandle(url, key)``. A
handle without a key acts on the whole server (C2). The pytest plugin
(`mock_pokee.pytest_plugin`) builds its fixtures from these.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

import httpx

from mock_pokee.server import ThreadedServer
from mock_pokee.settings import Settings

if TYPE_CHECKING:
    from pokee_client import PokeeClient

TIMEOUT = httpx.Timeout(30.0)  # an advance may run a long stretch of turns

Json = dict[str, Any]


_JOB = re.compile(r"[A-Za-z0-9-]{1,40}")


def new_key(job: str = "test") -> str:
    """A key of a tenant nobody else uses: ``pk_<job>-<12 hex>_<token>`` (A3).

    The tenant is everything between ``pk_`` and the second ``_``, so the random part
    must sit there: ``pk_ci_job1`` and ``pk_ci_job2`` would both be the tenant ``ci``.
    ``job`` (letters, digits and ``-``) is kept readable in the tenant's name.
    """
    if not _JOB.fullmatch(job):
        raise ValueError(f"job: 1 to 40 letters, digits or '-', not {job!r}")
    return f"pk_{job}-{secrets.token_hex(6)}_{secrets.token_hex(8)}"


class ControlError(AssertionError):
    """A control-plane call the mock refused: a bug in the test, reported with the mock's
    own message."""


def _ok(response: httpx.Response) -> Any:
    if response.status_code >= 400:
        raise ControlError(
            f"{response.request.method} {response.request.url.path} → "
            f"{response.status_code}: {response.text}"
        )
    return None if response.status_code == 204 else response.json()


@dataclass
class Clock:
    """C1: this tenant's clock."""

    _http: httpx.Client

    def get(self) -> Json:
        result: Json = _ok(self._http.get("/_mock/clock"))
        return result

    @property
    def now(self) -> float:
        return float(self.get()["now"])

    def set(
        self, *, mode: str | None = None, scale: float | None = None, now: float | None = None
    ) -> Json:
        body = {k: v for k, v in (("mode", mode), ("scale", scale), ("now", now)) if v is not None}
        result: Json = _ok(self._http.put("/_mock/clock", json=body))
        return result

    def freeze(self, now: float | None = None) -> float:
        """Switch to the virtual clock (optionally at ``now``); returns the time."""
        return float(self.set(mode="virtual", now=now)["now"])

    def advance(self, seconds: float) -> float:
        """Move forward, running everything that falls due; returns the new time."""
        return float(_ok(self._http.post("/_mock/clock/advance", json={"seconds": seconds}))["now"])


@dataclass
class Faults:
    """C5: this tenant's fault rules."""

    _http: httpx.Client

    def add(
        self,
        fault: Json,
        *,
        match: Json | None = None,
        schedule: Json | None = None,
    ) -> Json:
        """Add a rule; returns it (``rule["id"]`` names it)."""
        body: Json = {"fault": fault}
        if match is not None:
            body["match"] = match
        if schedule is not None:
            body["schedule"] = schedule
        rule: Json = _ok(self._http.post("/_mock/faults", json=body))
        return rule

    def list(self) -> list[Json]:
        rules: list[Json] = _ok(self._http.get("/_mock/faults"))
        return rules

    def hits(self, rule_id: str) -> int:
        for rule in self.list():
            if rule["id"] == rule_id:
                return int(rule["hits"])
        raise ControlError(f"fault rule {rule_id}: not found")

    def remove(self, rule_id: str) -> None:
        _ok(self._http.delete(f"/_mock/faults/{rule_id}"))

    def clear(self) -> int:
        return int(_ok(self._http.delete("/_mock/faults"))["deleted"])

    @staticmethod
    def header(fault: Json) -> dict[str, str]:
        """The ``X-Mock-Fault`` header that applies ``fault`` to one request."""
        return {"X-Mock-Fault": json.dumps(fault)}


class Requests(Sequence[Json]):
    """The requests a tenant's journal (C4) holds that match a filter, oldest first, with
    the assertions of a test double (unittest.mock's names): `assert_called`,
    `assert_called_once`, `assert_called_times`, `assert_not_called`. A failed assertion
    names what was asked and lists what the mock did receive."""

    def __init__(self, entries: list[Json], wanted: str, seen: list[Json]):
        self._entries = entries
        self._wanted = wanted
        self._seen = seen

    @overload
    def __getitem__(self, index: int) -> Json: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Json]: ...
    def __getitem__(self, index: int | slice) -> Json | Sequence[Json]:
        return self._entries[index]

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[Json]:
        return iter(self._entries)

    def __repr__(self) -> str:
        return f"<{len(self)} × {self._wanted}>"

    @property
    def call_count(self) -> int:
        return len(self._entries)

    def assert_called(self) -> None:
        if not self._entries:
            self._fail("at least once")

    def assert_called_once(self) -> None:
        self.assert_called_times(1)

    def assert_called_times(self, times: int) -> None:
        if len(self._entries) != times:
            self._fail("once" if times == 1 else f"{times} times")

    def assert_not_called(self) -> None:
        if self._entries:
            self._fail("never")

    def _fail(self, expected: str) -> None:
        shown = [f"  {e['method']} {e['path']} → {e['status']}" for e in self._seen[-20:]]
        more = len(self._seen) - len(shown)
        received = "\n".join(([f"  … {more} earlier"] if more > 0 else []) + shown) or "  none"
        raise AssertionError(
            f"expected {self._wanted} {expected}, it was called {len(self._entries)} times; "
            f"requests the mock received:\n{received}"
        )


@dataclass
class Journal:
    """C4: this tenant's timeline."""

    _http: httpx.Client
    last: int = 0  # the seq of the last entry `new` returned

    def entries(
        self,
        *,
        kind: str | None = None,
        method: str | None = None,
        path: str | None = None,
        session: str | None = None,
        since: int | None = None,
    ) -> list[Json]:
        filters = (("kind", kind), ("method", method), ("path", path), ("session", session))
        params: dict[str, str] = {name: value for name, value in filters if value is not None}
        if since is not None:
            params["since"] = str(since)
        answer: Json = _ok(self._http.get("/_mock/journal", params=params))
        entries: list[Json] = answer["entries"]
        return entries

    def requests(self, *, method: str | None = None, path: str | None = None) -> list[Json]:
        """What the client under test sent, in order."""
        return self.entries(kind="request", method=method, path=path)

    def new(self, **filters: str) -> list[Json]:
        """Entries since the last call to `new` (incremental reads with ``since``)."""
        entries = self.entries(since=self.last, **filters)
        if entries:
            self.last = entries[-1]["seq"]
        return entries

    def clear(self) -> None:
        _ok(self._http.delete("/_mock/journal"))
        self.last = 0


class SharedTransport(httpx.BaseTransport):
    """One connection pool for many handles: making an `httpx.Client` builds a TLS
    context (about 30 ms), which a test should not pay to talk plain HTTP to a mock.
    Closing a client that uses it leaves the pool open; `close_pool` closes it."""

    def __init__(self) -> None:
        self._pool = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._pool.handle_request(request)

    def close(self) -> None:
        """Its clients' ``close``: the pool is shared, so it stays open."""

    def close_pool(self) -> None:
        self._pool.close()


@dataclass
class TenantHandle:
    """One tenant of a running mock (or, with ``key=None``, the whole server).

    ``transport`` lets many handles share one connection pool (`SharedTransport`).
    """

    url: str
    key: str | None
    transport: httpx.BaseTransport | None = None
    http: httpx.Client = field(init=False)
    clock: Clock = field(init=False)
    faults: Faults = field(init=False)
    journal: Journal = field(init=False)

    def __post_init__(self) -> None:
        headers = {"Authorization": f"Bearer {self.key}"} if self.key is not None else {}
        self.http = httpx.Client(
            base_url=self.url, headers=headers, timeout=TIMEOUT, transport=self.transport
        )
        self.clock = Clock(self.http)
        self.faults = Faults(self.http)
        self.journal = Journal(self.http)

    @property
    def headers(self) -> dict[str, str]:
        """The Authorization header of this tenant, for a client under test."""
        return {"Authorization": f"Bearer {self.key}"} if self.key is not None else {}

    @cached_property
    def client(self) -> PokeeClient:
        """The reference client (`pokee_client`) for this tenant, made on first use and
        closed with the handle. Every wait it decides on (backoff, ``Retry-After``,
        polling) moves the mock's clock instead of sleeping: a ``Retry-After: 3`` costs
        a test no real time."""
        from pokee_client import PokeeClient

        return PokeeClient(self.url, self.key, sleep=self.sleep, transport=self.transport)

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` on the mock's clock (C1): advance it, running what falls due.
        Hand it to a client under test as its sleep function."""
        if seconds > 0:
            self.clock.advance(seconds)

    def requests(self, *, method: str | None = None, path: str | None = None) -> Requests:
        """The requests the mock received from this tenant (C4), filtered by method and
        path glob, with `Requests`'s assertions: ``pokee.requests(method="POST",
        path="/v1/sessions").assert_called_once()``."""
        seen = self.journal.requests()
        entries = self.journal.requests(method=method, path=path)
        wanted = f"{method or 'any method'} {path or 'any path'}"
        return Requests(entries, wanted, seen)

    def reset(self) -> None:
        """C3: sessions, turns, files, usage, fault rules and journal, all emptied."""
        _ok(self.http.post("/_mock/reset"))

    def state(self) -> Json:
        state: Json = _ok(self.http.get("/_mock/state"))
        return state

    def close(self) -> None:
        self.http.close()
        if "client" in self.__dict__:
            self.client.close()

    def __enter__(self) -> TenantHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class MockServer(ThreadedServer):
    """The mock on an ephemeral port in a thread; the virtual clock unless told otherwise.

    ``errors`` lists the mock's own unexpected exceptions (each also answered as a 500),
    so a harness can fail the test that caused one.
    """

    def __init__(self, settings: Settings | None = None, **options: Any):
        defaults: Json = {"port": 0, "clock_mode": "autojump"}
        if "scenario_folders" in options:  # folders as a user writes them: "recordings"
            options["scenario_folders"] = tuple(map(Path, options["scenario_folders"]))
        super().__init__(settings or Settings(**{**defaults, **options}))

    def tenant(self, key: str | None = None) -> TenantHandle:
        """A handle on a tenant: a fresh one unless ``key`` names it."""
        return TenantHandle(self.url, key or new_key(), self._transport)

    @cached_property
    def _transport(self) -> SharedTransport:
        return SharedTransport()

    def stop(self) -> None:
        super().stop()
        if "_transport" in self.__dict__:
            self._transport.close_pool()

    def whole(self) -> TenantHandle:
        """A handle without a key: the whole server (C2)."""
        return TenantHandle(self.url, None)

    def __enter__(self) -> MockServer:
        self.start()
        return self
