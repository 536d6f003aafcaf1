"""Downloads that survive cuts (F5): resumed with Range/If-Range, byte-exact, and never a
partial file under the target's name — against a server that cuts on purpose, and the
mock for the refusals."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pokee_client import (
    AsyncPokeeClient,
    ForbiddenPathError,
    NotFoundError,
    PokeeClient,
    RetryPolicy,
    TransportError,
)
from tests.client.flaky import SESSION_ID, Flaky, serving
from tests.client.helpers import Sleeper

CONTENT = os.urandom(300_000)


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[Flaky, str]]:
    app = Flaky()
    with serving(app) as url:
        yield app, url


@pytest.fixture
def app(server: tuple[Flaky, str]) -> Flaky:
    app = server[0]
    app.file, app.file_after_first_download, app.cuts, app.requests = CONTENT, None, [], []
    return app


@pytest.fixture
def sleeper() -> Sleeper:
    return Sleeper()


@pytest.fixture
def pokee(server: tuple[Flaky, str], sleeper: Sleeper) -> Iterator[PokeeClient]:
    retry = RetryPolicy(jitter=lambda: 0.5)
    with PokeeClient(server[1], "pk_flaky_key", sleep=sleeper, retry=retry) as client:
        yield client


def ranges(app: Flaky) -> list[tuple[str | None, str | None]]:
    return [(h.get("range"), h.get("if-range")) for _, _, h in app.requests]


def test_a_cut_download_is_resumed_byte_exact(
    app: Flaky, pokee: PokeeClient, sleeper: Sleeper, tmp_path: Path
) -> None:
    app.cuts = [65_536]
    saved = pokee.files.download(SESSION_ID, "output/deck.pptx", tmp_path / "deck.pptx")
    assert saved.read_bytes() == CONTENT
    first, second = ranges(app)
    assert first == (None, None)
    assert second[0] == "bytes=65536-"
    assert second[1] is not None  # If-Range: the ETag of the first answer
    assert second[1].startswith('"')
    assert sleeper.calls == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deck.pptx"]


def test_many_cuts_with_progress_still_finish(
    app: Flaky, pokee: PokeeClient, tmp_path: Path
) -> None:
    app.cuts = [50_000] * 5
    saved = pokee.files.download(SESSION_ID, "big.bin", tmp_path / "big.bin")
    assert saved.read_bytes() == CONTENT
    assert [r for r, _ in ranges(app)] == [None] + [f"bytes={n * 50_000}-" for n in range(1, 6)]


def test_a_file_changed_between_tries_is_downloaded_again_whole(
    app: Flaky, pokee: PokeeClient, tmp_path: Path
) -> None:
    """If-Range: a different ETag gets the whole new file (200), never a splice."""
    newer = os.urandom(120_000)
    app.cuts = [100_000]
    app.file_after_first_download = newer
    saved = pokee.files.download(SESSION_ID, "report.md", tmp_path / "report.md")
    assert saved.read_bytes() == newer


def test_a_download_that_cannot_finish_leaves_nothing(
    app: Flaky, pokee: PokeeClient, sleeper: Sleeper, tmp_path: Path
) -> None:
    target = tmp_path / "deck.pptx"
    target.write_bytes(b"the previous version")
    app.cuts = [10_000] + [0] * 10
    with pytest.raises(TransportError, match="cut 4 times at byte 10000 of 300000"):
        pokee.files.download(SESSION_ID, "deck.pptx", target)
    assert target.read_bytes() == b"the previous version"  # untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deck.pptx"]  # no .part left
    policy = RetryPolicy(jitter=lambda: 0.5)
    assert sleeper.calls == [policy.backoff_delay(n) for n in range(3)]


def test_the_async_client_resumes_downloads_too(
    app: Flaky, server: tuple[Flaky, str], tmp_path: Path
) -> None:
    app.cuts = [70_000]

    async def go() -> Path:
        async with AsyncPokeeClient(server[1], "pk_flaky_key") as pokee:
            return await pokee.files.download(SESSION_ID, "a.bin", tmp_path / "a.bin")

    assert asyncio.run(go()).read_bytes() == CONTENT
    assert [r for r, _ in ranges(app)] == [None, "bytes=70000-"]


def test_a_refused_path_writes_nothing(
    client: PokeeClient, control: httpx.Client, tmp_path: Path
) -> None:
    """F2 on the mock: 403 before any byte, so not even the folder is made."""
    session = client.sessions.create()
    target = tmp_path / "new-folder" / "passwd"
    with pytest.raises(ForbiddenPathError, match="forbidden_path"):
        client.files.download(session.id, "../etc/passwd", target)
    with pytest.raises(NotFoundError):
        client.files.download(session.id, "output/missing.txt", target)
    assert list(tmp_path.iterdir()) == []


def test_upload_and_download_round_trip_on_the_mock(client: PokeeClient, tmp_path: Path) -> None:
    session = client.sessions.create()
    source = tmp_path / "source.bin"
    source.write_bytes(CONTENT)
    stored = client.files.upload(session.id, "in/some name.bin", source)
    assert (stored.path, stored.size) == ("in/some name.bin", len(CONTENT))
    assert [e.name for e in client.files.list(session.id, "in")] == ["some name.bin"]
    copy = client.files.download(session.id, "in/some name.bin", tmp_path / "copy.bin")
    assert copy.read_bytes() == CONTENT
    client.files.delete(session.id, "in/some name.bin")
    assert client.files.list(session.id, "in") == []
