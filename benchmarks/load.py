"""Load with wrk: one call, at a number of connections, read back as throughput, p50 and
p99 latency and errors.

wrk runs with one thread, so that on a 2-core machine one core is the load generator's and
one is the server's (most servers here are single-process). Calls with a body, or with a
path that must differ per request (a new object each time), go through a Lua script that
the bench writes into a temporary folder.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

INSTALL_HINT = "apt-get install wrk"


class WrkMissing(Exception):
    """wrk is not on PATH; the message is the one line to show."""

    def __init__(self) -> None:
        super().__init__(f"make bench needs wrk, which is not installed here: {INSTALL_HINT}")


def wrk_path() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise WrkMissing
    return found


@dataclass(frozen=True)
class Call:
    """One HTTP request to repeat. ``numbered`` appends a counter to the path, so that each
    request creates a new object (moto's PutObject would otherwise overwrite one key)."""

    method: str
    path: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: str = ""
    numbered: bool = False


@dataclass(frozen=True)
class Result:
    connections: int
    requests_per_s: float
    p50_s: float
    p99_s: float
    errors: int  # non-2xx/3xx answers plus socket errors (connect, read, write, timeout)


def _lua_string(text: str) -> str:
    """A Lua long-bracket literal: no escaping, as long as the closing bracket is absent."""
    level = "=" * 3
    assert f"]{level}]" not in text
    return f"[{level}[{text}]{level}]"


def _script(call: Call) -> str:
    lines = [f"wrk.method = {_lua_string(call.method)}"]
    if call.body:
        lines.append(f"wrk.body = {_lua_string(call.body)}")
    for name, value in call.headers.items():
        lines.append(f"wrk.headers[ {_lua_string(name)} ] = {_lua_string(value)}")
    if call.numbered:
        lines += [
            "local n = 0",
            "request = function()",
            "  n = n + 1",
            "  return wrk.format(nil, wrk.path .. n)",
            "end",
        ]
    return "\n".join(lines) + "\n"


_SOCKET_ERRORS = r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)"
_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def _seconds(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    if match is None:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse(output: str, connections: int) -> Result:
    """Read wrk's ``--latency`` report."""

    def find(pattern: str) -> str:
        match = re.search(pattern, output)
        if match is None:
            raise RuntimeError(f"unexpected wrk output (no {pattern!r}):\n{output}")
        return match.group(1)

    errors = 0
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    if non_2xx:
        errors += int(non_2xx.group(1))
    sockets = re.search(_SOCKET_ERRORS, output)
    if sockets:
        errors += sum(int(n) for n in sockets.groups())
    return Result(
        connections=connections,
        requests_per_s=float(find(r"Requests/sec:\s+([\d.]+)")),
        p50_s=_seconds(find(r"\n\s+50%\s+(\S+)")),
        p99_s=_seconds(find(r"\n\s+99%\s+(\S+)")),
        errors=errors,
    )


def run(url: str, call: Call, connections: int, seconds: float, folder: Path) -> Result:
    """``call`` against ``url`` for ``seconds`` at ``connections`` (one wrk thread)."""
    args = [
        wrk_path(),
        "-t1",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "--latency",
    ]
    if call.method == "GET" and not call.body and not call.numbered:
        for name, value in call.headers.items():
            args += ["-H", f"{name}: {value}"]
    else:
        handle, name = tempfile.mkstemp(suffix=".lua", dir=folder)
        with os.fdopen(handle, "w") as script:
            script.write(_script(call))
        args += ["-s", name]
    done = subprocess.run(
        [*args, url + call.path], capture_output=True, text=True, timeout=seconds + 60
    )
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed (exit {done.returncode}): {done.stderr.strip()}")
    return parse(done.stdout, connections)
