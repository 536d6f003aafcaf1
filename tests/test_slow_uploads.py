"""F3 against slow clients and a process out of file descriptors: an upload whose body
stops coming is given up (408) and stores nothing; one that has sent nothing holds no
staging file; running out of descriptors is a 503 with Retry-After, never a 500."""

from __future__ import annotations

import errno
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from mock_pokee.server import ThreadedServer
from mock_pokee.settings import Settings

KEY = "pk_slow_key00000001"
BOUND = 10.0  # real seconds any wait below may take


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ThreadedServer]:
    settings = Settings(port=0, clock_mode="virtual", workspace=tmp_path, body_timeout=0.5)
    with ThreadedServer(settings) as running:
        yield running


def session(server: ThreadedServer) -> str:
    headers = {"Authorization": f"Bearer {KEY}"}
    return str(httpx.post(f"{server.url}/v1/sessions", headers=headers, json={}).json()["id"])


def start_upload(server: ThreadedServer, sid: str, declared: int) -> socket.socket:
    """An upload's head and no body yet, on a raw socket."""
    address = urlsplit(server.url)
    sock = socket.create_connection((address.hostname, address.port), timeout=BOUND)
    sock.sendall(
        f"PUT /v1/sessions/{sid}/files/slow.bin HTTP/1.1\r\nHost: localhost\r\n"
        f"Authorization: Bearer {KEY}\r\nContent-Length: {declared}\r\n\r\n".encode()
    )
    return sock


def answer(sock: socket.socket) -> bytes:
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
        if b"\r\n\r\n" in received and received.endswith(b"}"):
            break
    return received


def test_f3_a_body_that_stops_coming_is_given_up_and_stores_nothing(
    server: ThreadedServer, tmp_path: Path
) -> None:
    sid = session(server)
    with start_upload(server, sid, declared=1000) as sock:
        sock.sendall(b"x" * 10)  # a trickle, then nothing
        started = time.monotonic()
        reply = answer(sock)
    assert reply.startswith(b"HTTP/1.1 408"), reply
    assert b'"error":"request_timeout"' in reply
    assert time.monotonic() - started < BOUND
    listing = httpx.get(
        f"{server.url}/v1/sessions/{sid}/files", headers={"Authorization": f"Bearer {KEY}"}
    )
    assert listing.json() == []
    assert not any((tmp_path / ".staging").rglob("*.*"))  # no staging file left either
    assert server.errors == []


def test_f3_an_upload_that_sent_nothing_holds_no_staging_file(
    server: ThreadedServer, tmp_path: Path
) -> None:
    sid = session(server)
    with start_upload(server, sid, declared=1000):
        time.sleep(0.2)  # real time: the server reads the head, and waits for a body
        staged = [p for p in (tmp_path / ".staging").rglob("*") if p.is_file()]
        assert staged == []


def test_f3_out_of_file_descriptors_is_a_503_with_retry_after(
    server: ThreadedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    sid = session(server)

    def no_descriptors(*args: object, **kwargs: object) -> tuple[int, str]:
        raise OSError(errno.EMFILE, "Too many open files")

    monkeypatch.setattr("tempfile.mkstemp", no_descriptors)
    headers = {"Authorization": f"Bearer {KEY}"}
    refused = httpx.put(
        f"{server.url}/v1/sessions/{sid}/files/a.txt", headers=headers, content=b"x"
    )
    assert refused.status_code == 503
    assert refused.headers["retry-after"] == "1"
    assert refused.json()["error"] == "service_unavailable"
    assert server.errors == []
