"""Assertions and control-plane steps shared by the contract tests."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

import httpx
import pytest

from .cleanup import LEDGER

T = TypeVar("T")

SESSION_FIELDS = {
    "id",
    "created_at",
    "last_activity",
    "busy",
    "persistent",
    "ttl",
    "status",
    "metadata",
    "file_access",
}


def assert_error(response: httpx.Response, status: int, error: str, *mentions: str) -> None:
    """A5: the status, the JSON shape, the short name, and a message naming the culprit."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error", "message"}, body
    assert body["error"] == error, body
    assert isinstance(body["message"], str)
    for mention in mentions:
        assert mention in body["message"], body
    assert "Traceback" not in response.text


SESSION_LIMIT = 10  # S9: the sessions a tenant may have at once, unless its limit says otherwise


def create(api: httpx.Client, **fields: object) -> dict[str, object]:
    return created(api, api.post("/v1/sessions", json=fields))


def created(api: httpx.Client, response: httpx.Response) -> dict[str, object]:
    """S2: the record of a create that must succeed (see `skip_if_the_tenant_is_full`)."""
    if response.status_code == 429:
        skip_if_the_tenant_is_full(api)
    assert response.status_code == 201, response.text
    record: dict[str, object] = response.json()
    return record


def skip_if_the_tenant_is_full(api: httpx.Client) -> None:
    """S9: a create was refused for the tenant's session limit. If sessions this test did
    not create take up room (on a deployment, the tenant's own), the test cannot run there
    without deleting them, so it is skipped, saying so; otherwise the 429 is the target's
    doing and the caller fails on it."""
    mine = set(LEDGER.sessions)
    others = [sid for sid in session_ids(api) if sid not in mine]
    if others:
        pytest.skip(
            f"S9: the tenant is at its session limit, {len(others)} of its sessions not this "
            "test's; the test deletes no session it did not create, so it needs a tenant "
            "with more room"
        )


def room_for_sessions(api: httpx.Client, count: int) -> list[str]:
    """S9, read before it is relied on: the ids the tenant lists now; skips the test
    unless ``count`` more sessions fit under the default limit beside them."""
    existing = session_ids(api)
    if len(existing) + count > SESSION_LIMIT:
        pytest.skip(
            f"S9: the tenant already has {len(existing)} sessions; this test needs {count} "
            f"more under the default limit of {SESSION_LIMIT} and deletes no session it did "
            "not create, so it needs a tenant with fewer"
        )
    return existing


def session_ids(api: httpx.Client) -> list[str]:
    """S3: the ids the tenant lists now (others' sessions included on a deployment: tests
    compare their own ids against it, never the whole list)."""
    response = api.get("/v1/sessions")
    assert response.status_code == 200, response.text
    return [str(record["id"]) for record in response.json()]


def exists(api: httpx.Client, session_id: object) -> bool:
    status = api.get(f"/v1/sessions/{session_id}").status_code
    assert status in (200, 404)
    return status == 200


# What a refusal in each U1 bucket stops the test from doing: (its clauses, the thing a
# window counts, what the test needs to do).
_BUCKETS = {
    "session_turn": ("M11/U1", "turns", "start a turn"),
    "response": ("R7/U1", "calls", "make a call"),
}


def skip_if_usage_explains(api: httpx.Client, status: int, bucket: str = "session_turn") -> None:
    """M11/U1, R7 and U2: a message (or, ``bucket="response"``, a stateless call) was
    refused with ``status`` (429, 402). If the tenant's own usage explains it (a 429 with
    a window of that bucket at its limit; a 402 with credits in hard mode, which refuse
    once the balance is under the minimum), the test cannot do its part there now and is
    skipped, saying so; otherwise the refusal is the target's doing and the caller fails
    on it."""
    usage = api.get("/v1/usage")
    if usage.status_code != 200:
        return
    body = usage.json()
    clauses, counted, needed = _BUCKETS[bucket]
    windows = body["rate_limit"]["buckets"][bucket]["windows"]
    full = [
        f"{w['name']}: {w['turns']}/{w['max_turns']} {counted}, "
        f"{w['tokens']}/{w['max_tokens']} tokens"
        for w in windows
        if w.get("enabled", True)
        and (w["turns"] >= w["max_turns"] or w["tokens"] >= w["max_tokens"])
    ]
    if status == 429 and full:
        pytest.skip(
            f"{clauses}: the tenant's {bucket} window is full ({'; '.join(full)}); the test "
            f"needs to {needed}: run it when the window has room"
        )
    credits = body.get("credits") or {}
    if status == 402 and credits.get("enabled") and credits.get("mode") == "hard":
        pytest.skip(
            f"U2: the tenant's credits are in hard mode with a balance of "
            f"{credits.get('balance')}, too little to {needed}; the test needs to"
        )


def turn_windows(api: httpx.Client) -> dict[str, dict[str, Any]]:
    """U1: the tenant's session_turn windows by name ("hour", "day")."""
    usage = api.get("/v1/usage").json()
    windows = usage["rate_limit"]["buckets"]["session_turn"]["windows"]
    return {window["name"]: window for window in windows}


def freeze(control: httpx.Client, now: float | None = None) -> float:
    """C1: switch this tenant's clock to virtual (optionally at ``now``); returns now."""
    body: dict[str, object] = {"mode": "virtual"}
    if now is not None:
        body["now"] = now
    response = control.put("/_mock/clock", json=body)
    assert response.status_code == 200, response.text
    value: float = response.json()["now"]
    return value


def advance(control: httpx.Client, seconds: float) -> float:
    """C1: move this tenant's clock; returns the new now."""
    response = control.post("/_mock/clock/advance", json={"seconds": seconds})
    assert response.status_code == 200, response.text
    assert response.json()["advanced"] == seconds
    value: float = response.json()["now"]
    return value


def run_to_end(api: httpx.Client, control: httpx.Client, sid: object) -> None:
    """Advance the virtual clock a minute at a time until the session's turn has ended
    (inside the 120 s for which a finished turn stays replayable)."""
    for _ in range(100):
        if not api.get(f"/v1/sessions/{sid}").json()["busy"]:
            return
        advance(control, 60)
    raise AssertionError("the turn did not end within 100 minutes of clock time")


def workspace_files(api: httpx.Client, sid: object, folder: str = "") -> dict[str, int]:
    """F4, walked: every file under ``folder`` (the root by default), path → size."""
    found: dict[str, int] = {}
    pending = [folder.rstrip("/")]
    while pending:
        here = pending.pop()
        params = {"path": here} if here else {}
        response = api.get(f"/v1/sessions/{sid}/files", params=params)
        if response.status_code == 404 and here == folder.rstrip("/"):
            return found  # the folder does not exist (yet, or any more)
        assert response.status_code == 200, response.text
        for entry in response.json():
            path = f"{here}/{entry['name']}" if here else entry["name"]
            if entry["type"] == "directory":
                pending.append(path)
            else:
                found[path] = entry["size"]
    return found


def all_at_once(count: int, work: Callable[[], T]) -> list[T]:
    """``work`` in ``count`` threads released together (racing retries, M9 and R6); what
    each returned. Any exception in a thread, or a thread still running after 10 s,
    fails the test."""
    results: list[T] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(count)

    def one() -> None:
        try:
            barrier.wait(timeout=5)
            results.append(work())
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    assert len(results) == count
    return results
