"""The systems the comparison measures, each started as its users start it, and each
serving its closest equivalent of a session read and a session create.

A `System` says how to start it and how to prepare it; `launched` starts one in a process
group of its own (so that wrappers and their children stop together), times launch to its
first healthy answer, and hands back the two calls to load.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from benchmarks import peers
from benchmarks.harness import free_port, http_status
from benchmarks.load import Call
from benchmarks.servers import RECORD

ROOT = Path(__file__).resolve().parent.parent
KEY = {"Authorization": "Bearer pk_bench_key"}
JSON = {"Content-Type": "application/json"}
CREATE_BODY = json.dumps({"persistent": True, "ttl": 14400})
# S9 allows 10 sessions per tenant; the create runs make tens of thousands, so the
# mock's servers get a limit they cannot reach (the only option that is not a default).
MAX_SESSIONS = 1_000_000  # the most `--max-sessions` takes; far more than a run creates
# moto's S3 wants an AWS-style Authorization header; it does not check the signature.
AWS = {
    "Authorization": "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request, "
    "SignedHeaders=host, Signature=x"
}


@dataclass(frozen=True)
class System:
    name: str
    settings: str  # how it is started, for the output
    command: Callable[[int], list[str]]
    prepare: Callable[[str], tuple[Call, Call]]  # base URL -> (read, create)
    health: str = "/health"
    health_headers: dict[str, str] = field(default_factory=dict)
    launch_timeout: float = 60.0


@dataclass(frozen=True)
class Target:
    """A system that is up: where it listens, its process, and the calls to measure."""

    system: System
    url: str
    pid: int
    launch_s: float
    read: Call
    create: Call


class LaunchFailed(Exception):
    """The system did not come up; the message is one line."""


@contextmanager
def launched(system: System, folder: Path) -> Iterator[Target]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = folder / f"{system.name.replace(' ', '-').replace('/', '-')}.log"
    with log_path.open("wb") as log:
        started = time.perf_counter()
        process = subprocess.Popen(
            system.command(port),
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            launch_s = _wait_healthy(system, url, process, started, log_path)
            read, create = system.prepare(url)
            yield Target(system, url, process.pid, launch_s, read, create)
        finally:
            _stop(process)


def _wait_healthy(
    system: System, url: str, process: subprocess.Popen[bytes], started: float, log: Path
) -> float:
    while time.perf_counter() - started < system.launch_timeout:
        if http_status(url, system.health, system.health_headers) == 200:
            return time.perf_counter() - started
        if process.poll() is not None:
            raise LaunchFailed(f"exited with {process.returncode}: {_last_line(log)}")
        time.sleep(0.005)
    raise LaunchFailed(f"no healthy answer within {system.launch_timeout:.0f} s")


def _last_line(log: Path) -> str:
    lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
    return lines[-1].strip() if lines else "no output"


def _stop(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        process.wait()


# --- mock-pokee and the bare baseline -------------------------------------------------


def _prepare_mock(url: str) -> tuple[Call, Call]:
    created = httpx.post(f"{url}/v1/sessions", headers=KEY, content=CREATE_BODY)
    created.raise_for_status()
    read = Call("GET", f"/v1/sessions/{created.json()['id']}", KEY)
    return read, Call("POST", "/v1/sessions", {**KEY, **JSON}, CREATE_BODY)


def _prepare_bare(url: str) -> tuple[Call, Call]:
    read = Call("GET", f"/v1/sessions/{RECORD['id']}", KEY)
    return read, Call("POST", "/v1/sessions", {**KEY, **JSON}, CREATE_BODY)


def has_quiet() -> bool:
    """Whether this checkout's `mock-pokee serve` has a ``--quiet`` flag."""
    done = subprocess.run(
        [sys.executable, "-m", "mock_pokee", "serve", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    return "--quiet" in done.stdout


def own_systems() -> list[System]:
    """Bare Starlette (the limit), uvicorn with no framework (the ceiling), and mock-pokee
    as users run it."""
    serve = [sys.executable, "-m", "mock_pokee", "serve"]
    limit = ["--max-sessions", str(MAX_SESSIONS)]
    systems = [
        System(
            "bare Starlette",
            "uvicorn[standard] (uvloop, httptools), 1 process, access log off, log level "
            "warning: the bench's launcher `python -m benchmarks.servers bare`",
            lambda port: [sys.executable, "-m", "benchmarks.servers", "bare", str(port)],
            _prepare_bare,
        ),
        System(
            "mock-pokee serve",
            f"`python -m mock_pokee serve --port P --max-sessions {MAX_SESSIONS}`, otherwise "
            "defaults (its request log included), output to a file",
            lambda port: [*serve, "--port", str(port), *limit],
            _prepare_mock,
        ),
    ]
    systems.append(
        System(
            "uvicorn alone",
            "the bare answers from a plain ASGI function, no framework, same uvicorn "
            "settings: `python -m benchmarks.servers raw` (the ceiling of one Python process)",
            lambda port: [sys.executable, "-m", "benchmarks.servers", "raw", str(port)],
            _prepare_bare,
        )
    )
    if has_quiet():
        systems.append(
            System(
                "mock-pokee serve --quiet",
                "as above, with --quiet",
                lambda port: [*serve, "--port", str(port), *limit, "--quiet"],
                _prepare_mock,
            )
        )
    systems.append(
        System(
            "ThreadedServer",
            "`mock_pokee.server.ThreadedServer(Settings(port=P, max_sessions=…))` in a "
            "process of its own (`python -m benchmarks.inproc`), as a test suite starts it",
            lambda port: [sys.executable, "-m", "benchmarks.inproc", str(port), str(MAX_SESSIONS)],
            _prepare_mock,
        )
    )
    return systems


# --- the peers ---------------------------------------------------------------------------


def _stub(method: str, path: str, status: int) -> dict[str, object]:
    response = {"status": status, "jsonBody": RECORD, "headers": JSON}
    return {"request": {"method": method, "urlPath": path}, "response": response}


def _prepare_wiremock(url: str) -> tuple[Call, Call]:
    read_path = f"/v1/sessions/{RECORD['id']}"
    for stub in (_stub("GET", read_path, 200), _stub("POST", "/v1/sessions", 201)):
        httpx.post(f"{url}/__admin/mappings", json=stub).raise_for_status()
    read = Call("GET", read_path, KEY)
    return read, Call("POST", "/v1/sessions", {**KEY, **JSON}, CREATE_BODY)


def _prepare_moto(url: str) -> tuple[Call, Call]:
    httpx.put(f"{url}/bench", headers=AWS).raise_for_status()
    record = json.dumps(RECORD)
    httpx.put(f"{url}/bench/session.json", headers=AWS, content=record).raise_for_status()
    read = Call("GET", "/bench/session.json", AWS)
    return read, Call("PUT", "/bench/object-", AWS, CREATE_BODY, numbered=True)


def _wiremock(installed: peers.Installed) -> System:
    def command(port: int) -> list[str]:
        options = ["--port", str(port), "--bind-address", "127.0.0.1", "--disable-banner"]
        return [str(installed.command), *options]

    return System(
        "WireMock",
        f"npm wiremock {installed.version} (standalone jar on the system's Java, through "
        "npm's Node wrapper; RSS counts both), default options, two stubs",
        command,
        _prepare_wiremock,
        health="/__admin/mappings",
    )


def _prism(installed: peers.Installed) -> System:
    spec = ROOT / "mock_pokee" / "openapi.yaml"

    def command(port: int) -> list[str]:
        return [str(installed.command), "mock", str(spec), "-p", str(port), "-h", "127.0.0.1"]

    return System(
        "Prism",
        f"@stoplight/prism-cli {installed.version}, `prism mock mock_pokee/openapi.yaml` "
        "(static examples), default options (it logs every request)",
        command,
        _prepare_bare,
    )


def _moto(installed: peers.Installed) -> System:
    def command(port: int) -> list[str]:
        return [str(installed.command), "-H", "127.0.0.1", "-p", str(port)]

    return System(
        "moto",
        f"moto[server] {installed.version}, `moto_server`; S3 GetObject of a session record, "
        "PutObject of a new key per create",
        command,
        _prepare_moto,
        health="/",
        health_headers=AWS,
    )


def peer_systems(report: Callable[[str], None]) -> list[System]:
    """The peers that install here; each one that does not is reported in one line."""
    found: list[System] = []
    kinds: list[tuple[str, Callable[[], peers.Installed], Callable[[peers.Installed], System]]]
    kinds = [
        ("WireMock", peers.wiremock, _wiremock),
        ("Prism", peers.prism, _prism),
        ("moto", peers.moto, _moto),
    ]
    for name, install, system in kinds:
        try:
            found.append(system(install()))
        except peers.Skip as exc:
            report(f"{name} skipped: {exc}")
    return found
