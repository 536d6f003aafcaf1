"""Downloads (F5) at the ASGI level and the mock's own choices: a HEAD sends no body
bytes at all (uvicorn would refuse them and drop the connection), and text files say
they are UTF-8."""

from __future__ import annotations

import asyncio
from pathlib import Path, PurePosixPath

import httpx
from starlette.types import Message

from mock_pokee.api.downloads import OpenFileResponse
from mock_pokee.domain.workspace import Workspace
from mock_pokee.testing import MockServer, new_key


def test_a_head_sends_the_headers_of_get_and_no_body_bytes(tmp_path: Path) -> None:
    workspace = Workspace(tmp_path / "tenant")
    workspace.write(PurePosixPath("a.txt"), b"0123456789", 1_500_000_000.0)
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    async def receive() -> Message:
        await asyncio.sleep(3600)  # the client never leaves during this test
        raise AssertionError("unreachable")

    async def head() -> None:
        opened = workspace.open_file(PurePosixPath("a.txt"))
        assert opened is not None
        response = OpenFileResponse(opened, 200, {}, [(0, opened.size)])
        await response({"type": "http", "method": "HEAD"}, receive, send)

    asyncio.run(head())
    assert sent[0]["type"] == "http.response.start"
    assert (b"content-length", b"10") in sent[0]["headers"]
    assert [m.get("body", b"") for m in sent[1:]] == [b""]


def test_text_files_are_served_as_utf_8_and_others_without_a_charset() -> None:
    with MockServer() as server:
        api = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {new_key()}"})
        sid = api.post("/v1/sessions", json={"persistent": True}).json()["id"]
        for name in ("notes.md", "data.bin"):
            api.put(f"/v1/sessions/{sid}/files/{name}", content="é".encode())
        types = {
            name: api.get(f"/v1/sessions/{sid}/files/{name}").headers["content-type"]
            for name in ("notes.md", "data.bin")
        }
        api.close()
    assert types == {
        "notes.md": "text/markdown; charset=utf-8",
        "data.bin": "application/octet-stream",
    }
