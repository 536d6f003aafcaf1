"""``run``: the cookbook's long-running flow in one call.

Create a persistent session; send the message and stream the turn (resuming through drops,
falling back to polling, see `pokee_client.turns`); poll the metadata beside the stream for
progress; then download what the turn wrote and delete the session unless asked to keep
it. The session is deleted on failure too, so a failed run leaves nothing running and
nothing billed; interrupted (Ctrl-C, SIGTERM, a cancelled task) it also cancels its turn
first (M8), kept session or not.

Which files the turn wrote takes two witnesses, since files outlive sessions (F1) and one
key's sessions share a workspace: the workspace before and after the turn (name, size,
modification time) says what changed, and the turn's own events say which of those it
wrote (each of its tools names the path it writes in its input's ``path``, M4). A changed
file that no event of this turn named may be another session's: it is not downloaded but
reported as ``unattributed``, so the caller can tell instead of getting a guess.

The workspace is the server's to describe, so the walk is bounded (``max_walk_entries``,
``max_walk_folders``, ``max_walk_depth`` in `pokee_client.limits`) and takes only names that
are one path segment: a listing without a bottom, or one that names ``..`` or ``a/b``,
fails the run (which cleans up as any failure does) instead of walking on.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from pokee_client.base import ClientCore
from pokee_client.downloads import download
from pokee_client.effects import Close, Flow, Unwatch, Watch, observe
from pokee_client.errors import NotFoundError, PokeeError, ProtocolError
from pokee_client.events import Event, ToolUseExecuting
from pokee_client.exchange import call_streamed
from pokee_client.operations import (
    cancel,
    create_session,
    delete_session,
    get_session,
    list_files,
)
from pokee_client.progress import Progress, ProgressTracker
from pokee_client.records import Session
from pokee_client.requests import new_idempotency_key
from pokee_client.retrying import NO_RETRIES
from pokee_client.turns import OutcomeStatus, TurnOutcome, TurnReader, stream_turn

Snapshot = dict[str, tuple[int, float]]  # workspace path → (size, modified)
# Where the agent sees the workspace (the report cookbook's "write it to
# /opt/sandbox/workspace/report.md"); a tool may name a path either way.
AGENT_WORKSPACE = "/opt/sandbox/workspace/"


@dataclass(frozen=True)
class RunResult:
    """``session`` is the record as the turn left it (final metadata, M5); ``files`` the
    local paths of the files the turn wrote; ``unattributed`` the workspace paths that
    changed during the turn but that no event of it named (another session's, or this
    turn's if its events were lost), not downloaded; ``kept`` whether the session still
    exists."""

    outcome: TurnOutcome
    session: Session
    files: tuple[Path, ...]
    kept: bool
    unattributed: tuple[str, ...] = ()

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
    reader = TurnReader(session.id)
    request = core.requests.send_message(
        session.id, message, new_idempotency_key(), options.scenario
    )
    try:
        result = yield from _turn(core, reader, request, options, progress)
    except GeneratorExit:
        raise
    except BaseException as failure:
        if not isinstance(failure, Exception) and reader.sent:
            yield from _quietly(_cancel_turn(core, reader, request))  # interrupted
        if not options.keep:
            yield from _quietly(delete_session(core, session.id))
        raise
    if not options.keep:
        progress.phase("cleaning up")
        yield from delete_session(core, session.id)
    progress.phase("done")
    return result


def _cancel_turn(core: ClientCore, reader: TurnReader, request: httpx.Request) -> Flow[None]:
    """Cancel an interrupted run's turn (M8). Interrupted before its stream's head came,
    the run does not know the turn's response id: the same request again, with the same
    Idempotency-Key, answers with it and starts no second turn (M9)."""
    if reader.response_id is None:
        response = yield from call_streamed(core, request, idempotent=True)
        reader.opened(response)
        yield Close(response)
    if reader.response_id is not None:
        yield from cancel(core, reader.session_id, reader.response_id)


def _turn(
    core: ClientCore,
    reader: TurnReader,
    request: httpx.Request,
    options: RunOptions,
    progress: ProgressTracker,
) -> Flow[RunResult]:
    session_id = reader.session_id
    before = yield from snapshot(core, session_id)
    watcher = dataclasses.replace(core, policy=NO_RETRIES)  # a missed poll is no failure
    handle = yield Watch(lambda: _refresh(watcher, session_id, progress), core.watch_interval)
    progress.phase("running")
    named: set[str] = set()

    def seen(event: Event) -> None:
        named.update(paths_named(event))
        progress.event(event)

    reader.sent = True  # from here the message may be on its way
    outcome = yield from observe(
        stream_turn(core, reader, request, on_session=progress.polled), seen
    )
    yield Unwatch(handle)
    final = yield from get_session(core, session_id)
    progress.session(final)
    after = yield from snapshot(core, session_id)
    changed = written(before, after)
    files = []
    for path in (path for path in changed if path in named):
        progress.phase("downloading", file=path)
        files.append((yield from download(core, session_id, path, local_path(options.out, path))))
    others = tuple(path for path in changed if path not in named)
    return RunResult(outcome, final, tuple(files), kept=options.keep, unattributed=others)


def _refresh(core: ClientCore, session_id: str, progress: ProgressTracker) -> Flow[None]:
    progress.session((yield from get_session(core, session_id)))


def _quietly(step: Flow[object]) -> Flow[None]:
    """Clean up after a failure without hiding it behind a second one."""
    with contextlib.suppress(PokeeError):
        yield from step


def paths_named(event: Event) -> list[str]:
    """The workspace path a tool of the turn names in its input (``path``), as a
    workspace-relative path; the agent's own view (`AGENT_WORKSPACE`) is accepted too."""
    if not isinstance(event, ToolUseExecuting) or not isinstance(event.input, dict):
        return []
    path = event.input.get("path")
    if not isinstance(path, str):
        return []
    return [path.removeprefix(AGENT_WORKSPACE)]


def snapshot(core: ClientCore, session_id: str) -> Flow[Snapshot]:
    """Every file of the workspace the session can read, walking F4 listings within the
    client's limits."""
    limits = core.limits
    files: Snapshot = {}
    folders = [("", 0)]  # (path, depth), depth-first
    listed = seen = 0
    while folders:
        folder, depth = folders.pop()
        listed += 1
        if listed > limits.max_walk_folders:
            raise _walk_error(f"more than {limits.max_walk_folders} folders", "max_walk_folders")
        try:
            entries = yield from list_files(core, session_id, folder)
        except NotFoundError:
            continue  # removed while we walked (or, at the root, never made)
        seen += len(entries)
        if seen > limits.max_walk_entries:
            raise _walk_error(f"more than {limits.max_walk_entries} entries", "max_walk_entries")
        for entry in entries:
            if entry.name in ("", ".", "..") or "/" in entry.name or "\0" in entry.name:
                raise ProtocolError(f"the server listed an unsafe name: {entry.name[:100]!r}")
            path = f"{folder}/{entry.name}" if folder else entry.name
            if not entry.is_dir:
                files[path] = (entry.size, entry.modified)
            elif depth < limits.max_walk_depth:
                folders.append((path, depth + 1))
            else:
                nested = f"folders nested more than {limits.max_walk_depth} deep"
                raise _walk_error(nested, "max_walk_depth")
    return files


def _walk_error(what: str, limit: str) -> ProtocolError:
    return ProtocolError(f"the workspace listing has {what} ({limit}): not walked further")


def written(before: Snapshot, after: Snapshot) -> list[str]:
    """Paths that are new or changed, in name order."""
    return sorted(path for path, stat in after.items() if before.get(path) != stat)


def local_path(folder: Path, path: str) -> Path:
    """Where a workspace file goes under ``folder``; a name that would leave it, or that
    holds a backslash or a control character (F2 refuses both), is refused: the server's
    listing is not trusted with the local disk."""
    parts = path.split("/")
    if any(_unsafe_segment(part) for part in parts):
        raise ProtocolError(f"the server listed an unsafe path: {path[:200]!r}")
    return folder.joinpath(*parts)


def _unsafe_segment(name: str) -> bool:
    return name in ("", ".", "..") or any(
        char == "\\" or ord(char) < 0x20 or 0x7F <= ord(char) <= 0x9F for char in name
    )
