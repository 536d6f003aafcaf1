"""The files API under hostile input and races (issue 9), over real sockets.

Each input gets a 4xx in the A5 shape (never a 5xx or a cut connection), and nothing the
tenant stored changes. A download that races overwrites and deletes of its file returns
exactly one version written, as long as its Content-Length says.
"""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from .checks import assert_error
from .target import Target, client_for
from .workspace import put, raw_request, session, tree

LONG_SEGMENT = "s" * 256  # one byte over what a filesystem name may hold
LONG_PATH = "/".join(["segment"] * 600)  # 4,799 bytes


# Every path starts in the test's own folder ({folder}, filled in by the test), so that a
# server that got one wrong would still touch nothing of the tenant's.
@pytest.mark.inferred
@pytest.mark.parametrize(
    ("method", "tail", "status"),
    [
        ("PUT", "files%2F{folder}a.txt", 403),  # an encoded slash where the route's own is
        ("GET", "files%2F{folder}a.txt", 403),
        ("PUT", "%66iles/{folder}a.txt", 404),  # the route's fixed part, percent-encoded
        ("GET", "%66iles/{folder}a.txt", 404),
        ("PUT", f"files/{{folder}}{LONG_SEGMENT}", 403),
        ("GET", f"files/{{folder}}{LONG_SEGMENT}", 403),
        ("PUT", f"files/{{folder}}{LONG_PATH}", 403),
        ("PUT", "files/{folder}a.txt/b", 403),  # under a file
        ("PUT", "files/{folder}a%C2%85b.txt", 403),  # U+0085, a C1 control character
        ("PUT", "files/{folder}a%7Fb.txt", 403),  # DEL
        ("GET", "files/{folder}a%7Fb.txt", 403),
        ("PUT", "files/{folder}%ED%A0%80.txt", 403),  # a lone surrogate, as (invalid) UTF-8
        ("DELETE", "files/{folder}a%C2%9Fb.txt", 403),  # U+009F
    ],
)
def test_hostile_file_paths_are_4xx_and_change_nothing(
    api: httpx.Client,
    target: Target,
    key: str,
    folder: str,
    method: str,
    tail: str,
    status: int,
) -> None:
    """F2, F8, A5 [C for the limits and statuses] (issue 9, 5 and 13; issue 10: DEL): no
    5xx, the A5 shape, nothing stored changed."""
    sid = session(api)
    put(api, sid, f"{folder}a.txt", b"a file")
    mine = folder.rstrip("/")
    before = tree(api, sid, mine)
    body = b"x" if method == "PUT" else None
    path = f"/v1/sessions/{sid}/{tail.format(folder=folder)}"
    code, headers, raw = raw_request(target, key, method, path, body)
    assert code == status, raw
    assert headers["content-type"].startswith("application/json")
    assert set(httpx.Response(code, content=raw).json()) == {"error", "message"}
    assert tree(api, sid, mine) == before


@pytest.mark.inferred
@pytest.mark.parametrize(
    ("range_", "status", "content"),
    [
        (b"bytes=" + b"9" * 5000 + b"-", 416, None),
        (b"bytes=0-" + b"9" * 5000, 206, b"0123456789"),
        (b"bytes=-" + b"9" * 5000, 206, b"0123456789"),
        (b"bytes=" + b"0" * 5000 + b"3-4", 206, b"34"),
        (b"bytes=\xb2-4", 416, None),  # '²' is a digit to str.isdigit, not to HTTP
        (b"bytes=0-\xb2", 416, None),
        (b"bytes=" + b"0-0," * 101 + b"0-0", 416, None),
    ],
)
def test_hostile_ranges_are_4xx_or_served(
    api: httpx.Client, folder: str, range_: bytes, status: int, content: bytes | None
) -> None:
    """F5 (issue 9, 5): 4,300+ digit numbers and non-ASCII digits in Range are answered,
    never a 500: too large is past the end, not an error of int(); not digits to HTTP,
    a bad Range header (416)."""
    sid = session(api)
    put(api, sid, f"{folder}r.bin", b"0123456789")
    response = api.get(f"/v1/sessions/{sid}/files/{folder}r.bin", headers={b"Range": range_})
    if content is None:
        assert_error(response, status, "range_not_satisfiable", "Range")
    else:
        assert (response.status_code, response.content) == (status, content)


def _slow_body(halfway: threading.Event, release: threading.Event) -> Iterator[bytes]:
    yield b"a" * 65536
    halfway.set()
    assert release.wait(timeout=10)
    yield b"b" * 65536


def _upload_in_thread(
    target: Target, key: str, url: str, body: Iterator[bytes], results: list[httpx.Response]
) -> threading.Thread:
    def upload() -> None:
        with client_for(target, key) as client:
            results.append(client.put(url, content=body))

    thread = threading.Thread(target=upload)
    thread.start()
    return thread


