"""C5 under load, over real sockets: a storm of every fault kind on streams, downloads and
plain requests leaves no task behind and no server error; rules added without a key
apply to every tenant (C2)."""

from __future__ import annotations

import json
import threading
from typing import Any

import httpx

from mock_pokee.server import ThreadedServer
from mock_pokee.settings import Settings

FAULTS: list[dict[str, Any]] = [
    {"type": "drop", "after_events": 2},
    {"type": "drop"},
    {"type": "cut_frame", "after_events": 1},
    {"type": "stall", "after_events": 1},
    {"type": "stall"},
    {"type": "malformed", "after_events": 3},
    {"type": "malformed"},
    {"type": "drip", "bytes_per_second": 20_000},
    {"type": "abort_download", "after_bytes": 10},
    {"type": "delay", "seconds": 0.05},
    {"type": "status", "status": 503},
]


def tasks(url: str) -> int:
    count: int = httpx.get(f"{url}/_mock/state").json()["tasks"]
    return count


def exercise(url: str, key: str, fault: dict[str, Any]) -> None:
    """A message stream, a download and a session read, each under ``fault``; the client
    gives up after a short read timeout, as a real one would."""
    headers = {"Authorization": f"Bearer {key}", "X-Mock-Fault": json.dumps(fault)}
    gives_up = httpx.Timeout(5.0, read=0.3)  # for the faulted requests only
    plain = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=url, timeout=10) as client:
        sid = client.post("/v1/sessions", json={"persistent": True}, headers=plain).json()["id"]
        client.put(f"/v1/sessions/{sid}/files/f.txt", content=b"x" * 5000, headers=plain)
        for method, path, body in [
            ("POST", f"/v1/sessions/{sid}/messages", {"message": "Build a deck on storms"}),
            ("GET", f"/v1/sessions/{sid}/files/f.txt", None),
            ("GET", f"/v1/sessions/{sid}", None),
        ]:
            try:
                with client.stream(
                    method, path, json=body, headers=headers, timeout=gives_up
                ) as response:
                    for _ in response.iter_raw():
                        pass
            except httpx.HTTPError:
                pass  # cut, lost or stalled: what the fault is for


def test_a_storm_of_every_fault_leaves_no_task_and_no_error() -> None:
    settings = Settings(port=0, clock_mode="virtual", max_sessions=100)
    with ThreadedServer(settings) as server:
        exercise(server.url, "pk_warm_key", {"type": "delay", "seconds": 0})
        httpx.post(f"{server.url}/_mock/clock/advance", json={"seconds": 3600})
        baseline = tasks(server.url)
        threads = [
            threading.Thread(target=exercise, args=(server.url, f"pk_storm{n}_key", fault))
            for n, fault in enumerate(FAULTS * 2)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=20)
        assert not any(thread.is_alive() for thread in threads)
        httpx.post(f"{server.url}/_mock/clock/advance", json={"seconds": 3600})
        after = tasks(server.url)
        assert server.errors == []
    assert after == baseline


def test_keyless_rules_apply_to_every_tenant_and_list_with_theirs() -> None:
    with (
        ThreadedServer(Settings(port=0)) as server,
        httpx.Client(base_url=server.url) as anon,
        httpx.Client(base_url=server.url, headers={"Authorization": "Bearer pk_acme_k"}) as acme,
        httpx.Client(base_url=server.url, headers={"Authorization": "Bearer pk_beta_k"}) as beta,
    ):
        shared = anon.post(
            "/_mock/faults",
            json={"fault": {"type": "status", "status": 503}, "match": {"path": "/v1/usage"}},
        ).json()
        own = beta.post(
            "/_mock/faults",
            json={"fault": {"type": "status", "status": 502}, "match": {"path": "/v1/usage"}},
        ).json()
        assert acme.get("/v1/usage").status_code == 503
        assert beta.get("/v1/usage").status_code == 502  # the tenant's own rule comes first
        listed = {rule["id"]: rule for rule in anon.get("/_mock/faults").json()}
        assert listed[shared["id"]]["tenant"] is None
        assert listed[shared["id"]]["hits"] == 1
        assert listed[shared["id"]]["matched"] == 2  # it counted beta's attempt too
        assert listed[own["id"]]["tenant"] == "beta"
        assert beta.get("/_mock/faults").json()[0]["id"] == own["id"]
        assert anon.delete(f"/_mock/faults/{own['id']}").status_code == 204
        assert anon.delete("/_mock/faults").json() == {"deleted": 1}
        assert acme.get("/v1/usage").status_code == 200
        journal = anon.get("/_mock/journal", params={"kind": "fault"}).json()["entries"]
        assert [(e["tenant"], e["rule"]) for e in journal] == [
            ("acme", shared["id"]),
            ("beta", own["id"]),
        ]


def test_without_the_control_plane_no_fault_applies() -> None:
    with ThreadedServer(Settings(port=0, control=False)) as server:
        response = httpx.get(
            f"{server.url}/v1/usage",
            headers={
                "Authorization": "Bearer pk_acme_k",
                "X-Mock-Fault": json.dumps({"type": "status", "status": 503}),
            },
        )
    assert response.status_code == 200
