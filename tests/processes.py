"""Running `python -m mock_pokee serve` as a real process, the way a user does."""

from __future__ import annotations

import os
import signal
import subprocess
import sys


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
