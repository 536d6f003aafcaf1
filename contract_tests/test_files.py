"""Section F: the tenant's workspace — upload, list, download with ranges, delete, and
paths that must never leave the workspace. Over real sockets.

Every file a test stores is in its own folder (``folder``, ``ct-<hex>/``): on a deployment
the workspace holds the tenant's own files, which a test must neither read nor replace."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from email.utils import formatdate, parsedate_to_datetime

import httpx
import pytest

from .checks import advance, assert_error, create, freeze
from .target import Target, client_for, new_key
from .workspace import put, raw_request, session, tree

LIMIT = 100 * 1024 * 1024  # F3: the default upload limit


def raw_get(target: Target, key: str, path: str) -> tuple[int, dict[str, str]]:
    status, _, body = raw_request(target, key, "GET", path)
    return status, json.loads(body or b"{}")


def test_f3_upload(api: httpx.Client, folder: str) -> None:
    """F3: the raw body is stored; 201 {path, size, modified}."""
    sid = session(api)
    notes = f"{folder}notes.txt"
    response = put(api, sid, notes, b"one")
    assert response.status_code == 201
    body = response.json()
    assert body["path"] == notes
    assert body["size"] == 3
    assert isinstance(body["modified"], float)
    assert api.get(f"/v1/sessions/{sid}/files/{notes}").content == b"one"


@pytest.mark.inferred
def test_f3_upload_overwrite_and_parents(api: httpx.Client, folder: str) -> None:
    """F3 [C]: missing parent folders are created; an overwrite is 201 too."""
    sid = session(api)
    notes = f"{folder}deep/er/notes.txt"
    first = put(api, sid, notes, b"one")
    assert first.status_code == 201
    assert first.json()["path"] == notes
    second = put(api, sid, notes, b"second")
    assert second.status_code == 201
    assert second.json()["size"] == 6
    assert api.get(f"/v1/sessions/{sid}/files/{notes}").content == b"second"


def _body(size: int, chunk: int = 1 << 20) -> Iterator[bytes]:
    block = b"x" * chunk
    while size > 0:
        yield block[: min(chunk, size)]
        size -= chunk


def test_f3_over_the_limit_is_413(api: httpx.Client, folder: str) -> None:
    """F3: an upload past the limit of about 100 MB a call (here 100 MiB and a byte, sent
    chunked) is 413."""
    sid = session(api)
    response = api.put(f"/v1/sessions/{sid}/files/{folder}big.bin", content=_body(LIMIT + 1))
    assert response.status_code == 413, response.text


@pytest.mark.inferred
def test_f3_over_the_limit_is_413_and_nothing_is_stored(api: httpx.Client, folder: str) -> None:
    """F3 [C]: an upload over 100 MiB (sent chunked, so the limit is enforced while
    reading) is 413; no file, no partial file, no new folder; an overwritten file keeps
    its previous content."""
    sid = session(api)
    put(api, sid, f"{folder}big.bin", b"previous")
    response = api.put(f"/v1/sessions/{sid}/files/{folder}big.bin", content=_body(LIMIT + 1))
    assert_error(response, 413, "payload_too_large", "limit")
    assert api.get(f"/v1/sessions/{sid}/files/{folder}big.bin").content == b"previous"
    deeper = f"/v1/sessions/{sid}/files/{folder}new/deeper/new.bin"
    assert api.put(deeper, content=_body(LIMIT + 1)).status_code == 413
    # Not even the folders (issue 9, 12).
    name = folder.rstrip("/")
    assert tree(api, sid, name) == {f"{name}/big.bin": b"previous"}


def test_f4_listing(api: httpx.Client, folder: str) -> None:
    """F4: [{name, type, size, modified}] of a folder given by ?path=; without it, the
    root, which lists this test's folder among whatever else the workspace holds."""
    sid = session(api)
    for name in ("b.txt", "B.txt", "_x", "a/inner.txt"):
        put(api, sid, f"{folder}{name}", b"12345")
    response = api.get(f"/v1/sessions/{sid}/files", params={"path": folder.rstrip("/")})
    assert response.status_code == 200
    listed = response.json()
    assert sorted(e["name"] for e in listed) == sorted(["B.txt", "_x", "a", "b.txt"])
    assert all({"name", "type", "size", "modified"} <= set(e) for e in listed)
    by_name = {e["name"]: e for e in listed}
    assert by_name["a"]["type"] == "directory"
    assert by_name["b.txt"] == {**by_name["b.txt"], "type": "file", "size": 5}
    inner = api.get(f"/v1/sessions/{sid}/files", params={"path": f"{folder}a"}).json()
    assert [e["name"] for e in inner] == ["inner.txt"]
    root = api.get(f"/v1/sessions/{sid}/files").json()
    mine = [e for e in root if e["name"] == folder.rstrip("/")]
    assert [e["type"] for e in mine] == ["directory"]


