"""One readable line per request in the terminal that runs ``mock-pokee serve``.

Written off the request path: a request only appends a tuple; a task prints what has
gathered every `TICK` seconds, in one print. Formatting with rich costs about 0.07 ms a
line, so a tick prints at most `LINES_PER_TICK` lines and folds the rest into one summary
line a second ("… 7,812 more: 7,800 × 200, 12 × 404"); the journal (``GET /_mock/journal``) keeps
every request. ``--quiet`` makes no `RequestLog` at all, so it costs nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter, deque
from typing import IO

from rich.console import Console
from rich.text import Text

TICK = 0.1  # seconds between prints
LINES_PER_TICK = 25  # at most 250 lines a second, then a summary
SUMMARY_EVERY = 1.0  # seconds

_Line = tuple[float, str, str, "int | None", float, str]


def _status_style(status: int | None) -> str:
    if status is None:
        return "bold red"
    if status >= 500:
        return "red"
    if status >= 400:
        return "yellow"
    return "green"


class RequestLog:
    def __init__(self, out: IO[str] | None = None):
        self._console = Console(file=out, highlight=False, markup=False, soft_wrap=True)
        self._pending: deque[_Line] = deque()
        self._folded: Counter[str] = Counter()
        self._last_summary = 0.0
        self._task: asyncio.Task[None] | None = None

    def add(
        self, method: str, path: str, status: int | None, duration_ms: float, outcome: str
    ) -> None:
        self._pending.append((time.time(), method, path, status, duration_ms, outcome))
        if self._task is None:
            with contextlib.suppress(RuntimeError):  # no loop (a unit test): flush by hand
                self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        try:
            while self._pending:
                await asyncio.sleep(TICK)
                self.flush()
        finally:
            self._task = None

    def flush(self, *, final: bool = False) -> None:
        """Print up to a tick's share of lines; fold the rest into the next summary."""
        shown: list[Text] = []
        while self._pending:
            line = self._pending.popleft()
            if len(shown) < LINES_PER_TICK or final:
                shown.append(self._format(line))
            else:
                status = line[3]
                self._folded["no response" if status is None else str(status)] += 1
        if shown:  # one print for the tick's lines: rich's cost is mostly per print
            self._console.print(Text("\n").join(shown))
        now = time.monotonic()
        if self._folded and (final or now - self._last_summary >= SUMMARY_EVERY):
            self._print_summary()
            self._last_summary = now

    def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
        self.flush(final=True)

    def _print_summary(self) -> None:
        total = sum(self._folded.values())
        parts = ", ".join(f"{n:,} × {status}" for status, n in self._folded.most_common())
        self._console.print(Text(f"  … {total:,} more requests: {parts}", style="dim"))
        self._folded.clear()

    @staticmethod
    def _format(line: _Line) -> Text:
        at, method, path, status, duration_ms, outcome = line
        clock = time.strftime("%H:%M:%S", time.localtime(at))
        shown_status = "---" if status is None else str(status)
        text = Text.assemble(
            (clock, "dim"),
            " ",
            (f"{method:<6}", "bold"),
            " ",
            path,
            " ",
            (shown_status, _status_style(status)),
            " ",
            (f"{duration_ms:.1f} ms", "dim"),
        )
        if outcome not in ("complete", "in_progress"):
            text.append(f" ({outcome})", style="red")
        return text
