"""Starting benchmark servers as processes, and measuring them from outside."""

from __future__ import annotations

import http.client
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from benchmarks.load import wrk_path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_health(url: str, timeout: float = 10.0) -> float:
    """Seconds until ``url``/health answers 200 (polled every 5 ms)."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        try:
            if httpx.get(f"{url}/health", timeout=0.5).status_code == 200:
                return time.perf_counter() - start
        except httpx.TransportError:
            pass
        time.sleep(0.005)
    raise RuntimeError(f"{url} did not answer /health within {timeout} s")


@contextmanager
def server_process(kind: str, *options: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``kind`` is ``mock`` or ``bare`` (see benchmarks.servers)."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.servers", kind, str(port), *options],
        cwd=Path(__file__).resolve().parent.parent,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        if kind == "bare":
            _wait_for_port(port)
        else:
            wait_for_health(url)
        yield url, process
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_for_port(port: int, timeout: float = 10.0) -> None:
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.005)
    raise RuntimeError(f"nothing listens on port {port}")


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def requests_per_second(url: str, headers: dict[str, str], seconds: int = 5) -> float:
    """Throughput of GET ``url`` with wrk (1 thread, 32 connections)."""
    args = [wrk_path(), "-t1", "-c32", f"-d{seconds}s"]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    output = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in output:
        raise RuntimeError(f"wrk saw errors:\n{output}")
    match = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if match is None:
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    return float(match.group(1))


def tree_rss_bytes(pid: int) -> int:
    """RSS of ``pid`` and every process under it. Some peers are wrappers: npm's
    ``wiremock`` is a Node script that starts Java, and what a user pays is both."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue  # gone since the listing
        fields = text.rsplit(")", 1)[1].split()
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        with suppress(OSError, RuntimeError):
            total += rss_bytes(current)
        todo += children.get(current, [])
    return total


def http_status(url: str, path: str, headers: dict[str, str] | None = None) -> int | None:
    """The status of one GET, or None when nothing answers (yet)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=2)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        response.read()
        return response.status
    except OSError:
        return None
    finally:
        connection.close()


@contextmanager
def peak_rss(pid: int) -> Iterator[list[int]]:
    """Samples the RSS of ``pid``'s process tree every 50 ms; the list holds the peak."""
    peak = [tree_rss_bytes(pid)]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.05):
            peak[0] = max(peak[0], tree_rss_bytes(pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield peak
    finally:
        done.set()
        sampler.join()