@pytest.mark.inferred
def test_f4_listing_order_and_a_missing_folder(api: httpx.Client, folder: str) -> None:
    """F4 [C]: entries sorted by name in code-point order (the root too); a trailing slash
    on ?path= is fine; a missing folder is 404."""
    sid = session(api)
    for name in ("b.txt", "B.txt", "_x", "a/inner.txt"):
        put(api, sid, f"{folder}{name}", b"12345")
    listed = api.get(f"/v1/sessions/{sid}/files", params={"path": folder}).json()
    assert [e["name"] for e in listed] == ["B.txt", "_x", "a", "b.txt"]
    inner = api.get(f"/v1/sessions/{sid}/files", params={"path": f"{folder}a/"}).json()
    assert [e["name"] for e in inner] == ["inner.txt"]
    names = [e["name"] for e in api.get(f"/v1/sessions/{sid}/files").json()]
    assert names == sorted(names)
    missing = api.get(f"/v1/sessions/{sid}/files", params={"path": f"{folder}nope"})
    assert_error(missing, 404, "not_found", "nope")


def test_f5_a_download_streams_the_bytes_and_a_folder_its_listing(
    api: httpx.Client, folder: str
) -> None:
    """F5: GET of a file answers its bytes; GET of a folder's path, its F4 listing."""
    sid = session(api)
    put(api, sid, f"{folder}out/a.bin", b"0123456789")
    put(api, sid, f"{folder}out/b.md", b"# b")
    response = api.get(f"/v1/sessions/{sid}/files/{folder}out/a.bin")
    assert (response.status_code, response.content) == (200, b"0123456789")
    listing = api.get(f"/v1/sessions/{sid}/files/{folder}out")
    assert listing.status_code == 200
    assert sorted(e["name"] for e in listing.json()) == ["a.bin", "b.md"]


@pytest.mark.inferred
def test_f5_download_headers(api: httpx.Client, folder: str) -> None:
    """F5 [C]: Content-Length, Content-Type by extension (Office and markdown always
    known), Accept-Ranges, ETag and Last-Modified."""
    sid = session(api)
    types = {
        "deck.pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "notes.md": "text/markdown",
        "data.bin": "application/octet-stream",
    }
    for name in types:
        put(api, sid, f"{folder}out/{name}", b"0123456789")
    for name, media_type in types.items():
        response = api.get(f"/v1/sessions/{sid}/files/{folder}out/{name}")
        assert response.status_code == 200
        assert response.content == b"0123456789"
        assert response.headers["content-length"] == "10"
        assert response.headers["content-type"].split(";")[0] == media_type
        assert response.headers["accept-ranges"] == "bytes"
        assert response.headers["etag"]
        parsedate_to_datetime(response.headers["last-modified"])


SINGLE_RANGES = [  # (Range, the bytes of 0123456789 it selects, their Content-Range)
    ("bytes=2-5", b"2345", "bytes 2-5/10"),
    ("bytes=7-", b"789", "bytes 7-9/10"),
    ("bytes=-3", b"789", "bytes 7-9/10"),
    ("bytes=8-100", b"89", "bytes 8-9/10"),
]


