"""The workspace on disk (F3–F7), driven without HTTP: staging outside the tree, commits
that leave nothing behind when they fail, one open version per download, clock times."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import AsyncIterator
from pathlib import Path, PurePosixPath

import pytest

from mock_pokee.domain.errors import ForbiddenPath, NotFound, PayloadTooLarge
from mock_pokee.domain.scopes import FULL
from mock_pokee.domain.workspace import Workspace

T = 1_500_000_000.0


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path / "tenant")


def p(text: str) -> PurePosixPath:
    return PurePosixPath(text)


def everything(folder: Path) -> list[str]:
    return sorted(path.relative_to(folder).as_posix() for path in folder.rglob("*"))


async def chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


def test_staging_is_outside_the_tree_and_emptied(workspace: Workspace) -> None:
    """F7 (issue 9, 10): the body waits where no path reaches, and is gone once stored."""

    async def go() -> None:
        with await workspace.receive(chunks(b"half", b"way"), limit=100) as staged:
            assert staged.temporary.parent == workspace.staging
            assert not workspace.root.exists()
            workspace.commit(p("a/b.txt"), staged, T)

    asyncio.run(go())
    assert everything(workspace.root) == ["a", "a/b.txt"]
    assert everything(workspace.staging) == []


def test_over_the_limit_leaves_nothing(workspace: Workspace) -> None:
    """F3: 413 while reading; no file, no folder, no staged leftover."""

    async def go() -> None:
        await workspace.receive(chunks(b"x" * 6, b"x" * 6), limit=10)

    with pytest.raises(PayloadTooLarge):
        asyncio.run(go())
    assert not workspace.root.exists()
    assert everything(workspace.staging) == []


def test_a_commit_after_a_reset_is_refused(workspace: Workspace) -> None:
    """C3 (issue 9, 5): an upload begun before a reset is not stored after it."""
    workspace.write(p("old.txt"), b"old", T)

    async def go() -> None:
        with await workspace.receive(chunks(b"new"), limit=100) as staged:
            workspace.clear()
            workspace.commit(p("new/x.txt"), staged, T)

    with pytest.raises(NotFound, match=r"reset while the body was sent; nothing was stored$"):
        asyncio.run(go())
    assert not workspace.root.exists()
    assert everything(workspace.staging) == []


def test_a_failed_commit_removes_the_folders_it_made(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """F3 (issue 9, 12): folders made for a file that was not stored are removed."""
    workspace.write(p("kept/a.txt"), b"a", T)

    def fail(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        workspace.write(p("kept/new/deeper/b.txt"), b"b", T)
    assert everything(workspace.root) == ["kept", "kept/a.txt"]
    assert everything(workspace.staging) == []


def test_folders_take_the_clock_time_of_their_last_change(workspace: Workspace) -> None:
    """C1 (issue 9, 14): a folder's ``modified`` is the clock time an entry was last
    added to or removed from it; deeper changes do not touch it."""
    workspace.write(p("d/e/f.txt"), b"f", T)
    times = {e["name"]: e["modified"] for e in workspace.listing(p(""), FULL)}
    assert times == {"d": T}
    assert workspace.listing(p("d"), FULL)[0]["modified"] == T
    workspace.write(p("d/e/g.txt"), b"g", T + 10)
    assert workspace.listing(p(""), FULL)[0]["modified"] == T
    assert workspace.listing(p("d"), FULL)[0]["modified"] == T + 10
    workspace.delete(p("d/e/f.txt"), T + 20)
    assert workspace.listing(p("d"), FULL)[0]["modified"] == T + 20
    assert {e["name"]: e["modified"] for e in workspace.listing(p("d/e"), FULL)} == {
        "g.txt": T + 10
    }


def test_an_open_file_keeps_its_version(workspace: Workspace) -> None:
    """F5 (issue 9, 4): what was opened is what is served, whatever happens to the name;
    the next open sees the new version under a new ETag, even at the same clock time."""
    workspace.write(p("f.bin"), b"first", T)
    opened = workspace.open_file(p("f.bin"))
    assert opened is not None
    try:
        workspace.write(p("f.bin"), b"SECOND", T)
        assert opened.read(0, 100) == b"first"
        again = workspace.open_file(p("f.bin"))
        assert again is not None
        assert (again.read(0, 100), again.size) == (b"SECOND", 6)
        assert again.etag != opened.etag
        again.close()
        workspace.delete(p("f.bin"), T)
        assert opened.read(1, 3) == b"irs"
    finally:
        opened.close()
    with pytest.raises(NotFound):
        workspace.open_file(p("f.bin"))


def test_open_file_of_a_folder_is_none_and_under_a_file_is_403(workspace: Workspace) -> None:
    workspace.write(p("d/a.txt"), b"a", T)
    assert workspace.open_file(p("d")) is None
    assert workspace.open_file(p("")) is None
    with pytest.raises(ForbiddenPath, match=r"'d/a\.txt' is a file"):
        workspace.open_file(p("d/a.txt/b"))
    with pytest.raises(ForbiddenPath, match=r"'d/a\.txt' is a file"):
        workspace.write(p("d/a.txt/b/c"), b"c", T)
    with pytest.raises(ForbiddenPath, match="is a directory"):
        workspace.write(p("d"), b"over a folder", T)
    with pytest.raises(ForbiddenPath, match="needs a name"):
        workspace.write(p(""), b"the root", T)
    assert everything(workspace.root) == ["d", "d/a.txt"]


def test_a_file_that_leaves_while_its_path_is_opened_under_it_is_still_403(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The open fails because ``d/a.txt`` is a file; by the time the mock looks for the
    culprit, the file is gone. Still a 403 (the path was under a file), never a 404."""
    workspace.write(p("d/a.txt"), b"a", T)
    monkeypatch.setattr(Workspace, "_under_a_file", lambda self, path: None)
    with pytest.raises(ForbiddenPath, match="a parent is not a folder"):
        workspace.open_file(p("d/a.txt/b"))


