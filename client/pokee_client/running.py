"""``run``: the cookbook's long-running flow in one call.

Create a persistent session; send the message and stream the turn (resuming through drops,
falling back to polling, see `pokee_client.turns`); poll the metadata beside the stream for
progress; then download what the turn wrote and delete the session unless asked to keep
it. The session is deleted on failure too (and on Ctrl-C), so a failed run leaves nothing
running and nothing billed.

What the turn wrote is found by comparing the workspace before and after it (name, size,
modification time): the contract has no list of a turn's files, and files outlive sessions
(F1), so older files are left alone. Another client writing to the same workspace during
the turn would have its files downloaded too.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from pokee_client.base import ClientCore
from pokee_client.downloads import download
from pokee_client.effects import Flow, Unwatch, Watch, observe
from pokee_client.errors import NotFoundError, PokeeError, ProtocolError
from pokee_client.operations import create_session, delete_session, get_session, list_files
from pokee_client.progress import Progress, ProgressTracker
from pokee_client.records import Session
from pokee_client.requests import new_idempotency_key
from pokee_client.retrying import NO_RETRIES
from pokee_client.turns import OutcomeStatus, TurnOutcome, TurnReader, stream_turn

Snapshot = dict[str, tuple[int, float]]  # workspace path → (size, modified)


@dataclass(frozen=True)
class RunResult:
    """``session`` is the record as the turn left it (final metadata, M5); ``files`` the
    local paths of the files the turn wrote; ``kept`` whether the session still exists."""

    outcome: TurnOutcome
    session: Session
    files: tuple[Path, ...]
    kept: bool

    @property
    def status(self) -> OutcomeStatus:
        return self.outcome.status


@dataclass(frozen=True)
class RunOptions:
    persistent: bool = True
    ttl: int | str | None = None
    metadata: Mapping[str, Any] | None = None
    out: Path = Path()
    keep: bool = False
    scenario: str | None = None


def run(
    core: ClientCore,
    message: str,
    *,
    persistent: bool = True,
    ttl: int | str | None = None,
    metadata: Mapping[str, Any] | None = None,
    out: str | Path = ".",
    keep: bool = False,
    scenario: str | None = None,
    on_progress: Callable[[Progress], None] | None = None,
) -> Flow[RunResult]:
    """The flow behind ``PokeeClient.run`` and ``AsyncPokeeClient.run``."""
    options = RunOptions(persistent, ttl, metadata, Path(out), keep, scenario)
    progress = ProgressTracker(on_progress)
    session = yield from create_session(
        core, persistent=options.persistent, ttl=options.ttl, metadata=options.metadata
    )
    progress.session(session)
    try:
        result = yield from _turn(core, session, message, options, progress)
    except GeneratorExit:
        raise
    except BaseException:
        if not options.keep:
            yield from _delete_quietly(core, session.id)
        raise
    if not options.keep:
        progress.phase("cleaning up")
        yield from delete_session(core, session.id)
    progress.phase("done")
    return result


def _turn(
    core: ClientCore,
    session: Session,
    message: str,
    options: RunOptions,
    progress: ProgressTracker,
) -> Flow[RunResult]:
    before = yield from snapshot(core, session.id)
    reader = TurnReader(session.id)
    request = core.requests.send_message(
        session.id, message, new_idempotency_key(), options.scenario
    )
    watcher = dataclasses.replace(core, policy=NO_RETRIES)  # a missed poll is no failure
    handle = yield Watch(lambda: _refresh(watcher, session.id, progress), core.watch_interval)
    progress.phase("running")
    outcome = yield from observe(
        stream_turn(core, reader, request, on_session=progress.polled), progress.event
    )
    yield Unwatch(handle)
    final = yield from get_session(core, session.id)
    progress.session(final)
    after = yield from snapshot(core, session.id)
    files = []
    for path in written(before, after):
        progress.phase("downloading", file=path)
        files.append((yield from download(core, session.id, path, local_path(options.out, path))))
    return RunResult(outcome, final, tuple(files), kept=options.keep)


def _refresh(core: ClientCore, session_id: str, progress: ProgressTracker) -> Flow[None]:
    progress.session((yield from get_session(core, session_id)))


def _delete_quietly(core: ClientCore, session_id: str) -> Flow[None]:
    """Clean up after a failure without hiding it behind a second one."""
    with contextlib.suppress(PokeeError):
        yield from delete_session(core, session_id)


def snapshot(core: ClientCore, session_id: str) -> Flow[Snapshot]:
    """Every file of the workspace the session can read, walking F4 listings."""
    files: Snapshot = {}
    folders = [""]
    while folders:
        folder = folders.pop()
        try:
            entries = yield from list_files(core, session_id, folder)
        except NotFoundError:
            continue  # removed while we walked (or, at the root, never made)
        for entry in entries:
            path = f"{folder}/{entry.name}" if folder else entry.name
            if entry.is_dir:
                folders.append(path)
            else:
                files[path] = (entry.size, entry.modified)
    return files


def written(before: Snapshot, after: Snapshot) -> list[str]:
    """Paths that are new or changed, in name order."""
    return sorted(path for path, stat in after.items() if before.get(path) != stat)


def local_path(folder: Path, path: str) -> Path:
    """Where a workspace file goes under ``folder``; a name that would leave it is refused
    (the server's listing is not trusted with the local disk)."""
    parts = PurePosixPath(path).parts
    if (
        not parts
        or path.startswith("/")
        or any(p in ("", ".", "..") or "\\" in p or "\0" in p for p in parts)
    ):
        raise ProtocolError(f"the server listed an unsafe path: {path!r}")
    return folder.joinpath(*parts)