@pytest.mark.parametrize(("range_", "content", "content_range"), SINGLE_RANGES)
def test_f5_single_ranges(
    api: httpx.Client, folder: str, range_: str, content: bytes, content_range: str
) -> None:
    """F5: a single Range → 206 with the bytes it selects."""
    sid = session(api)
    put(api, sid, f"{folder}r.bin", b"0123456789")
    response = api.get(f"/v1/sessions/{sid}/files/{folder}r.bin", headers={"Range": range_})
    assert response.status_code == 206
    assert response.content == content


@pytest.mark.inferred
@pytest.mark.parametrize(("range_", "content", "content_range"), SINGLE_RANGES)
def test_f5_a_single_range_has_its_content_range(
    api: httpx.Client, folder: str, range_: str, content: bytes, content_range: str
) -> None:
    """F5 [C]: the 206 of a single Range carries its Content-Range."""
    sid = session(api)
    put(api, sid, f"{folder}r.bin", b"0123456789")
    response = api.get(f"/v1/sessions/{sid}/files/{folder}r.bin", headers={"Range": range_})
    assert (response.status_code, response.content) == (206, content)
    assert response.headers["content-range"] == content_range


def test_f5_the_smallest_ranges(api: httpx.Client, folder: str) -> None:
    """F5: ``bytes=0-0`` is the first byte; a suffix range on a 1-byte file, however long,
    is that byte."""
    sid = session(api)
    put(api, sid, f"{folder}ten.bin", b"0123456789")
    put(api, sid, f"{folder}one.bin", b"!")
    first = api.get(f"/v1/sessions/{sid}/files/{folder}ten.bin", headers={"Range": "bytes=0-0"})
    assert (first.status_code, first.content) == (206, b"0")
    for suffix in ("bytes=-1", "bytes=-5"):
        response = api.get(f"/v1/sessions/{sid}/files/{folder}one.bin", headers={"Range": suffix})
        assert (response.status_code, response.content) == (206, b"!")


@pytest.mark.inferred
def test_f5_the_smallest_ranges_have_their_content_range_and_length(
    api: httpx.Client, folder: str
) -> None:
    """F5 [C]: Content-Range and Content-Length of the one-byte ranges above."""
    sid = session(api)
    put(api, sid, f"{folder}ten.bin", b"0123456789")
    put(api, sid, f"{folder}one.bin", b"!")
    first = api.get(f"/v1/sessions/{sid}/files/{folder}ten.bin", headers={"Range": "bytes=0-0"})
    assert first.headers["content-range"] == "bytes 0-0/10"
    assert first.headers["content-length"] == "1"
    for suffix in ("bytes=-1", "bytes=-5"):
        response = api.get(f"/v1/sessions/{sid}/files/{folder}one.bin", headers={"Range": suffix})
        assert response.headers["content-range"] == "bytes 0-0/1"


@pytest.mark.parametrize("range_", ["bytes=abc", "bytes=-", "bytes=", "items=0-1", "bytes=5-2"])
def test_f5_malformed_range_is_416(api: httpx.Client, folder: str, range_: str) -> None:
    """F5: a bad Range header is 416 (the docs' error table), not the whole file."""
    sid = session(api)
    put(api, sid, f"{folder}r.bin", b"0123456789")
    response = api.get(f"/v1/sessions/{sid}/files/{folder}r.bin", headers={"Range": range_})
    assert response.status_code == 416


@pytest.mark.inferred
@pytest.mark.parametrize("range_", ["bytes=abc", "items=0-1", "bytes=5-2"])
def test_f5_a_malformed_range_names_the_header_and_the_size(
    api: httpx.Client, folder: str, range_: str
) -> None:
    """F5 [C]: in the A5 shape, naming Range, with ``Content-Range: bytes */<size>``."""
    sid = session(api)
    put(api, sid, f"{folder}r.bin", b"0123456789")
    response = api.get(f"/v1/sessions/{sid}/files/{folder}r.bin", headers={"Range": range_})
    assert_error(response, 416, "range_not_satisfiable", "Range")
    assert response.headers["content-range"] == "bytes */10"


