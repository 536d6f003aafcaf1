"""Users install the package, not the repo: a wheel built from the project installs into a
fresh virtual environment and `mock-pokee serve` runs from there with its built-in
scenarios, far from the repository."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import httpx

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


def fresh_environment(root: Path, wheel: Path) -> Path:
    """A new venv holding the wheel; its dependencies are borrowed from this one's
    site-packages through a .pth file (no download, and no way to reach the checkout)."""
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    pip = [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python")]
    subprocess.run([*pip, "install", "-q", "--no-deps", "--no-index", str(wheel)], check=True)
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
    (Path(site) / "borrowed-dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return venv


def test_a_wheel_installs_and_serves_with_its_built_in_scenarios(tmp_path: Path) -> None:
    source, dist, elsewhere = tmp_path / "source", tmp_path / "dist", tmp_path / "elsewhere"
    elsewhere.mkdir()
    tracked_files(source)
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
    (wheel,) = dist.glob("mock_pokee-*.whl")
    venv = fresh_environment(tmp_path, wheel)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
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
        for asset in ("", "/inspector.js", "/inspector.css"):  # the inspector ships too
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
