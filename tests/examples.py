"""The code blocks of the README and docs/, found where they are written and run as
they say, so that `tests/test_examples.py` and `tests/test_examples_docs.py` make each
one a test: an example that hangs, fails or lies fails CI.

A fenced block whose language is ``python``, ``sh`` or ``bash`` is an example. Output and
formats (``text``, ``yaml``, ``json``, no language) are not run. An HTML comment on the
line before the fence says how to run one when the default does not fit:

    <!-- example: serve="--clock autojump" -->   the mock it talks to (default: the one
                                                 `make serve` starts, its SERVE options)
    <!-- example: pytest -->                     a test file, run with pytest as a user's
                                                 suite would run it (the plugin, no timeout)
    <!-- example: background=serving -->         a command that runs until stopped: it
                                                 must print that text, then it is stopped
    <!-- example: dry-run -->                    `make` lines, checked with `make -n`
    <!-- example: ci -->                         lines `.ci/run` must run
    <!-- example: repo -->                       run in the repository (default: a
                                                 temporary folder)
    <!-- example: copy=my-scenarios:scenarios/examples -->   a folder made beforehand

Directives combine, space-separated.
"""

from __future__ import annotations

import os
import re
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCUMENTS = (
    REPO / "README.md",
    *sorted((REPO / "docs").glob("*.md")),
    REPO / "scenarios/README.md",
)
RUN = frozenset({"python", "sh", "bash"})
KNOWN = frozenset({"serve", "pytest", "background", "dry-run", "ci", "repo", "copy"})

_FENCE = re.compile(r"^(\s*)(`{3,})([\w-]*)\s*$")
_DIRECTIVE = re.compile(r"^\s*<!-- example: (.*) -->\s*$")


@dataclass(frozen=True)
class Example:
    document: Path
    line: int  # where the fence opens, counted from 1
    language: str
    code: str
    directives: dict[str, str]

    @property
    def name(self) -> str:
        return f"{self.document.relative_to(REPO)}:{self.line}"

    @property
    def runs(self) -> bool:
        return self.language in RUN