def _parts(response: httpx.Response) -> list[tuple[str, bytes]]:
    """The (Content-Range, body) of each part of a multipart/byteranges answer."""
    content_type = response.headers["content-type"]
    assert content_type.startswith("multipart/byteranges; boundary="), content_type
    message = message_from_bytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + response.content
    )
    payload = message.get_payload()
    assert isinstance(payload, list)
    parts = []
    for part in payload:
        assert isinstance(part, Message)
        data = part.get_payload(decode=True)
        assert isinstance(data, bytes)
        parts.append((str(part["Content-Range"]), data))
    return parts


@pytest.mark.inferred
def test_f5_several_ranges_are_multipart_and_unsatisfiable_parts_are_left_out(
    api: httpx.Client,
    folder: str,
) -> None:
    """F5 [C] (RFC 9110 §14): several ranges → 206 multipart/byteranges, one part each
    with its Content-Range; a part past the end is left out, the others served."""
    sid = session(api)
    put(api, sid, f"{folder}r.txt", b"0123456789")
    url = f"/v1/sessions/{sid}/files/{folder}r.txt"
    response = api.get(url, headers={"Range": "bytes=0-1,4-5,50-60"})
    assert response.status_code == 206
    assert int(response.headers["content-length"]) == len(response.content)
    assert _parts(response) == [("bytes 0-1/10", b"01"), ("bytes 4-5/10", b"45")]
    single = api.get(url, headers={"Range": "bytes=7-8,50-60"})
    assert (single.status_code, single.content) == (206, b"78")
    assert single.headers["content-range"] == "bytes 7-8/10"


@pytest.mark.inferred
def test_f5_a_multipart_boundary_never_occurs_in_the_file(api: httpx.Client, folder: str) -> None:
    """F5 [C] (RFC 2046 §5.1.1): a part boundary a file could hold would split that file's
    part; the boundary is drawn anew, not a fixed word, so text that looks like one
    (here a few likely spellings) arrives whole."""
    sid = session(api)
    content = b"".join(b"\r\n--" + word + b"\r\n" for word in (b"None", b"boundary", b"0"))
    put(api, sid, f"{folder}b.txt", content)
    response = api.get(f"/v1/sessions/{sid}/files/{folder}b.txt", headers={"Range": "bytes=0-0,2-"})
    assert response.status_code == 206
    size = len(content)
    assert _parts(response) == [
        (f"bytes 0-0/{size}", content[:1]),
        (f"bytes 2-{size - 1}/{size}", content[2:]),
    ]


@pytest.mark.inferred
@pytest.mark.parametrize("range_", ["bytes=abc", "bytes=²-3", "bytes=50-"])
def test_f5_a_matching_if_range_does_not_change_refusals(
    api: httpx.Client, folder: str, range_: str
) -> None:
    """F5 [C], issue 9 (11): with a matching If-Range, a bad or unsatisfiable Range is still
    an A5 416 (not plain text, not an empty body)."""
    sid = session(api)
    put(api, sid, f"{folder}r.bin", b"0123456789")
    url = f"/v1/sessions/{sid}/files/{folder}r.bin"
    etag = api.get(url).headers["etag"]
    response = api.get(
        url, headers={b"Range": range_.encode("latin-1"), b"If-Range": etag.encode()}
    )
    assert_error(response, 416, "range_not_satisfiable", "Range")


@pytest.mark.inferred
def test_f5_if_range_with_a_date(api: httpx.Client, folder: str) -> None:
    """F5 [C]: If-Range may carry the Last-Modified date instead of the ETag."""
    sid = session(api)
    put(api, sid, f"{folder}r.bin", b"0123456789")
    url = f"/v1/sessions/{sid}/files/{folder}r.bin"
    modified = api.get(url).headers["last-modified"]
    fresh = api.get(url, headers={"Range": "bytes=8-", "If-Range": modified})
    assert (fresh.status_code, fresh.content) == (206, b"89")
    stale = api.get(url, headers={"Range": "bytes=8-", "If-Range": formatdate(1e9, usegmt=True)})
    assert (stale.status_code, stale.content) == (200, b"0123456789")


