"""A tenant that already holds things, as a real one does when a user points the contract
suite at it: sessions, files at the root of the workspace (some with names tests like to
use), a finished turn, stateless responses already counted in its usage. The suite must
pass on it and leave all of it as it was."""

from __future__ import annotations

import httpx

# What a real tenant already holds when a user points the suite at it: files at the root of
# the workspace (some with names the tests like to use), sessions, a finished turn.
RESIDENT_FILES = {
    "projects/acme/plan.md": b"the tenant's plan",
    "out": b"a file named out",
    "top.txt": b"top",
    "deep/er/notes.txt": b"notes",
    "r.bin": b"0123456789",
}


def inhabit(url: str, key: str) -> tuple[list[str], dict[str, bytes]]:
    """Give the tenant a life before the suite runs; returns its sessions and files."""
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=url, headers=headers, timeout=30) as api:
        sessions = [
            api.post("/v1/sessions", json={"persistent": True, "metadata": {"owner": n}}).json()[
                "id"
            ]
            for n in ("ana", "bo")
        ]
        for path, content in RESIDENT_FILES.items():
            assert api.put(f"/v1/sessions/{sessions[0]}/files/{path}", content=content).is_success
        with api.stream(
            "POST", f"/v1/sessions/{sessions[1]}/messages", json={"message": "hello"}
        ) as turn:
            turn.read()
        # R7: the response bucket already counts calls, so the R tests must count differences.
        assert api.post("/v1/responses", json={"input": "hello"}).is_success
        with api.stream("POST", "/v1/responses", json={"input": "hi", "stream": True}) as call:
            call.read()
        own = f".sessions/{sessions[0]}/own.txt"
        assert api.put(f"/v1/sessions/{sessions[0]}/files/{own}", content=b"own").is_success
    return sessions, {**RESIDENT_FILES, own: b"own"}


def untouched(
    url: str, key: str, sessions: list[str], files: dict[str, bytes], *, sessions_kept: bool
) -> None:
    """The tenant's own files are as they were and nothing else is stored; its sessions
    too, unless destructive tests ran (they may delete sessions they did not make)."""
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=url, headers=headers, timeout=30) as api:
        listed = [s["id"] for s in api.get("/v1/sessions").json()]
        if sessions_kept:
            assert listed == sessions, "the suite deleted or left sessions"
        else:
            assert set(listed) <= set(sessions), "the suite left sessions"
        kept = {f["path"] for f in api.get("/_mock/state").json()["files"]}
        assert kept == set(files), "the suite left or removed files"
        reader = api.post("/v1/sessions", json={}).json()["id"]  # theirs may be gone
        for path, content in files.items():
            assert api.get(f"/v1/sessions/{reader}/files/{path}").content == content
        api.delete(f"/v1/sessions/{reader}")
