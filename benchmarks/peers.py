"""Installing the peers a user might pick instead of mock-pokee, into a folder the bench
owns (``.bench-peers/``, git-ignored), from the package registries: the servers of the
side-by-side table, and the pytest tools of the fixture comparison (one venv holding
pytest, the peers' plugins and this project, so that every run shares one interpreter and
one pytest).

Each peer is installed on first use and reused afterwards. A peer that cannot be had (no
Java, no npm, an install that fails) is reported in one line and skipped: the rest of the
run goes on, because a comparison with two peers is still worth having.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
ROOT = PROJECT / ".bench-peers"
INSTALL_TIMEOUT = 900  # seconds; npm and pip on a cold cache take a few minutes

# Majors pinned, so that a new major cannot change what the table compares.
WIREMOCK = "wiremock@3"
PRISM = "@stoplight/prism-cli@5"
MOTO = "moto[server]>=5,<6"
PYTEST = "pytest>=9,<10"
FIXTURE_PEERS = {
    "pytest-httpserver": ("pytest-httpserver>=1,<2",),
    "moto": ("moto[s3]>=5,<6", "boto3>=1.35,<2"),
}
# Folders of the checkout that no build of the package reads: a change there does not
# make the fixtures venv install the project again.
NOT_PACKAGED = ("tests", "benchmarks", "mutation")


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
        raise Skip(f"{what} failed (exit {done.returncode}): {_cause(done.stderr or done.stdout)}")


# pip's lines around a build's failure, which say that it failed but not why.
_WRAPPERS = ("subprocess-exited-with-error", "originates from a subprocess", "did not run")


def _cause(output: str) -> str:
    """The line that says why: the last one naming an error, unless it is one of pip's
    wrappers around a build's own message; else the last line."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    errors = [
        line
        for line in lines
        if "error" in line.lower() and not any(wrapper in line for wrapper in _WRAPPERS)
    ]
    return (errors or lines or ["no output"])[-1]


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


# --- the fixture comparison's venv ---------------------------------------------------------


@dataclass(frozen=True)
class FixtureVenv:
    """The venv's interpreter, and the version of each distribution the runs depend on
    (the peers that could not be installed are absent)."""

    python: Path
    versions: dict[str, str]


def _project_files() -> list[Path]:
    """The checkout's files as git sees them, committed or not, without what it ignores
    (the venvs, caches, builds, ``.bench-peers/`` itself)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=PROJECT,
        capture_output=True,
        check=False,
    )
    if listed.returncode != 0:
        raise Skip("cannot list this checkout's files (git ls-files failed)")
    names = (name.decode() for name in listed.stdout.split(b"\0") if name)
    return sorted(path for path in map(PROJECT.joinpath, names) if path.is_file())


def _fingerprint(files: list[Path]) -> str:
    """A digest of the files a build reads, so that the venv's copy of the project is
    installed again whenever they change: the bench measures the mock as it is."""
    digest = hashlib.sha256()
    for path in files:
        relative = path.relative_to(PROJECT)
        if relative.parts[0] not in NOT_PACKAGED:
            digest.update(str(relative).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _install_project(pip: list[str], files: list[Path]) -> None:
    """``pip install`` of a copy of the checkout: an in-tree build would write ``build/``
    and the egg-info into the working tree while others use it."""
    with tempfile.TemporaryDirectory(prefix="mock-pokee-copy-") as folder:
        for path in files:
            target = Path(folder) / path.relative_to(PROJECT)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
        # Both packages in one command, the client from its folder: mock-pokee requires
        # pokee-client, which no index has. A folder is always reinstalled.
        _run([*pip, f"{folder}/client", folder], "pip install of this project")


def _stamped(venv: Path, name: str, wanted: str, install: Callable[[], None]) -> None:
    """Runs ``install`` unless the stamp ``name`` already records ``wanted``."""
    stamp = venv / f".installed-{name}"
    if stamp.exists() and stamp.read_text() == wanted:
        return
    stamp.unlink(missing_ok=True)
    install()
    stamp.write_text(wanted)


def fixtures_venv(report: Callable[[str], None]) -> FixtureVenv:
    """pytest and this project (without them there is nothing to compare: `Skip`), then
    each peer's pytest tool, each reported in one line and left out if it cannot be had."""
    venv = ROOT / "fixtures-venv"
    python = venv / "bin" / "python"
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    if not python.exists():
        _run([sys.executable, "-m", "venv", "--clear", str(venv)], "creating the fixtures venv")
    _stamped(venv, "pytest", PYTEST, partial(_run, [*pip, PYTEST], f"pip install {PYTEST}"))
    files = _project_files()
    _stamped(venv, "mock-pokee", _fingerprint(files), partial(_install_project, pip, files))
    for name, specs in FIXTURE_PEERS.items():
        wanted = " ".join(specs)
        try:
            _stamped(venv, name, wanted, partial(_run, [*pip, *specs], f"pip install {wanted}"))
        except Skip as exc:
            report(f"{name} skipped: {exc}")
    names = ["pytest", "mock-pokee", *FIXTURE_PEERS, "boto3"]
    script = (
        "import importlib.metadata as m, json, sys\n"
        "found = {}\n"
        "for name in sys.argv[1:]:\n"
        "    try: found[name] = m.version(name)\n"
        "    except m.PackageNotFoundError: pass\n"
        "print(json.dumps(found))"
    )
    done = subprocess.run(
        [str(python), "-c", script, *names], capture_output=True, text=True, check=False
    )
    versions: dict[str, str] = json.loads(done.stdout or "{}")
    for name in FIXTURE_PEERS:
        if not (venv / f".installed-{name}").exists():
            versions.pop(name, None)
    return FixtureVenv(python, versions)
