"""The progress of ``pokee run``: a rich display on a terminal (phase, metadata status,
current tool, events, time), plain lines when stdout is a pipe or a file (one per change of
phase, status or tool, so logs stay short), nothing with ``--json``.

The status, tool and file come from the server: the plain lines pass through `Output`,
which makes them inert; the rich display gets them inert too (`shown`), and with rich's
markup escaped, since rich would otherwise apply ``[bold]`` or ``[link=…]`` in them."""

from __future__ import annotations

import sys
from importlib.util import find_spec
from types import TracebackType
from typing import TYPE_CHECKING, Protocol

from pokee_client.cli.inert import printable
from pokee_client.cli.output import Output
from pokee_client.progress import Progress

if TYPE_CHECKING:
    import rich.progress


class Display(Protocol):
    def update(self, progress: Progress) -> None: ...

    def __enter__(self) -> Display: ...

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class Silent:
    def update(self, progress: Progress) -> None:
        pass

    def __enter__(self) -> Silent:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


class Lines:
    def __init__(self, output: Output):
        self._output = output
        self._last: tuple[str, str | None, str | None] | None = None

    def update(self, progress: Progress) -> None:
        shown = (progress.phase, progress.status, progress.tool)
        if shown == self._last:
            return
        self._last = shown
        parts: list[str] = [progress.phase]
        if progress.status:
            parts.append(f"status={progress.status}")
        if progress.tool:
            parts.append(f"tool={progress.tool}")
        if progress.file:
            parts.append(f"file={progress.file}")
        self._output.line("  ".join(parts))

    def __enter__(self) -> Lines:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


class Live:
    def __init__(self) -> None:
        from rich.progress import Progress as Bar
        from rich.progress import SpinnerColumn, TextColumn, TimeElapsedColumn

        self._bar: rich.progress.Progress = Bar(
            SpinnerColumn(),
            TextColumn("[bold]{task.description}"),
            TextColumn("{task.fields[status]}"),
            TextColumn("[cyan]{task.fields[tool]}"),
            TextColumn("[dim]{task.fields[events]} events"),
            TimeElapsedColumn(),
            transient=True,
        )
        self._task = self._bar.add_task("starting", status="", tool="", events=0)

    def update(self, progress: Progress) -> None:
        self._bar.update(
            self._task,
            description=shown(f"downloading {progress.file}" if progress.file else progress.phase),
            status=shown(f"status: {progress.status}") if progress.status else "",
            tool=shown(f"tool: {progress.tool}") if progress.tool else "",
            events=progress.events,
        )

    def __enter__(self) -> Live:
        self._bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._bar.stop()


def shown(text: str) -> str:
    """Text for the rich display: inert, and its markup shown rather than applied."""
    from rich.markup import escape

    return escape(printable(text))


def display_for(output: Output) -> Display:
    """Silent for ``--json``; the live display on a terminal when rich is installed (the
    ``progress`` extra of pokee-client); plain lines otherwise."""
    if output.as_json:
        return Silent()
    if output.out is sys.stdout and sys.stdout.isatty() and find_spec("rich") is not None:
        return Live()
    return Lines(output)