def test_a_fifo_in_the_folder_is_refused_without_waiting_for_a_writer(
    workspace: Workspace,
) -> None:
    """Someone made a named pipe in a kept ``--workspace``: opening it must not wait for
    a writer (that would stall every request). Bounded: a blocked open fails the test."""
    workspace.write(p("d/a.txt"), b"a", T)
    os.mkfifo(workspace.root / "d" / "pipe")
    opened: list[BaseException | None] = []

    def open_it() -> None:
        try:
            workspace.open_file(p("d/pipe"))
        except NotFound as refused:
            opened.append(refused)

    reader = threading.Thread(target=open_it, daemon=True)
    reader.start()
    reader.join(timeout=5)
    blocked = reader.is_alive()
    if blocked:  # release the open before failing
        os.close(os.open(workspace.root / "d" / "pipe", os.O_WRONLY | os.O_NONBLOCK))
        reader.join(timeout=5)
    assert not blocked, "opening the FIFO waited for a writer"
    assert [str(e) for e in opened] == ["path 'd/pipe': not a file or directory"]


def test_every_stored_file_is_listed_and_deletable(workspace: Workspace) -> None:
    """F4, F6 (issue 9, 10): no name is reserved for the mock's own use."""
    workspace.write(p(".partial-x"), b"mine", T)
    assert [e["name"] for e in workspace.listing(p(""), FULL)] == [".partial-x"]
    assert workspace.files() == [{"path": ".partial-x", "size": 4}]
    workspace.delete(p(".partial-x"), T)
    assert workspace.files() == []
    with pytest.raises(NotFound):
        workspace.delete(p(".partial-x"), T)


def test_a_listing_skips_symlinks_and_shows_everything_else(workspace: Workspace) -> None:
    for n in range(20):
        workspace.write(p(f"d/f{n:02}.txt"), b"x", T)
    (workspace.root / "d" / "link").symlink_to(workspace.root / "d" / "f00.txt")
    listed = [entry["name"] for entry in workspace.listing(p("d"), FULL)]
    assert sorted(listed) == [f"f{n:02}.txt" for n in range(20)]
