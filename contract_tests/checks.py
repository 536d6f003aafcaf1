"""Assertions and control-plane steps shared by the contract tests."""

from __future__ import annotations

from typing import Any

import httpx

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


def create(api: httpx.Client, **fields: object) -> dict[str, object]:
    response = api.post("/v1/sessions", json=fields)
    assert response.status_code == 201, response.text
    record: dict[str, object] = response.json()
    return record


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