@pytest.mark.inferred
def test_f5_head_is_the_headers_of_get(api: httpx.Client, folder: str) -> None:
    """F5 [C]: HEAD answers as GET does, without a body."""
    sid = session(api)
    put(api, sid, f"{folder}h.md", b"# head")
    got = api.get(f"/v1/sessions/{sid}/files/{folder}h.md")
    head = api.head(f"/v1/sessions/{sid}/files/{folder}h.md")
    assert (head.status_code, head.content) == (200, b"")
    for name in ("content-length", "content-type", "etag", "last-modified", "accept-ranges"):
        assert head.headers[name] == got.headers[name]


@pytest.mark.parametrize("range_", ["bytes=10-", "bytes=50-60"])
def test_f5_unsatisfiable_range_is_416(api: httpx.Client, folder: str, range_: str) -> None:
    """F5: a range past the end → 416."""
    sid = session(api)
    put(api, sid, f"{folder}r.bin", b"0123456789")
    response = api.get(f"/v1/sessions/{sid}/files/{folder}r.bin", headers={"Range": range_})
    assert response.status_code == 416


@pytest.mark.inferred
@pytest.mark.parametrize("range_", ["bytes=10-", "bytes=50-60"])
def test_f5_an_unsatisfiable_range_names_the_header_and_the_size(
    api: httpx.Client, folder: str, range_: str
) -> None:
    """F5 [C]: the 416 of a range past the end is in the A5 shape, naming Range, with
    ``Content-Range: bytes */<size>``."""
    sid = session(api)
    put(api, sid, f"{folder}r.bin", b"0123456789")
    response = api.get(f"/v1/sessions/{sid}/files/{folder}r.bin", headers={"Range": range_})
    assert_error(response, 416, "range_not_satisfiable", "Range")
    assert response.headers["content-range"] == "bytes */10"


@pytest.mark.inferred
def test_f5_if_range(api: httpx.Client, folder: str) -> None:
    """F5 [C]: If-Range with the current ETag gets the range; a stale one the whole file."""
    sid = session(api)
    put(api, sid, f"{folder}r.bin", b"0123456789")
    etag = api.get(f"/v1/sessions/{sid}/files/{folder}r.bin").headers["etag"]
    fresh = api.get(
        f"/v1/sessions/{sid}/files/{folder}r.bin", headers={"Range": "bytes=5-", "If-Range": etag}
    )
    assert (fresh.status_code, fresh.content) == (206, b"56789")
    stale = api.get(
        f"/v1/sessions/{sid}/files/{folder}r.bin",
        headers={"Range": "bytes=5-", "If-Range": '"old"'},
    )
    assert (stale.status_code, stale.content) == (200, b"0123456789")


def test_f5_a_cut_download_resumes_with_range_byte_for_byte(api: httpx.Client, folder: str) -> None:
    """F5: read N bytes, drop the connection, reconnect with Range: bytes=N- → the rest."""
    sid = session(api)
    original = os.urandom(1 << 20)
    put(api, sid, f"{folder}random.bin", original)
    received = bytearray()
    with api.stream("GET", f"/v1/sessions/{sid}/files/{folder}random.bin") as response:
        for chunk in response.iter_bytes():
            received += chunk
            if len(received) >= 300_000:
                break
    rest = api.get(
        f"/v1/sessions/{sid}/files/{folder}random.bin",
        headers={"Range": f"bytes={len(received)}-"},
    )
    assert rest.status_code == 206
    assert bytes(received) + rest.content == original


def test_f6_delete(api: httpx.Client, folder: str) -> None:
    """F6: 204, then 404."""
    sid = session(api)
    put(api, sid, f"{folder}gone.txt", b"x")
    response = api.delete(f"/v1/sessions/{sid}/files/{folder}gone.txt")
    assert response.status_code == 204
    assert_error(
        api.delete(f"/v1/sessions/{sid}/files/{folder}gone.txt"), 404, "not_found", "gone.txt"
    )
    assert_error(api.get(f"/v1/sessions/{sid}/files/{folder}gone.txt"), 404, "not_found")


def test_f1_files_outlive_sessions(api: httpx.Client, folder: str) -> None:
    """F1: the workspace is the tenant's; a destroyed session's id is 404."""
    first, second = session(api), session(api)
    put(api, first, f"{folder}shared/keep.txt", b"kept")
    assert api.delete(f"/v1/sessions/{first}").status_code == 204
    assert api.get(f"/v1/sessions/{second}/files/{folder}shared/keep.txt").content == b"kept"
    assert_error(
        api.get(f"/v1/sessions/{first}/files/{folder}shared/keep.txt"), 404, "not_found", first
    )


