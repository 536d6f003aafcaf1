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
import secrets
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import httpx

from mock_pokee.server import ThreadedServer
from mock_pokee.settings import Settings

if TYPE_CHECKING:
    from pokee_client import PokeeClient

TIMEOUT = httpx.Timeout(30.0)  # an advance may run a long stretch of turns

Json = dict[str, Any]


def new_key(label: str = "test") -> str:
    """A key of a tenant nobody else uses (A3 shape)."""
    return f"pk_t{secrets.token_hex(6)}_{label}"


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


@dataclass
class TenantHandle:
    """One tenant of a running mock (or, with ``key=None``, the whole server)."""

    url: str
    key: str | None
    http: httpx.Client = field(init=False)
    clock: Clock = field(init=False)
    faults: Faults = field(init=False)
    journal: Journal = field(init=False)

    def __post_init__(self) -> None:
        headers = {"Authorization": f"Bearer {self.key}"} if self.key is not None else {}
        self.http = httpx.Client(base_url=self.url, headers=headers, timeout=TIMEOUT)
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
        closed with the handle."""
        from pokee_client import PokeeClient

        return PokeeClient(self.url, self.key)

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
        defaults: Json = {"port": 0, "clock_mode": "virtual"}
        super().__init__(settings or Settings(**{**defaults, **options}))

    def tenant(self, key: str | None = None) -> TenantHandle:
        """A handle on a tenant: a fresh one unless ``key`` names it."""
        return TenantHandle(self.url, key or new_key())

    def whole(self) -> TenantHandle:
        """A handle without a key: the whole server (C2)."""
        return TenantHandle(self.url, None)

    def __enter__(self) -> MockServer:
        self.start()
        return self
