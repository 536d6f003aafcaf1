"""Issue 4's targets: downloading 100 MB against Starlette's own FileResponse of the same
file on the same server settings, and the server's memory while 100 MB are uploaded."""

from __future__ import annotations

import http.client
import json
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

from benchmarks.harness import rss_bytes, server_process

SIZE = 100 * 1024 * 1024
AUTH = {"Authorization": "Bearer pk_bench_key"}


def _connection(url: str) -> http.client.HTTPConnection:
    parts = urlsplit(url)
    return http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=120)


def _download_seconds(url: str, path: str) -> float:
    """Time to read the whole body, discarding it, on a fresh connection."""
    connection = _connection(url)
    started = time.perf_counter()
    connection.request("GET", path, headers=AUTH)
    response = connection.getresponse()
    received = 0
    while chunk := response.read(1 << 20):
        received += len(chunk)
    elapsed = time.perf_counter() - started
    connection.close()
    assert received == SIZE, received
    return elapsed


def _best_of(runs: int, url: str, path: str) -> float:
    return min(_download_seconds(url, path) for _ in range(runs))


def file_transfer() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as folder:
        workspace = Path(folder)
        big = workspace / "bench" / "big.bin"
        big.parent.mkdir(parents=True)
        with big.open("wb") as out:
            block = bytes(range(256)) * 4096
            for _ in range(SIZE // len(block)):
                out.write(block)
        with server_process("bare") as (url, _):
            bare = _best_of(3, url, f"/file?path={big}")
        with server_process("mock", "--workspace", folder) as (url, process):
            connection = _connection(url)
            connection.request("POST", "/v1/sessions", body="{}", headers=AUTH)
            sid = json.loads(connection.getresponse().read())["id"]
            connection.close()
            mock = _best_of(3, url, f"/v1/sessions/{sid}/files/big.bin")
            growth = _upload_rss_growth(url, process.pid, sid)
    mb = SIZE / 2**20
    yield "Files: 100 MB download (best of 3) and upload"
    yield f"  Starlette FileResponse        {mb / bare:10,.0f} MB/s"
    yield f"  mock-pokee download           {mb / mock:10,.0f} MB/s"
    yield f"  ratio                         {bare / mock:10.2f}×   (target ≥ 0.80)"
    yield f"  server RSS growth, upload     {growth / 2**20:10.1f} MiB (target < 20 MiB)\n"


def _upload_rss_growth(url: str, pid: int, sid: str) -> int:
    """Peak RSS growth of the server while 100 MB are uploaded in 1 MiB chunks."""
    before = peak = rss_bytes(pid)
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, rss_bytes(pid))
            time.sleep(0.01)

    sampler = threading.Thread(target=sample)
    sampler.start()
    connection = _connection(url)
    block = b"u" * (1 << 20)
    connection.putrequest("PUT", f"/v1/sessions/{sid}/files/upload.bin")
    for name, value in AUTH.items():
        connection.putheader(name, value)
    connection.putheader("Content-Length", str(SIZE))
    connection.endheaders()
    for _ in range(SIZE // len(block)):
        connection.send(block)
    status = connection.getresponse().status
    connection.close()
    done.set()
    sampler.join()
    assert status == 201, status
    return peak - before