@pytest.mark.mock_only
def test_a4_another_tenants_file_is_404(api: httpx.Client, target: Target) -> None:
    """A4: a file of tenant X does not exist for tenant Y."""
    sid = session(api)
    put(api, sid, "private.txt", b"mine")
    with client_for(target, new_key()) as other:
        their = str(create(other)["id"])
        assert_error(other.get(f"/v1/sessions/{their}/files/private.txt"), 404, "not_found")
        assert other.get(f"/v1/sessions/{their}/files").json() == []


# Paths a server that got F2 wrong would read inside the workspace start in the test's own
# folder ({folder}), so that even then they name no file of the tenant's.
UNSAFE = [
    "../outside.txt",
    "a/../../outside.txt",
    "{folder}./a.txt",
    "%2e%2e/outside.txt",
    "%2E%2E%2Foutside.txt",
    "{folder}a%2fb.txt",
    "{folder}a%5cb.txt",
    "{folder}a%00b.txt",
    "{folder}a%01b.txt",
    "/etc/passwd",
    "{folder}a//b.txt",
]


@pytest.mark.parametrize("path", ["../outside.txt", "a/../../outside.txt"])
def test_f2_a_path_that_climbs_with_dot_dot_is_403(
    api: httpx.Client, target: Target, key: str, path: str
) -> None:
    """F2: path traversal (a ``..`` segment) → 403."""
    sid = session(api)
    status, body = raw_get(target, key, f"/v1/sessions/{sid}/files/{path}")
    assert status == 403, body


@pytest.mark.inferred
@pytest.mark.parametrize("path", UNSAFE)
def test_f2_unsafe_paths_are_403(
    api: httpx.Client, target: Target, key: str, folder: str, path: str
) -> None:
    """F2 [C]: dot segments, absolute paths, encoded separators and dots, NUL and control
    characters, doubled slashes → 403 forbidden_path, whatever the encoding."""
    sid = session(api)
    unsafe = path.format(folder=folder)
    status, body = raw_get(target, key, f"/v1/sessions/{sid}/files/{unsafe}")
    assert status == 403, body
    assert body["error"] == "forbidden_path"


@pytest.mark.parametrize("path", ["../", "a/../.."])
def test_f2_a_listing_path_that_climbs_with_dot_dot_is_403(api: httpx.Client, path: str) -> None:
    """F2: a ``..`` segment in ?path= → 403."""
    sid = session(api)
    response = api.get(f"/v1/sessions/{sid}/files", params={"path": path})
    assert response.status_code == 403, response.text


@pytest.mark.inferred
@pytest.mark.parametrize("path", ["../", "a/../..", "/", "\\etc", "a\x00b"])
def test_f2_unsafe_listing_paths_are_403(api: httpx.Client, path: str) -> None:
    """F2 [C]: dot segments, an absolute path, a backslash or a NUL in ?path= → 403
    forbidden_path naming the parameter."""
    sid = session(api)
    response = api.get(f"/v1/sessions/{sid}/files", params={"path": path})
    assert_error(response, 403, "forbidden_path", "path")


@pytest.mark.inferred
def test_f7_a_listing_never_shows_a_half_written_file(
    api: httpx.Client, target: Target, key: str, folder: str
) -> None:
    """F7 [C]: while an upload is under way, neither the file nor a temporary name is listed."""
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
            response = client.put(f"/v1/sessions/{sid}/files/{folder}slow.bin", content=body())
            results.append(response.status_code)

    thread = threading.Thread(target=upload)
    thread.start()
    try:
        assert halfway.wait(timeout=10)
        listing = api.get(f"/v1/sessions/{sid}/files", params={"path": folder})
        assert listing.status_code == 404  # not even its folder: it is made at the end
    finally:
        release.set()
        thread.join(timeout=10)
    assert not thread.is_alive()
    assert results == [201]
    listing = api.get(f"/v1/sessions/{sid}/files", params={"path": folder}).json()
    assert [e["name"] for e in listing] == ["slow.bin"]


