"""The terminal's request log: one readable line per request while `mock-pokee serve`
runs, folded into a summary under load, and nothing at all with --quiet."""

from __future__ import annotations

import io
import signal

import httpx
import pytest

from mock_pokee.requestlog import LINES_PER_TICK, RequestLog
from mock_pokee.server import ThreadedServer
from mock_pokee.settings import Settings
from tests.processes import start_serve


def test_each_request_is_one_line_with_method_path_status_and_time() -> None:
    out = io.StringIO()
    log = RequestLog(out)
    log.add("GET", "/v1/sessions/sess_1", 200, 0.42, "complete")
    log.add("POST", "/v1/sessions/sess_1/messages", 200, 12.0, "cut")
    log.add("POST", "/v1/sessions", None, 3.0, "no_response")
    log.flush()
    lines = out.getvalue().splitlines()
    assert len(lines) == 3
    assert lines[0].split()[1:] == ["GET", "/v1/sessions/sess_1", "200", "0.4", "ms"]
    assert lines[1].endswith("(cut)")
    assert "--- 3.0 ms (no_response)" in lines[2]


def test_a_burst_beyond_a_ticks_share_is_folded_into_one_summary() -> None:
    out = io.StringIO()
    log = RequestLog(out)
    for n in range(LINES_PER_TICK + 100):
        log.add("GET", "/v1/usage", 404 if n % 2 else 200, 0.1, "complete")
    log.flush()
    lines = out.getvalue().splitlines()
    assert len(lines) == LINES_PER_TICK + 1
    summary = lines[-1]
    assert "100 more requests" in summary
    assert "50 × 200" in summary
    assert "50 × 404" in summary


def test_the_server_logs_each_request_it_answers(capsys: pytest.CaptureFixture[str]) -> None:
    """In process (what `serve` without --quiet turns on): the server's own line, with
    how long the request took."""
    with ThreadedServer(Settings(port=0, request_log=True)) as server:
        assert httpx.get(f"{server.url}/health", timeout=5).status_code == 200
    (line,) = [line for line in capsys.readouterr().out.splitlines() if "/health" in line]
    method, path, status, took, unit = line.split()[1:]
    assert (method, path, status, unit) == ("GET", "/health", "200", "ms")
    assert float(took) >= 0


@pytest.mark.parametrize("quiet", [False, True])
def test_serve_prints_a_line_per_request_unless_quiet(quiet: bool) -> None:
    process, url = start_serve(*(["--quiet"] if quiet else []))
    try:
        httpx.get(f"{url}/health", timeout=5)
        httpx.get(f"{url}/v1/sessions", timeout=5)  # no key: 401
        process.send_signal(signal.SIGINT)
        out, _ = process.communicate(timeout=10)
    finally:
        process.kill()
        process.communicate()
    requests = [line for line in out.splitlines() if " ms" in line]
    if quiet:
        assert requests == []
    else:
        assert len(requests) == 2
        assert requests[0].split()[1:4] == ["GET", "/health", "200"]
        assert "/v1/sessions 401" in requests[1]
