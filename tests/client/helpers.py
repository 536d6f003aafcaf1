"""Moving the mock's virtual clock for the client's tests: as the client's sleeping
function, and beside a client call that waits on the clock; and running the installed
``pokee`` command in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from pokee_client.cli import main

T = TypeVar("T")


def advance(control: httpx.Client, seconds: float) -> None:
    response = control.post("/_mock/clock/advance", json={"seconds": seconds})
    assert response.status_code == 200, response.text


class Sleeper:
    """The client's ``sleep``: records each wait and moves the tenant's clock by it, so
    that ``Retry-After`` and polling intervals pass on the mock's clock, at once."""

    def __init__(self, control: httpx.Client | None = None):
        self.control = control
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        if self.control is not None:
            advance(self.control, seconds)


class EventCount:
    """A progress callback that keeps every report: how many events the client has
    delivered, and the session metadata it has seen."""

    def __init__(self) -> None:
        self.reports: list[Any] = []

    def __call__(self, progress: Any) -> None:
        self.reports.append(progress)

    @property
    def events(self) -> int:
        return self.reports[-1].events if self.reports else 0

    def caught_up(self, turn: dict[str, Any], session: dict[str, Any]) -> bool:
        """The client has delivered every event of ``turn`` and seen ``session``'s
        metadata as it is now."""
        latest = self.reports[-1] if self.reports else None
        return (
            latest is not None
            and latest.events == turn["events"]
            and latest.metadata == session["metadata"]
        )


def drive_clock(
    control: httpx.Client,
    work: Callable[[], T],
    progress: EventCount,
    *,
    step: float = 15.0,
    limit: float = 20.0,
) -> T:
    """Run ``work`` in a thread; whenever the tenant's running turn is waiting on the clock
    and the client has caught up with it (every event delivered, the metadata seen), move
    the clock ``step`` seconds.

    Time then moves only while the client is caught up, so a stream that drops is resumed
    long before the turn's log could be evicted (M7: 120 s after its end), and every stage
    of the metadata reaches the progress callback. Bounded by ``limit`` real seconds.
    """
    result: list[T] = []
    failure: list[BaseException] = []

    def target() -> None:
        try:
            result.append(work())
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=target, name="client-under-test")
    thread.start()
    deadline = time.monotonic() + limit
    while thread.is_alive():
        assert time.monotonic() < deadline, "the client did not finish in time"
        state = control.get("/_mock/state").json()
        running = [turn for turn in state["turns"] if turn["status"] == "in_progress"]
        sessions = {session["id"]: session for session in state["sessions"]}
        if running and progress.caught_up(running[0], sessions[running[0]["session_id"]]):
            advance(control, step)
        else:
            thread.join(0.005)
    if failure:
        raise failure[0]
    return result[0]


POKEE = str(Path(sys.executable).with_name("pokee"))


class Shell:
    """The installed ``pokee`` console script, run against ``url`` with ``key``; it never
    prints a traceback."""

    def __init__(self, url: str, key: str):
        self.env = {**os.environ, "POKEE_API": url, "POKEE_KEY": key}
        self.env.pop("COLUMNS", None)

    def __call__(
        self, *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [POKEE, *args],
            capture_output=True,
            text=True,
            timeout=30,
            cwd=cwd,
            env=env or self.env,
            check=False,
        )
        assert "Traceback" not in done.stderr, done.stderr
        return done

    def json(self, *args: str) -> Any:
        done = self(*args, "--json")
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)


def one_error_line(done: subprocess.CompletedProcess[str], *mentions: str) -> None:
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("pokee: error: ")
    for mention in mentions:
        assert mention in lines[0]


def on_terminal(args: list[str], env: dict[str, str], bound: float = 30) -> tuple[int, bytes, str]:
    """Run ``args`` with stdout on a pseudo-terminal (``TERM=xterm``, 100 columns unless
    ``env`` says otherwise): its exit status, what the terminal received, and stderr."""
    import pty
    import select

    main, secondary = pty.openpty()
    with subprocess.Popen(
        args,
        stdout=secondary,
        stderr=subprocess.PIPE,
        env={"TERM": "xterm", "COLUMNS": "100", **env},
        text=True,
    ) as process:
        os.close(secondary)
        screen = b""
        deadline = time.monotonic() + bound
        while True:  # read as it comes (a full terminal buffer would block the command)
            assert time.monotonic() < deadline, f"{args} did not finish on the terminal"
            if not select.select([main], [], [], 0.1)[0]:
                continue
            try:
                chunk = os.read(main, 65536)
            except OSError:  # the command has exited and closed its side
                break
            if not chunk:
                break
            screen += chunk
        os.close(main)
        status = process.wait(timeout=bound)
        assert process.stderr is not None
        return status, screen, process.stderr.read()


@dataclass
class Done:
    status: int
    out: str
    err: str

    @property
    def lines(self) -> list[str]:
        return self.out.splitlines()

    def json(self) -> Any:
        return json.loads(self.out)


class Cli:
    """`pokee_client.cli.main` in this process, its output captured (no traceback may
    reach stderr)."""

    def __init__(self, capsys: pytest.CaptureFixture[str]):
        self._capsys = capsys

    def __call__(self, *args: str) -> Done:
        self._capsys.readouterr()
        try:
            status = main(list(args))
        except SystemExit as exit_:  # argparse: --help, or a bad command line
            status = int(exit_.code or 0)
        out, err = self._capsys.readouterr()
        assert "Traceback" not in err, err
        return Done(status, out, err)

    def json(self, *args: str) -> Any:
        done = self(*args, "--json")
        assert done.status == 0, done.err
        return done.json()