@pytest.mark.mock_only
def test_c1_file_and_folder_times_and_last_modified_follow_the_clock(
    api: httpx.Client, control: httpx.Client
) -> None:
    """C1 with F3–F5: ``modified`` of files and folders, and Last-Modified, are the
    tenant's clock time, not the host's. A folder's changes when an entry is added to or
    removed from it (issue 9, 14)."""
    start = freeze(control, 1_500_000_000)
    sid = session(api)
    assert put(api, sid, "dir/sub/f.txt", b"x").json()["modified"] == start
    download = api.get(f"/v1/sessions/{sid}/files/dir/sub/f.txt")
    assert download.headers["last-modified"] == formatdate(start, usegmt=True)

    def modified(folder: str) -> dict[str, float]:
        listing = api.get(f"/v1/sessions/{sid}/files", params={"path": folder}).json()
        return {e["name"]: e["modified"] for e in listing}

    assert modified("") == {"dir": start}
    assert modified("dir") == {"sub": start}
    assert modified("dir/sub") == {"f.txt": start}
    later = advance(control, 100)
    put(api, sid, "dir/other.txt", b"y")
    assert modified("") == {"dir": later}
    assert modified("dir") == {"other.txt": later, "sub": start}
    last = advance(control, 100)
    assert api.delete(f"/v1/sessions/{sid}/files/dir/sub/f.txt").status_code == 204
    assert modified("dir") == {"other.txt": later, "sub": last}


@pytest.mark.inferred
def test_f3_an_empty_name_is_refused_and_nothing_is_harmed(api: httpx.Client, folder: str) -> None:
    """F3/F2 [C]: ``PUT …/files/`` names no file: 403, and what was stored is intact
    (this test's folder, and the root still a folder holding it, with no nameless
    entry)."""
    sid = session(api)
    put(api, sid, f"{folder}keep/me.txt", b"kept")
    put(api, sid, f"{folder}top.txt", b"top")
    mine = folder.rstrip("/")
    before = tree(api, sid, mine)
    assert_error(put(api, sid, "", b"new root?"), 403, "forbidden_path", "name")
    assert tree(api, sid, mine) == before
    root = api.get(f"/v1/sessions/{sid}/files")
    assert root.status_code == 200, root.text
    assert {e["name"]: e["type"] for e in root.json()}.get(mine) == "directory"
    assert "" not in {e["name"] for e in root.json()}


def test_f6_a_file_named_like_a_temporary_one_is_a_file(api: httpx.Client, folder: str) -> None:
    """F3, F4, F6 (issue 9, 10): every stored file is listed and deletable, whatever its
    name (``.partial-x`` too)."""
    sid = session(api)
    name = folder.rstrip("/")
    assert put(api, sid, f"{folder}.partial-x", b"mine").status_code == 201
    assert tree(api, sid, name) == {f"{name}/.partial-x": b"mine"}
    assert api.delete(f"/v1/sessions/{sid}/files/{folder}.partial-x").status_code == 204
    assert tree(api, sid, name) == {}


@pytest.mark.inferred
@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("GET", "/files?path=&paht=x"),
        ("GET", "/files/{folder}a.txt?download=1"),
        ("PUT", "/files/{folder}a.txt?overwrite=false"),
        ("DELETE", "/files/{folder}a.txt?force=1"),
    ],
)
def test_a8_file_endpoints_refuse_unknown_query_parameters(
    api: httpx.Client, folder: str, method: str, url: str
) -> None:
    """A8 [C]: as on the session endpoints, a query parameter a files route does not
    define is a 400 naming it, and nothing is done."""
    sid = session(api)
    put(api, sid, f"{folder}a.txt", b"before")
    path = f"/v1/sessions/{sid}{url.format(folder=folder)}"
    response = api.request(method, path, content=b"after")
    name = url.rsplit("&", 1)[-1].split("?")[-1].split("=")[0]
    assert_error(response, 400, "invalid_request", name)
    mine = folder.rstrip("/")
    assert tree(api, sid, mine) == {f"{mine}/a.txt": b"before"}
