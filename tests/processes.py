"""Running `python -m mock_pokee serve` and `record` as real processes, the way a user does."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path


def start_serve(
    *options: str, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[str], str]:
    """Start `mock-pokee serve --port 0 …`; returns the process and the base URL it
    announced. The caller reads the rest of stdout (the export line) if it wants it."""
    process = subprocess.Popen(
        [sys.executable, "-m", "mock_pokee", "serve", "--port", "0", *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**(env or os.environ), "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    first = process.stdout.readline()
    assert " serving " in first, first
    return process, first.split(" serving ")[1].split()[0]


def ctrl_c_as_in_a_terminal() -> None:
    """In the child: Ctrl-C as a terminal delivers it. A suite started in the background
    (`make test &`, some CI runners) has SIGINT ignored, and a child inherits that: the
    recorder still stops and writes on it, but cannot then end by it (exit 0, not 130)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def record_command(upstream: str, out: Path, *options: str) -> list[str]:
    """The command line of `mock-pokee record` from ``upstream`` into ``out``, on a free
    port."""
    return [
        *(sys.executable, "-m", "mock_pokee", "record", "--upstream", upstream),
        *("--out", str(out), "--port", "0", *options),
    ]


def start_record(upstream: str, out: Path, *options: str) -> tuple[subprocess.Popen[str], str]:
    """Start `mock-pokee record` as a user does in a terminal (Ctrl-C reaches it); returns
    the process and the first line it printed, which names its address."""
    process = subprocess.Popen(
        record_command(upstream, out, *options),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        preexec_fn=ctrl_c_as_in_a_terminal,
    )
    assert process.stdout is not None
    assert process.stderr is not None
    first = process.stdout.readline()
    assert first.startswith("mock-pokee record: http://"), first + process.stderr.read()
    return process, first
