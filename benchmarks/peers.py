"""Installing the peers a user might pick instead of mock-pokee, into a folder the bench
owns (``.bench-peers/``, git-ignored), from the package registries.

Each peer is installed on first use and reused afterwards. A peer that cannot be had (no
Java, no npm, an install that fails) is reported in one line and skipped: the rest of the
run goes on, because a comparison with two peers is still worth having.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / ".bench-peers"
INSTALL_TIMEOUT = 900  # seconds; npm and pip on a cold cache take a few minutes

# Majors pinned, so that a new major cannot change what the table compares.
WIREMOCK = "wiremock@3"
PRISM = "@stoplight/prism-cli@5"
MOTO = "moto[server]>=5,<6"


class Skip(Exception):
    """A peer that cannot run here; the message is the one line the bench prints."""


@dataclass(frozen=True)
class Installed:
    """Where a peer's command is, and which version the registry gave."""

    command: Path
    version: str


def _run(args: list[str], what: str) -> None:
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=INSTALL_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise Skip(f"{what} took more than {INSTALL_TIMEOUT} s") from None
    except OSError as exc:
        raise Skip(f"{what} could not start: {exc.strerror}") from None
    if done.returncode != 0:
        lines = [line for line in (done.stderr or done.stdout).splitlines() if line.strip()]
        last = lines[-1].strip() if lines else "no output"
        raise Skip(f"{what} failed (exit {done.returncode}): {last}")


def _npm_package(spec: str, binary: str) -> Installed:
    """``spec`` installed into its own npm prefix, so one failing package skips one peer."""
    name = spec.rsplit("@", 1)[0]
    if shutil.which("node") is None:
        raise Skip("Node.js is not installed (apt-get install nodejs npm)")
    prefix = ROOT / "npm" / name.replace("/", "+")
    command = prefix / "node_modules" / ".bin" / binary
    if not command.exists():
        npm = shutil.which("npm")
        if npm is None:
            raise Skip("npm is not installed (apt-get install npm)")
        prefix.mkdir(parents=True, exist_ok=True)
        _run(
            [npm, "install", "--prefix", str(prefix), "--no-audit", "--no-fund", spec],
            f"npm install {spec}",
        )
    if not command.exists():
        raise Skip(f"npm install {spec} gave no {binary} command")
    manifest = prefix / "node_modules" / name / "package.json"
    version = json.loads(manifest.read_text())["version"]
    return Installed(command, str(version))


def wiremock() -> Installed:
    """npm's ``wiremock`` ships WireMock's standalone jar and runs it with the system's Java."""
    if shutil.which("java") is None:
        raise Skip("Java is not installed (apt-get install default-jre-headless)")
    return _npm_package(WIREMOCK, "wiremock")


def prism() -> Installed:
    """Stoplight Prism, which serves examples generated from an OpenAPI document."""
    return _npm_package(PRISM, "prism")


def moto() -> Installed:
    """moto's standalone server, in a venv of its own (its dependencies are not ours)."""
    venv = ROOT / "moto-venv"
    command = venv / "bin" / "moto_server"
    if not command.exists():
        _run([sys.executable, "-m", "venv", "--clear", str(venv)], "creating moto's venv")
        pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
        _run([*pip, MOTO], f"pip install {MOTO}")
    if not command.exists():
        raise Skip(f"pip install {MOTO} gave no moto_server command")
    version = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import moto; print(moto.__version__)"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return Installed(command, version or "?")
