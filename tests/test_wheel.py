"""Users install the package, not the repo: a wheel built from the project installs into a
fresh virtual environment and `mock-pokee serve` runs from there with its built-in
scenarios, far from the repository."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from mock_pokee.testing import MockServer
from tests.lived_in import inhabit, untouched

REPO = Path(__file__).resolve().parents[1]


def tracked_files(into: Path) -> None:
    """A copy of the project as committed, so building leaves nothing in the checkout."""
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True
    ).stdout.split(b"\0")
    for name in filter(None, listed):
        source = REPO / name.decode()
        if source.is_file():
            target = into / name.decode()
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def build_wheel(source: Path, dist: Path) -> Path:
    """The wheel of the project at ``source`` (built offline, without isolation)."""
    before = set(dist.glob("*.whl"))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(dist),
            str(source),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = set(dist.glob("*.whl")) - before
    return wheel


def fresh_environment(root: Path, *wheels: Path, borrowed: Path | None = None) -> Path:
    """A new venv holding the wheels; their dependencies are borrowed from ``borrowed``
    (default: this venv's site-packages) through a .pth file: no download, and no way to
    reach the checkout."""
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    pip = [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python")]
    subprocess.run(
        [*pip, "install", "-q", "--no-deps", "--no-index", *map(str, wheels)], check=True
    )
    site = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import sysconfig; print(sysconfig.get_path('purelib'))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    lending = borrowed or Path(sysconfig.get_path("purelib"))
    (Path(site) / "borrowed-dependencies.pth").write_text(f"{lending}\n")
    return venv


@dataclass(frozen=True)
class Installed:
    venv: Path
    elsewhere: Path  # a working folder far from the checkout
    env: dict[str, str]

    def command(self, name: str) -> str:
        return str(self.venv / "bin" / name)


@dataclass(frozen=True)
class Wheels:
    client: Path  # pokee-client, from client/
    mock: Path  # mock-pokee


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> Wheels:
    """The two packages as committed, built into wheels."""
    tmp_path = tmp_path_factory.mktemp("wheels")
    source, dist = tmp_path / "source", tmp_path / "dist"
    tracked_files(source)
    return Wheels(build_wheel(source / "client", dist), build_wheel(source, dist))


def clean_environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return {k: v for k, v in env.items() if not k.startswith(("POKEE_", "PYTEST_"))}


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory, wheels: Wheels) -> Installed:
    """Both wheels installed in a fresh venv, as a user of mock-pokee has them."""
    tmp_path = tmp_path_factory.mktemp("wheel")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    venv = fresh_environment(tmp_path, wheels.client, wheels.mock)
    return Installed(venv, elsewhere, clean_environment())


def only_these_installed(names: tuple[str, ...], into: Path) -> Path:
    """A folder of links to the import packages of ``names`` and of everything they
    require (extras left out), taken from this venv: a site-packages that holds those
    distributions and nothing else."""
    from importlib.metadata import PackageNotFoundError, distribution

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    into.mkdir()
    seen: set[str] = set()
    wanted = list(names)
    while wanted:
        name = canonicalize_name(wanted.pop())
        if name in seen:
            continue
        seen.add(name)
        try:
            found = distribution(name)
        except PackageNotFoundError:  # a requirement for another Python or platform
            continue
        for line in found.requires or []:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                wanted.append(requirement.name)
        for file in found.files or []:
            top = file.parts[0]
            if len(file.parts) == 1 and not top.endswith((".py", ".so")):
                continue  # the distribution's own files at the top, not something to import
            if top.endswith(".dist-info") or top in ("..", "__pycache__"):
                continue
            link = into / top
            if not link.exists():
                link.symlink_to(Path(str(found.locate_file(top))))
    return into


def test_the_client_installs_alone_with_only_httpx_and_httpx_sse(
    tmp_path: Path, wheels: Wheels
) -> None:
    """An app that talks to Pokee installs pokee-client and gets neither the mock's server
    (starlette, uvicorn) nor anything else of it, and its `pokee` command works."""
    from email.parser import Parser
    from zipfile import ZipFile

    with ZipFile(wheels.client) as wheel:
        (metadata,) = (n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
        requires = Parser().parsestr(wheel.read(metadata).decode()).get_all("Requires-Dist")
    assert sorted(requires or []) == [
        "httpcore>=1.0",
        "httpx-sse>=0.4.1",
        "httpx>=0.28",
        'rich>=13.0; extra == "progress"',
    ]
    lent = only_these_installed(("httpx", "httpx-sse"), tmp_path / "lent")
    venv = fresh_environment(tmp_path, wheels.client, borrowed=lent)
    python, env = str(venv / "bin" / "python"), clean_environment()
    for server_side in ("starlette", "uvicorn", "mock_pokee", "rich"):
        missing = subprocess.run(
            [python, "-c", f"import {server_side}"], cwd=tmp_path, env=env, check=False
        )
        assert missing.returncode != 0, f"{server_side} is importable beside the client alone"
    with MockServer() as server:
        tenant = server.tenant()
        created = subprocess.run(
            [str(venv / "bin" / "pokee"), "sessions", "create", "--json"],
            cwd=tmp_path,
            env={**env, "POKEE_API": server.url, "POKEE_KEY": tenant.key or ""},
            capture_output=True,
            text=True,
            check=True,
        )
        session = json.loads(created.stdout)
        assert tenant.http.get(f"/v1/sessions/{session['id']}").status_code == 200


def test_a_wheel_installs_and_serves_with_its_built_in_scenarios(installed: Installed) -> None:
    venv, elsewhere, env = installed.venv, installed.elsewhere, installed.env
    where = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import mock_pokee; print(mock_pokee.__file__)"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert where.startswith(str(venv))
    process = subprocess.Popen(
        [str(venv / "bin" / "mock-pokee"), "serve", "--port", "0", "--clock", "virtual", "--quiet"],
        cwd=elsewhere,
        env={**env, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert " serving " in first, process.stderr.read() if process.stderr else first
        url = first.split(" serving ")[1].split()[0]
        names = {s["name"] for s in httpx.get(f"{url}/_mock/scenarios").json()["scenarios"]}
        assert {"presentation", "report", "quick-answer", "dropped-stream"} <= names
        from mock_pokee.api.inspector import ASSETS  # the inspector ships too, every module

        for asset in ("", *(f"/{name}" for name in ASSETS)):
            assert httpx.get(f"{url}/_mock/ui{asset}").status_code == 200, asset
        key = {"Authorization": "Bearer pk_wheel_key"}
        sid = httpx.post(f"{url}/v1/sessions", headers=key, json={"persistent": True}).json()["id"]
        message = {"message": "Build a deck on wheels"}
        with httpx.stream(
            "POST", f"{url}/v1/sessions/{sid}/messages", headers=key, json=message
        ) as turn:  # the turn goes on after we hang up (M5)
            assert turn.status_code == 200
        httpx.post(f"{url}/_mock/clock/advance", headers=key, json={"seconds": 3600})
        listing = httpx.get(
            f"{url}/v1/sessions/{sid}/files", headers=key, params={"path": "output"}
        )
        assert [f["name"] for f in listing.json()] == ["wheels.pptx"]
    finally:
        process.terminate()
        process.communicate(timeout=10)


@pytest.mark.timeout(300)  # two whole contract runs, each bounded by its own 240 s
def test_the_installed_contract_suite_checks_a_running_mock_twice_with_one_key(
    installed: Installed,
) -> None:
    """`mock-pokee contract` from the wheel, with no checkout, against a `mock-pokee serve`
    whose tenant already holds sessions and files: passes twice with one key (the second
    time --allow-destructive), reports no difference, says what it left and spent, and
    leaves the tenant's own things as they were."""
    serve = subprocess.Popen(
        [installed.command("mock-pokee"), "serve", "--port", "0", "--quiet"],
        cwd=installed.elsewhere,
        env={**installed.env, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert serve.stdout is not None
        url = serve.stdout.readline().split(" serving ")[1].split()[0]
        key = "pk_wheel-contract_fixedkey1"
        sessions, files = inhabit(url, key)
        for run, options in ((1, []), (2, ["--allow-destructive"])):
            report = installed.elsewhere / f"clauses{run}.json"
            done = subprocess.run(
                [
                    installed.command("mock-pokee"),
                    "contract",
                    "--api",
                    url,
                    "--key",
                    key,
                    "--clause-report",
                    str(report),
                    *options,
                ],
                cwd=installed.elsewhere,
                env=installed.env,
                capture_output=True,
                text=True,
                timeout=240,
                check=False,
            )
            assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
            summary = json.loads(report.read_text())
            assert summary["failed_clauses"] == []
            assert summary["differs"] == {}
            assert "left behind: no session and no file" in done.stdout
            assert "credits: " in done.stdout
            assert " spent " in done.stdout
            untouched(url, key, sessions, files, sessions_kept=run == 1)
        assert sorted(p.name for p in installed.elsewhere.iterdir()) == [
            "clauses1.json",
            "clauses2.json",
        ]  # no cache, no .hypothesis folder left where it ran
    finally:
        serve.terminate()
        serve.communicate(timeout=10)
