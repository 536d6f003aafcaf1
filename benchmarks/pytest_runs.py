"""Running a generated test file with pytest, in a subprocess of the fixtures venv, and
reading back how long each test took.

Times come from ``--junitxml``: a testcase's time is its setup, call and teardown together
(pytest's default ``junit_duration_report = total``), so a fixture's whole cost is in it.
pytest writes that attribute in whole milliseconds, too coarse for a no-op test, so a
conftest written beside the test file adds the same sum, to the microsecond, as a
testcase property (``seconds``); every run carries that conftest, so its own cost is in the
no-op baseline like everything else pytest does per test.

Each run is a folder of its own with an empty ``pytest.ini``: nothing of this checkout's
pytest configuration (filterwarnings, timeouts) applies, as nothing of it would apply in a
user's project.
"""

from __future__ import annotations

import os
import subprocess
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

TIMEOUT_S = 900.0  # a whole run; the slowest here (300 moto tests) takes well under a minute

# Dummy AWS credentials for moto's runs (boto3 refuses to sign without any); set for every
# run, so that all see the same environment.
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}
# Set by a developer's shell, they would change what the runs measure.
UNSET = ("PYTHONPATH", "PYTEST_ADDOPTS", "PYTEST_PLUGINS", "MOCK_POKEE_URL", "VIRTUAL_ENV")

CONFTEST = """\
import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_makereport(item, call):
    # The testcase's setup + call + teardown, to the microsecond, as a junit property.
    item.bench_seconds = getattr(item, "bench_seconds", 0.0) + call.duration
    if call.when == "teardown":
        item.user_properties.append(("seconds", f"{item.bench_seconds:.6f}"))
"""


@dataclass(frozen=True)
class Case:
    """One test of a run, in the order it ran."""

    name: str
    seconds: float
    properties: dict[str, str]


@dataclass(frozen=True)
class Run:
    cases: list[Case]
    wall_s: float  # the whole pytest process: start-up, collection, every test, exit


def _environment() -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name not in UNSET}
    return env | AWS_ENV


def parse(report: Path) -> list[Case]:
    """The testcases of a junit report, in document (= run) order."""
    cases = []
    try:
        root = ET.parse(report).getroot()
    except ET.ParseError as exc:
        raise RuntimeError(f"unreadable junit report {report}: {exc}") from None
    for testcase in root.iter("testcase"):
        properties = {
            prop.get("name", ""): prop.get("value", "") for prop in testcase.iter("property")
        }
        if testcase.find("failure") is not None or testcase.find("error") is not None:
            raise RuntimeError(f"{testcase.get('name')} failed; see {report}")
        seconds = float(properties.get("seconds") or testcase.get("time") or "nan")
        cases.append(Case(testcase.get("name", ""), seconds, properties))
    return cases


def run(python: Path, folder: Path, name: str, source: str) -> Run:
    """``source`` as ``test_<name>.py`` in a fresh ``folder``, run once with ``-q``."""
    folder.mkdir(parents=True)
    (folder / "pytest.ini").write_text("[pytest]\n")
    (folder / "conftest.py").write_text(CONFTEST)
    (folder / f"test_{name}.py").write_text(source)
    report = folder / "report.xml"
    args = [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={report}"]
    started = time.perf_counter()
    try:
        done = subprocess.run(
            args,
            cwd=folder,
            env=_environment(),
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"pytest ran for more than {TIMEOUT_S:.0f} s") from None
    wall = time.perf_counter() - started
    if done.returncode != 0 or not report.exists():
        lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
        last = lines[-1].strip() if lines else "no output"
        raise RuntimeError(f"pytest exited with {done.returncode}: {last}")
    return Run(parse(report), wall)
