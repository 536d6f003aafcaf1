"""Steps the files tests share: a session, an upload, a request whose path goes out exactly
as written, and the whole tree of files a session sees (to show that nothing changed)."""

from __future__ import annotations

import http.client
from urllib.parse import quote, urlsplit

import httpx

from .checks import create
from .target import Target


def session(api: httpx.Client, **fields: object) -> str:
    return str(create(api, persistent=True, **fields)["id"])


def put(api: httpx.Client, sid: str, path: str, content: bytes) -> httpx.Response:
    return api.put(f"/v1/sessions/{sid}/files/{path}", content=content)


def raw_request(
    target: Target,
    key: str,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """A request whose path goes out byte for byte as written (httpx would normalise dot
    segments and encode what it does not like); returns status, headers and body."""
    parts = urlsplit(target.url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        connection.putheader("Authorization", f"Bearer {key}")
        for name, value in (headers or {}).items():
            connection.putheader(name, value)
        if body is not None:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def tree(api: httpx.Client, sid: str, folder: str = "") -> dict[str, bytes | None]:
    """Every file and folder the session can list, with each file's bytes (None: a folder)."""
    params = {"path": folder} if folder else {}
    listing = api.get(f"/v1/sessions/{sid}/files", params=params)
    assert listing.status_code == 200, listing.text
    found: dict[str, bytes | None] = {}
    for entry in listing.json():
        path = f"{folder}/{entry['name']}" if folder else entry["name"]
        if entry["type"] == "directory":
            found[path] = None
            found.update(tree(api, sid, path))
        else:
            response = api.get(f"/v1/sessions/{sid}/files/{quote(path)}")
            assert response.status_code == 200, response.text
            found[path] = response.content
    return found