@pytest.mark.mock_only
def test_a_reset_while_an_upload_runs_stores_nothing(
    api: httpx.Client, control: httpx.Client, target: Target, key: str
) -> None:
    """C3 with F3 (issue 9, 5): a reset during an upload is not undone by it: the upload
    answers 404 (its session is gone) and neither the file nor its folders appear."""
    sid = session(api)
    halfway, release = threading.Event(), threading.Event()
    results: list[httpx.Response] = []
    url = f"/v1/sessions/{sid}/files/new/folder/f.bin"
    thread = _upload_in_thread(target, key, url, _slow_body(halfway, release), results)
    try:
        assert halfway.wait(timeout=10)
        assert control.post("/_mock/reset").status_code == 200
    finally:
        release.set()
        thread.join(timeout=10)
    assert not thread.is_alive()
    assert_error(results[0], 404, "not_found", "reset")
    assert tree(api, session(api)) == {}


@pytest.mark.inferred
def test_a_client_gone_mid_upload_leaves_nothing(
    api: httpx.Client, target: Target, key: str, folder: str
) -> None:
    """F3 [C for the folders] (issue 9, 5 and 12): a connection reset half way through an
    upload stores no file and no folder, and the server goes on serving."""
    sid = session(api)
    parts = urlsplit(target.url)
    with socket.create_connection((parts.hostname or "", parts.port or 80), timeout=10) as sock:
        head = (
            f"PUT /v1/sessions/{sid}/files/{folder}deeper/f.bin HTTP/1.1\r\n"
            f"Host: {parts.netloc}\r\nAuthorization: Bearer {key}\r\n"
            "Content-Length: 1000000\r\nExpect: 100-continue\r\n\r\n"
        )
        sock.sendall(head.encode())
        # The server asks for the body once the route reads it: the upload is under way.
        assert sock.recv(64).startswith(b"HTTP/1.1 100")
        sock.sendall(b"x" * 100_000)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    # The server answers; nothing was stored, not even the folder.
    missing = api.get(f"/v1/sessions/{sid}/files", params={"path": folder})
    assert missing.status_code == 404


VERSIONS = [bytes([65 + i]) * (1_100_000 + 4099 * i) for i in range(4)]
OFFSET = 100_000  # where the ranged downloads start


def _run_all(jobs: list[Callable[[], None]]) -> None:
    threads = [threading.Thread(target=job) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)


def test_downloads_racing_overwrites_and_deletes_serve_one_whole_version(
    api: httpx.Client, target: Target, key: str, folder: str
) -> None:
    """F5 with F3 and F6 (issue 9, 4): uploads, downloads and deletes of one file race;
    every 200 body is exactly one version written and every 206 body the same slice of
    one version, each as long as its Content-Length where it has one (that it has one is
    F5 [C]); the rest are 404s, never a 5xx or a cut body."""
    sid = session(api)
    url = f"/v1/sessions/{sid}/files/{folder}race.bin"
    assert put(api, sid, f"{folder}race.bin", VERSIONS[0]).status_code == 201
    bodies: list[tuple[int, str, bytes]] = []
    problems: list[str] = []

    def uploader(first: int) -> Callable[[], None]:
        def run() -> None:
            with client_for(target, key) as client:
                for i in range(8):
                    status = client.put(url, content=VERSIONS[(first + i) % 4]).status_code
                    if status != 201:
                        problems.append(f"PUT {status}")

        return run

    def deleter() -> None:
        with client_for(target, key) as client:
            for _ in range(8):
                status = client.delete(url).status_code
                if status not in (204, 404):
                    problems.append(f"DELETE {status}")

    def downloader(ranged: bool) -> Callable[[], None]:
        headers = {"Range": f"bytes={OFFSET}-"} if ranged else {}

        def run() -> None:
            with client_for(target, key) as client:
                for _ in range(10):
                    try:
                        response = client.get(url, headers=headers)
                    except httpx.HTTPError as error:  # a cut or short body
                        problems.append(f"GET {type(error).__name__}: {error}")
                        continue
                    length = response.headers.get("content-length", "")
                    bodies.append((response.status_code, length, response.content))

        return run

    _run_all([uploader(1), uploader(2), deleter, *(downloader(i % 2 == 1) for i in range(4))])
    assert problems == []
    whole = set(VERSIONS)
    tails = {version[OFFSET:] for version in VERSIONS}
    served = 0
    for status, length, content in bodies:
        assert status in (200, 206, 404), (status, content[:200])
        if status == 404:
            continue
        served += 1
        assert not length or int(length) == len(content)
        assert content in (whole if status == 200 else tails), (status, len(content))
    assert served > 0  # the race was run, not only lost to deletes
