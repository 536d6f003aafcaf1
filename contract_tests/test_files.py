"""Section F: the tenant's workspace — upload, list, download with ranges, delete, and
paths that must never leave the workspace. Over real sockets."""

from __future__ import annotations

import http.client
import json
import os
import threading
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import httpx
import pytest

from contract_tests.checks import assert_error, create
from contract_tests.target import Target, client_for, new_key

LIMIT = 100 * 1024 * 1024  # F3: the default upload limit


def session(api: httpx.Client, **fields: object) -> str:
    return str(create(api, persistent=True, **fields)["id"])


def put(api: httpx.Client, sid: str, path: str, content: bytes) -> httpx.Response:
    return api.put(f"/v1/sessions/{sid}/files/{path}", content=content)


def raw_get(target: Target, key: str, path: str) -> tuple[int, dict[str, str]]:
    """A GET whose path goes out exactly as written (httpx would normalise dot segments)."""
    parts = urlsplit(target.url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        connection.putrequest("GET", path, skip_accept_encoding=True)
        connection.putheader("Authorization", f"Bearer {key}")
        connection.endheaders()
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        connection.close()


def test_f3_upload_overwrite_and_parents(api: httpx.Client) -> None:
    """F3: 201 {path, size, modified}; parents created; an overwrite is 201 too."""
    sid = session(api)
    first = put(api, sid, "deep/er/notes.txt", b"one")
    assert first.status_code == 201
    body = first.json()
    assert body["path"] == "deep/er/notes.txt"
    assert body["size"] == 3
    assert isinstance(body["modified"], float)
    second = put(api, sid, "deep/er/notes.txt", b"second")
    assert second.status_code == 201
    assert second.json()["size"] == 6
    assert api.get(f"/v1/sessions/{sid}/files/deep/er/notes.txt").content == b"second"


def _body(size: int, chunk: int = 1 << 20) -> Iterator[bytes]:
    block = b"x" * chunk
    while size > 0:
        yield block[: min(chunk, size)]
        size -= chunk


def test_f3_over_the_limit_is_413_and_nothing_is_stored(api: httpx.Client) -> None:
    """F3: an upload over 100 MiB (sent chunked, so the limit is enforced while reading)
    is 413; no file, no partial file; an overwritten file keeps its previous content."""
    sid = session(api)
    put(api, sid, "big.bin", b"previous")
    response = api.put(f"/v1/sessions/{sid}/files/big.bin", content=_body(LIMIT + 1))
    assert_error(response, 413, "payload_too_large", "limit")
    assert api.get(f"/v1/sessions/{sid}/files/big.bin").content == b"previous"
    response = api.put(f"/v1/sessions/{sid}/files/new.bin", content=_body(LIMIT + 1))
    assert response.status_code == 413
    names = [e["name"] for e in api.get(f"/v1/sessions/{sid}/files").json()]
    assert names == ["big.bin"]


def test_f4_listing(api: httpx.Client) -> None:
    """F4: [{name, type, size, modified}] sorted by name in code-point order; ?path= a
    folder (a trailing slash is fine); a missing folder is 404."""
    sid = session(api)
    for name in ("b.txt", "B.txt", "_x", "a/inner.txt"):
        put(api, sid, name, b"12345")
    root = api.get(f"/v1/sessions/{sid}/files").json()
    assert [e["name"] for e in root] == ["B.txt", "_x", "a", "b.txt"]
    by_name = {e["name"]: e for e in root}
    assert by_name["a"]["type"] == "directory"
    assert by_name["b.txt"] == {**by_name["b.txt"], "type": "file", "size": 5}
    for query in ("a", "a/"):
        inner = api.get(f"/v1/sessions/{sid}/files", params={"path": query}).json()
        assert [e["name"] for e in inner] == ["inner.txt"]
    missing = api.get(f"/v1/sessions/{sid}/files", params={"path": "nope"})
    assert_error(missing, 404, "not_found", "nope")


def test_f5_download_headers(api: httpx.Client) -> None:
    """F5: Content-Length, Content-Type by extension (Office and markdown always known),
    Accept-Ranges, ETag and Last-Modified; a directory path returns its listing."""
    sid = session(api)
    types = {
        "deck.pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "notes.md": "text/markdown",
        "data.bin": "application/octet-stream",
    }
    for name in types:
        put(api, sid, f"out/{name}", b"0123456789")
    for name, media_type in types.items():
        response = api.get(f"/v1/sessions/{sid}/files/out/{name}")
        assert response.status_code == 200
        assert response.content == b"0123456789"
        assert response.headers["content-length"] == "10"
        assert response.headers["content-type"].split(";")[0] == media_type
        assert response.headers["accept-ranges"] == "bytes"
        assert response.headers["etag"]
        parsedate_to_datetime(response.headers["last-modified"])
    listing = api.get(f"/v1/sessions/{sid}/files/out")
    assert sorted(e["name"] for e in listing.json()) == sorted(types)


@pytest.mark.parametrize(
    ("range_", "status", "content", "content_range"),
    [
        ("bytes=2-5", 206, b"2345", "bytes 2-5/10"),
        ("bytes=7-", 206, b"789", "bytes 7-9/10"),
        ("bytes=-3", 206, b"789", "bytes 7-9/10"),
        ("bytes=8-100", 206, b"89", "bytes 8-9/10"),
    ],
)
def test_f5_single_ranges(
    api: httpx.Client, range_: str, status: int, content: bytes, content_range: str
) -> None:
    """F5: a single Range → 206 with Content-Range."""
    sid = session(api)
    put(api, sid, "r.bin", b"0123456789")
    response = api.get(f"/v1/sessions/{sid}/files/r.bin", headers={"Range": range_})
    assert response.status_code == status
    assert response.content == content
    assert response.headers["content-range"] == content_range


@pytest.mark.parametrize("range_", ["bytes=10-", "bytes=50-60"])
def test_f5_unsatisfiable_range_is_416(api: httpx.Client, range_: str) -> None:
    """F5: a range past the end → 416 (A5 body) with Content-Range: bytes */size."""
    sid = session(api)
    put(api, sid, "r.bin", b"0123456789")
    response = api.get(f"/v1/sessions/{sid}/files/r.bin", headers={"Range": range_})
    assert_error(response, 416, "range_not_satisfiable", "Range")
    assert response.headers["content-range"] == "bytes */10"


@pytest.mark.inferred
def test_f5_if_range(api: httpx.Client) -> None:
    """F5 [C]: If-Range with the current ETag gets the range; a stale one the whole file."""
    sid = session(api)
    put(api, sid, "r.bin", b"0123456789")
    etag = api.get(f"/v1/sessions/{sid}/files/r.bin").headers["etag"]
    fresh = api.get(
        f"/v1/sessions/{sid}/files/r.bin", headers={"Range": "bytes=5-", "If-Range": etag}
    )
    assert (fresh.status_code, fresh.content) == (206, b"56789")
    stale = api.get(
        f"/v1/sessions/{sid}/files/r.bin", headers={"Range": "bytes=5-", "If-Range": '"old"'}
    )
    assert (stale.status_code, stale.content) == (200, b"0123456789")


def test_f5_a_cut_download_resumes_with_range_byte_for_byte(api: httpx.Client) -> None:
    """F5: read N bytes, drop the connection, reconnect with Range: bytes=N- → the rest."""
    sid = session(api)
    original = os.urandom(1 << 20)
    put(api, sid, "big/random.bin", original)
    received = bytearray()
    with api.stream("GET", f"/v1/sessions/{sid}/files/big/random.bin") as response:
        for chunk in response.iter_bytes():
            received += chunk
            if len(received) >= 300_000:
                break
    rest = api.get(
        f"/v1/sessions/{sid}/files/big/random.bin", headers={"Range": f"bytes={len(received)}-"}
    )
    assert rest.status_code == 206
    assert bytes(received) + rest.content == original


def test_f6_delete(api: httpx.Client) -> None:
    """F6: 204, then 404."""
    sid = session(api)
    put(api, sid, "gone.txt", b"x")
    response = api.delete(f"/v1/sessions/{sid}/files/gone.txt")
    assert response.status_code == 204
    assert_error(api.delete(f"/v1/sessions/{sid}/files/gone.txt"), 404, "not_found", "gone.txt")
    assert_error(api.get(f"/v1/sessions/{sid}/files/gone.txt"), 404, "not_found")


def test_f1_files_outlive_sessions(api: httpx.Client) -> None:
    """F1: the workspace is the tenant's; a destroyed session's id is 404."""
    first, second = session(api), session(api)
    put(api, first, "shared/keep.txt", b"kept")
    assert api.delete(f"/v1/sessions/{first}").status_code == 204
    assert api.get(f"/v1/sessions/{second}/files/shared/keep.txt").content == b"kept"
    assert_error(api.get(f"/v1/sessions/{first}/files/shared/keep.txt"), 404, "not_found", first)


@pytest.mark.mock_only
def test_a4_another_tenants_file_is_404(api: httpx.Client, target: Target) -> None:
    """A4: a file of tenant X does not exist for tenant Y."""
    sid = session(api)
    put(api, sid, "private.txt", b"mine")
    with client_for(target, new_key()) as other:
        their = str(create(other)["id"])
        assert_error(other.get(f"/v1/sessions/{their}/files/private.txt"), 404, "not_found")
        assert other.get(f"/v1/sessions/{their}/files").json() == []


UNSAFE = [
    "../outside.txt",
    "a/../../outside.txt",
    "./a.txt",
    "%2e%2e/outside.txt",
    "%2E%2E%2Foutside.txt",
    "a%2fb.txt",
    "a%5cb.txt",
    "a%00b.txt",
    "a%01b.txt",
    "/etc/passwd",
    "a//b.txt",
]


@pytest.mark.parametrize("path", UNSAFE)
def test_f2_unsafe_paths_are_403(api: httpx.Client, target: Target, key: str, path: str) -> None:
    """F2: dot segments, absolute paths, encoded separators and dots, NUL and control
    characters, doubled slashes → 403 forbidden_path, whatever the encoding."""
    sid = session(api)
    status, body = raw_get(target, key, f"/v1/sessions/{sid}/files/{path}")
    assert status == 403, body
    assert body["error"] == "forbidden_path"


@pytest.mark.parametrize("path", ["../", "a/../..", "/", "\\etc", "a\x00b"])
def test_f2_unsafe_listing_paths_are_403(api: httpx.Client, path: str) -> None:
    sid = session(api)
    response = api.get(f"/v1/sessions/{sid}/files", params={"path": path})
    assert_error(response, 403, "forbidden_path", "path")


def test_f2_file_access_scopes(api: httpx.Client) -> None:
    """F2 and S1: read prefixes gate listing and download; write prefixes gate upload and
    delete."""
    open_sid = session(api)
    put(api, open_sid, "output/report.md", b"# r")
    put(api, open_sid, "secret/key.txt", b"k")
    sid = session(api, file_access={"read": ["output/"], "write": ["output/tmp/"]})
    assert api.get(f"/v1/sessions/{sid}/files/output/report.md").content == b"# r"
    assert [e["name"] for e in api.get(f"/v1/sessions/{sid}/files?path=output").json()] == [
        "report.md"
    ]
    for response in (
        api.get(f"/v1/sessions/{sid}/files/secret/key.txt"),
        api.get(f"/v1/sessions/{sid}/files"),
        put(api, sid, "output/report.md", b"overwritten?"),
        api.delete(f"/v1/sessions/{sid}/files/output/report.md"),
    ):
        assert_error(response, 403, "forbidden_path", "access")
    assert put(api, sid, "output/tmp/scratch.txt", b"ok").status_code == 201
    assert api.get(f"/v1/sessions/{open_sid}/files/output/report.md").content == b"# r"


def test_f7_a_listing_never_shows_a_half_written_file(
    api: httpx.Client, target: Target, key: str
) -> None:
    """F7: while an upload is under way, neither the file nor a temporary name is listed."""
    sid = session(api)
    halfway, release = threading.Event(), threading.Event()

    def body() -> Iterator[bytes]:
        yield b"a" * 65536
        halfway.set()
        release.wait(timeout=10)
        yield b"b" * 65536

    results: list[int] = []

    def upload() -> None:
        with client_for(target, key) as client:
            response = client.put(f"/v1/sessions/{sid}/files/slow.bin", content=body())
            results.append(response.status_code)

    thread = threading.Thread(target=upload)
    thread.start()
    try:
        assert halfway.wait(timeout=10)
        assert api.get(f"/v1/sessions/{sid}/files").json() == []
    finally:
        release.set()
        thread.join(timeout=10)
    assert not thread.is_alive()
    assert results == [201]
    assert [e["name"] for e in api.get(f"/v1/sessions/{sid}/files").json()] == ["slow.bin"]
