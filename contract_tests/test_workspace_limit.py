"""F9: a tenant's workspace holds at most so many bytes (100 GB on Pokee). The mock's
limit is configurable (`--workspace-limit`), so these tests start a mock of their own with
a small one: they are mock-only, and inferred where they check the mock's choices."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from mock_pokee.server import ThreadedServer
from mock_pokee.settings import Settings

from .bundles import bundle, skill_md
from .checks import assert_error
from .sse import send

pytestmark = [pytest.mark.mock_only, pytest.mark.inferred]

LIMIT = 1_000


@pytest.fixture
def small() -> Iterator[httpx.Client]:
    settings = Settings(port=0, clock_mode="autojump", workspace_limit=LIMIT)
    with (
        ThreadedServer(settings) as server,
        httpx.Client(
            base_url=server.url, headers={"Authorization": "Bearer pk_small_key0001"}, timeout=10
        ) as api,
    ):
        yield api


def session(api: httpx.Client) -> str:
    return str(api.post("/v1/sessions", json={"persistent": True}).json()["id"])


def stored(api: httpx.Client, sid: str) -> dict[str, int]:
    listing = api.get(f"/v1/sessions/{sid}/files").json()
    return {entry["name"]: entry["size"] for entry in listing if entry["type"] == "file"}


def test_f9_an_upload_past_the_workspace_limit_is_413_and_stores_nothing(
    small: httpx.Client,
) -> None:
    sid = session(small)
    assert small.put(f"/v1/sessions/{sid}/files/a.bin", content=b"a" * 600).status_code == 201
    refused = small.put(f"/v1/sessions/{sid}/files/b.bin", content=b"b" * 500)
    assert_error(refused, 413, "payload_too_large", "workspace limit")
    assert stored(small, sid) == {"a.bin": 600}
    # A replaced file's old bytes are given back; a deleted file's too.
    assert small.put(f"/v1/sessions/{sid}/files/a.bin", content=b"c" * 900).status_code == 201
    assert small.delete(f"/v1/sessions/{sid}/files/a.bin").status_code == 204
    assert small.put(f"/v1/sessions/{sid}/files/b.bin", content=b"b" * 1000).status_code == 201
    assert stored(small, sid) == {"b.bin": 1000}


def test_f9_a_declared_length_past_the_limit_is_refused_before_the_body(
    small: httpx.Client,
) -> None:
    sid = session(small)
    headers = {"Content-Length": "5000"}
    refused = small.put(f"/v1/sessions/{sid}/files/big.bin", content=b"x" * 5000, headers=headers)
    assert_error(refused, 413, "payload_too_large", "workspace limit")
    assert stored(small, sid) == {}


def test_f9_a_turns_write_past_the_limit_fails_that_step_and_the_turn_goes_on(
    small: httpx.Client,
) -> None:
    """The deck (tens of kilobytes) does not fit: its write_file tool ends with
    is_error, nothing is written, and the turn completes."""
    sid = session(small)
    turn = send(small, sid, "Build a deck on tides")
    results = [frame.data for frame in turn.frames if frame.type == "tool_result"]
    written = [r for r in results if "tides.pptx" in r["content"]]
    assert len(written) == 1
    assert written[0]["is_error"] is True
    assert "workspace limit" in written[0]["content"]
    assert turn.frames[-1].type == "message.completed"
    listing = small.get(f"/v1/sessions/{sid}/files", params={"path": "output"})
    assert listing.status_code == 404 or listing.json() == []


def test_k3_f9_skills_do_not_count_toward_the_workspace_limit(small: httpx.Client) -> None:
    """K3, F9: a skill several times the workspace limit installs, and the workspace
    still takes files up to its whole limit."""
    skill = bundle(("SKILL.md", skill_md("Larger than the workspace")), ("data.bin", b"d" * 5000))
    installed = small.post("/v1/skills/ct-big", content=skill)
    assert installed.status_code == 201, installed.text
    assert installed.json()["total_bytes"] > 5 * LIMIT
    sid = session(small)
    put = small.put(f"/v1/sessions/{sid}/files/full.bin", content=b"f" * LIMIT)
    assert put.status_code == 201, put.text
    assert stored(small, sid) == {"full.bin": LIMIT}
