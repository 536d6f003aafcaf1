"""What the ``pokee`` command prints: one JSON document with ``--json``, short lines
otherwise; errors as one line on stderr (and as a JSON object on stdout with ``--json``).

Everything printed passes through `pokee_client.cli.inert` on its way out, here, so that no
string the server sent (which is most of what is printed) reaches the terminal as anything
but text; an error line is also kept short."""

from __future__ import annotations

import dataclasses
import json
import math
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from pokee_client.cli.inert import inert_json, printable
from pokee_client.errors import APIError, ConfigurationError, PokeeError

MAX_ERROR_LINE = 1000  # characters of an error line; the rest is counted, not shown


def plain(value: Any) -> Any:
    """Records (dataclasses), paths and tuples as JSON values; a number that is not finite
    (a server may send ``1e400``) as null, which JSON has, unlike ``Infinity``."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


def when(epoch: float) -> str:
    """A server's timestamp as a UTC date and time, or ``?`` when it is none: not finite,
    or beyond the years a date holds."""
    try:
        return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S")
    except (OverflowError, ValueError, OSError):
        return "?"


class Output:
    def __init__(self, as_json: bool, out: TextIO | None = None, err: TextIO | None = None):
        self.as_json = as_json
        self.out = out or sys.stdout
        self.err = err or sys.stderr

    def line(self, text: str = "", *, lines: bool = False) -> None:
        """``text`` on stdout; ``lines``: it may hold newlines (a turn's answer)."""
        print(printable(text, lines=lines), file=self.out, flush=True)

    def part(self, text: str) -> None:
        """A piece of a line on stdout, shown at once (an answer streamed as it comes)."""
        print(printable(text, lines=True), end="", file=self.out, flush=True)

    def document(self, value: Any) -> None:
        text = json.dumps(plain(value), ensure_ascii=False, allow_nan=False)
        print(inert_json(text), file=self.out, flush=True)

    def note(self, text: str) -> None:
        print(f"pokee: {printable(text)}", file=self.err, flush=True)

    def fail(self, message: str, error: str, status: int | None = None, code: int = 1) -> int:
        """One line on stderr; with --json also ``{"error", "message", "status"}`` on stdout."""
        if self.as_json:
            self.document({"error": error, "message": message, "status": status})
        self.error_line(message)
        return code

    def error_line(self, message: str) -> None:
        if len(message) > MAX_ERROR_LINE:
            hidden = len(message) - MAX_ERROR_LINE
            message = f"{message[:MAX_ERROR_LINE]}… ({hidden} more characters)"
        print(f"pokee: error: {printable(message)}", file=self.err, flush=True)

    def failure(self, exc: PokeeError | OSError, where: str = "") -> int:
        """The one line for an error; ``where`` says what it was about."""
        if isinstance(exc, APIError):
            return self.fail(f"{where}{exc}", exc.error, exc.status)
        if isinstance(exc, ConfigurationError):
            return self.fail(str(exc), "configuration", code=2)
        if isinstance(exc, PokeeError):
            return self.fail(f"{where}{exc}", type(exc).__name__.removesuffix("Error").lower())
        local = f"{exc.filename}: " if exc.filename else ""
        return self.fail(f"{local}{exc.strerror or exc}", "local_file")