def _directives(text: str, where: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for word in shlex.split(text):
        key, _, value = word.partition("=")
        if key not in KNOWN:
            raise ValueError(f"{where}: unknown example directive {key!r}")
        found[key] = value
    return found


def parse(document: Path) -> list[Example]:
    """Every fenced block of ``document``, with the directives written before it."""
    lines = document.read_text(encoding="utf-8").splitlines()
    examples: list[Example] = []
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        indent, fence, language = opening.groups()
        body: list[str] = []
        end = index + 1
        while end < len(lines) and lines[end].strip() != fence:
            body.append(lines[end].removeprefix(indent))
            end += 1
        if end == len(lines):
            raise ValueError(f"{document}:{index + 1}: a code block that never closes")
        before = _DIRECTIVE.match(lines[index - 1]) if index else None
        where = f"{document.name}:{index}"
        directives = _directives(before.group(1), where) if before else {}
        code = "\n".join(body) + "\n"
        examples.append(Example(document, index + 1, language, code, directives))
        index = end + 1
    return examples


def all_examples() -> list[Example]:
    return [example for document in DOCUMENTS for example in parse(document)]


def make_serve_options() -> list[str]:
    """The options `make serve` gives `mock-pokee serve` (its ``SERVE`` variable)."""
    makefile = (REPO / "Makefile").read_text()
    found = re.search(r"^SERVE \?= (.*)$", makefile, re.M)
    assert found is not None, "the Makefile no longer sets SERVE"
    return shlex.split(found.group(1))


# -- running ------------------------------------------------------------------------

BOUND = 60.0  # real seconds an example may take before it counts as hung
BIN = Path(sys.executable).parent


class Servers:
    """One `mock-pokee serve` per set of options, started on first use."""

    def __init__(self) -> None:
        self._running: dict[tuple[str, ...], tuple[subprocess.Popen[str], str]] = {}

    def url(self, options: tuple[str, ...]) -> str:
        if options not in self._running:
            process = subprocess.Popen(
                [str(BIN / "mock-pokee"), "serve", *options, "--port", "0", "--quiet"],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            url = _first_match(process, re.compile(r"serving (http://\S+)"), 20)
            self._running[options] = (process, url)
        return self._running[options][1]

    def stop(self) -> None:
        for process, _ in self._running.values():
            process.send_signal(signal.SIGINT)
            process.communicate(timeout=10)


def _first_match(process: subprocess.Popen[str], pattern: re.Pattern[str], bound: float) -> str:
    """The first group of the first output line matching ``pattern``, read in a thread so
    that a process that prints nothing cannot hang the test."""
    found: list[str] = []
    seen: list[str] = []

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            seen.append(line)
            if (match := pattern.search(line)) is not None:
                found.append(match.group(1) if match.groups() else match.group(0))
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(bound)
    assert found, f"never printed {pattern.pattern!r}; printed:\n{''.join(seen)}"
    return found[0]


def _environment(url: str) -> dict[str, str]:
    key = f"pk_docs-{secrets.token_hex(6)}_{secrets.token_hex(8)}"
    env = {**os.environ, "POKEE_API": url, "POKEE_KEY": key}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["PORT"] = "0"  # `make serve` listens on a free port, not on 8000
    env.pop("PYTEST_XDIST_WORKER", None)  # the example's own pytest is not a worker of ours
    env.pop("PYTEST_CURRENT_TEST", None)
    return env


def _folder(example: Example, tmp_path: Path) -> Path:
    if "repo" in example.directives:
        return REPO
    for pair in filter(None, example.directives.get("copy", "").split(",")):
        name, _, source = pair.partition(":")
        shutil.copytree(REPO / source, tmp_path / name)
    return tmp_path


def _finished(done: subprocess.CompletedProcess[str], example: Example) -> None:
    if done.returncode != 0:
        pytest.fail(f"{example.name} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")


def _run(args: list[str], example: Example, cwd: Path, env: dict[str, str], stdin: str) -> None:
    try:
        done = subprocess.run(
            args, input=stdin, cwd=cwd, env=env, capture_output=True, text=True, timeout=BOUND
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{example.name} hung: no end within {BOUND:.0f} s")
    _finished(done, example)


def _background(example: Example, cwd: Path, env: dict[str, str]) -> None:
    process = subprocess.Popen(
        ["bash", "-euo", "pipefail", "-c", example.code],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # `make serve` and its server stop together
    )
    try:
        _first_match(process, re.compile(re.escape(example.directives["background"])), BOUND)
        assert process.poll() is None, f"{example.name} ended instead of running on"
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            pytest.fail(f"{example.name} did not stop on Ctrl-C")


def _commands(example: Example) -> list[str]:
    lines = (line.split("#", 1)[0].strip() for line in example.code.splitlines())
    return [line for line in lines if line]


def _dry_run(example: Example) -> None:
    for command in _commands(example):
        words = shlex.split(command)
        assert words[0] == "make", f"{example.name}: dry-run checks make commands: {command}"
        done = subprocess.run(
            ["make", "-n", *words[1:]], cwd=REPO, capture_output=True, text=True, timeout=BOUND
        )
        assert done.returncode == 0, f"{command}: {done.stderr}"


def _ci(example: Example) -> None:
    ci = (REPO / ".ci" / "run").read_text()
    for command in _commands(example):
        assert re.search(rf"^{re.escape(command)}$", ci, re.M), f"{command}: not in .ci/run"


def run_example(example: Example, servers: Servers, tmp_path: Path) -> None:
    """Run ``example`` as its directives say; fails the calling test if it fails."""
    given = example.directives
    if "dry-run" in given:
        _dry_run(example)
        return
    if "ci" in given:
        _ci(example)
        return
    options = (
        tuple(shlex.split(given["serve"])) if "serve" in given else tuple(make_serve_options())
    )
    env = _environment(servers.url(options))
    cwd = _folder(example, tmp_path)
    if "background" in given:
        _background(example, cwd, env)
    elif "pytest" in given:
        (tmp_path / "test_example.py").write_text(example.code)
        quiet = ["-p", "no:cacheprovider", "-p", "no:timeout", "-p", "no:schemathesis"]
        _run([sys.executable, "-m", "pytest", "-q", *quiet], example, tmp_path, env, "")
    elif example.language == "python":
        _run([sys.executable, "-"], example, cwd, env, example.code)
    else:
        _run(["bash", "-euo", "pipefail", "-s"], example, cwd, env, example.code)
