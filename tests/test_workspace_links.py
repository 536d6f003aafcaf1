"""F8 with symbolic links in the workspace (a --workspace shared with other tools): the
scope must cover where a path leads, not only how it is named, for every operation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mock_pokee.server import ThreadedServer
from mock_pokee.settings import Settings

KEY = {"Authorization": "Bearer pk_shared_key0001"}


@pytest.fixture
def shared(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A tenant folder holding a secret outside ``pub/``, and links to it from inside."""
    with ThreadedServer(Settings(port=0, clock_mode="virtual", workspace=tmp_path)) as server:
        api = httpx.Client(base_url=server.url, headers=KEY)
        sid = api.post("/v1/sessions", json={}).json()["id"]
        for path in ("secret.txt", "pub/readme.md", "pub/out/keep.txt"):
            assert api.put(f"/v1/sessions/{sid}/files/{path}", content=path.encode()).is_success
        folder = tmp_path / "shared"
        (folder / "pub" / "to-secret").symlink_to(folder / "secret.txt")
        (folder / "pub" / "out" / "w").symlink_to(folder / "secret.txt")
        (folder / "pub" / "alias.md").symlink_to(folder / "pub" / "readme.md")
        (folder / "pub" / "up").symlink_to(folder)
        api.close()
        yield server.url, folder


def test_f8_a_link_inside_the_scope_does_not_reach_outside_it(shared: tuple[str, Path]) -> None:
    url, folder = shared
    with httpx.Client(base_url=url, headers=KEY) as api:
        scoped = {"file_access": {"read": ["pub"], "write": ["pub/out/"]}}
        sid = api.post("/v1/sessions", json=scoped).json()["id"]
        files = f"/v1/sessions/{sid}/files"
        for answer in (
            api.get(f"{files}/pub/to-secret"),
            api.put(f"{files}/pub/out/w", content=b"overwritten"),
            api.delete(f"{files}/pub/out/w"),
            api.get(f"{files}/pub/up/secret.txt"),
        ):
            assert answer.status_code == 403, answer.text
            assert answer.json()["error"] == "forbidden_path"
        # A link to a folder above the scope lists as that folder does: only the way in.
        above = api.get(files, params={"path": "pub/up"}).json()
        assert [entry["name"] for entry in above] == ["pub"]
        assert (folder / "secret.txt").read_bytes() == b"secret.txt"
        assert (folder / "pub" / "out" / "w").is_symlink()
        assert api.get(f"{files}/pub/alias.md").content == b"pub/readme.md"  # inside: fine
        assert api.get(f"{files}/pub/out/keep.txt").content == b"pub/out/keep.txt"
