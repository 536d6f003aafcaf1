"""Server options (`mock-pokee serve …`): key lists (A3), --no-control (C7),
--max-sessions (S9), and the command itself: announce, serve, stop on Ctrl-C."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from mock_pokee.cli import parser, settings_from
from mock_pokee.server import ThreadedServer
from mock_pokee.settings import Settings
from tests.processes import start_serve


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_a3_with_a_key_list_only_listed_keys_are_accepted() -> None:
    with ThreadedServer(Settings(port=0, keys=frozenset({"pk_ci_good"}))) as server:
        good = httpx.get(f"{server.url}/v1/sessions", headers=bearer("pk_ci_good"))
        bad = httpx.get(f"{server.url}/v1/sessions", headers=bearer("pk_ci_bad"))
        control = httpx.get(f"{server.url}/_mock/state", headers=bearer("pk_ci_bad"))
        health = httpx.get(f"{server.url}/health")
    assert good.status_code == 200
    assert bad.status_code == 401
    assert bad.json()["error"] == "unauthorized"
    assert control.status_code == 401
    assert health.status_code == 200


def test_c7_no_control_switches_off_every_mock_route_and_v1_still_works() -> None:
    with ThreadedServer(Settings(port=0, control=False)) as server:
        headers = bearer("pk_acme_x")
        created = httpx.post(f"{server.url}/v1/sessions", headers=headers)
        for method, path in [
            ("GET", "/_mock/clock"),
            ("PUT", "/_mock/clock"),
            ("POST", "/_mock/clock/advance"),
            ("POST", "/_mock/reset"),
            ("GET", "/_mock/state"),
        ]:
            response = httpx.request(method, f"{server.url}{path}", headers=headers)
            assert response.status_code == 404, path
            assert response.json()["error"] == "not_found"
        listed = httpx.get(f"{server.url}/v1/sessions", headers=headers)
    assert created.status_code == 201
    assert [s["id"] for s in listed.json()] == [created.json()["id"]]


def test_c7_without_the_control_plane_x_mock_scenario_is_ignored() -> None:
    """C6/C7: a server pretending to be real does not let a header pick the agent."""
    with ThreadedServer(Settings(port=0, control=False)) as server:
        headers = bearer("pk_acme_x")
        sid = httpx.post(f"{server.url}/v1/sessions", headers=headers).json()["id"]
        forced = {**headers, "X-Mock-Scenario": "tool-error"}
        response = httpx.post(
            f"{server.url}/v1/sessions/{sid}/messages", json={"message": "hi"}, headers=forced
        )
    assert response.status_code == 200
    assert "event: message.completed" in response.text
    assert "tool_use.start" not in response.text


def test_s9_max_sessions_is_configurable() -> None:
    with ThreadedServer(Settings(port=0, max_sessions=2)) as server:
        headers = bearer("pk_acme_x")
        statuses = [
            httpx.post(f"{server.url}/v1/sessions", headers=headers).status_code for _ in range(3)
        ]
    assert statuses == [201, 201, 429]


def test_cli_fills_settings() -> None:
    args = parser().parse_args(
        [
            "serve",
            "--port",
            "0",
            "--clock",
            "scaled",
            "--scale",
            "60",
            "--max-sessions",
            "50",
            "--no-control",
            "--journal-size",
            "500",
        ]
    )
    settings = settings_from(args)
    assert settings == Settings(
        port=0,
        clock_mode="scaled",
        clock_scale=60,
        max_sessions=50,
        control=False,
        journal_size=500,
        request_log=True,
    )
    assert not settings_from(parser().parse_args(["serve", "--quiet"])).request_log


def test_cli_reads_keys_from_a_file_or_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = tmp_path / "keys"
    keys.write_text("# ci\npk_ci_one\npk_ci_two\n")
    assert settings_from(parser().parse_args(["serve", "--keys", str(keys)])).keys == frozenset(
        {"pk_ci_one", "pk_ci_two"}
    )
    monkeypatch.setenv("MOCK_POKEE_KEYS", "pk_a_1, pk_b_2")
    assert settings_from(parser().parse_args(["serve"])).keys == frozenset({"pk_a_1", "pk_b_2"})


@pytest.mark.parametrize(
    ("argv", "complaint"),
    [
        (["serve", "--clock", "fast"], "--clock"),
        (["serve", "--scale", "0"], "--scale"),
        (["serve", "--max-sessions", "0"], "--max-sessions"),
        (["serve", "--keys", "/nonexistent/keys"], "--keys"),
    ],
)
def test_cli_refuses_bad_options_clearly(argv: list[str], complaint: str) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "mock_pokee", *argv],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert run.returncode == 2
    assert complaint in run.stderr
    assert "Traceback" not in run.stderr


def test_serve_announces_answers_and_stops_cleanly_on_ctrl_c() -> None:
    """`python -m mock_pokee serve --port 0` prints the URL and an export line, answers
    /health, and on SIGINT shuts down gracefully: no traceback, and the exit status says
    "interrupted" the shell way (130)."""
    process, url = start_serve()
    try:
        assert process.stdout is not None
        export = process.stdout.readline()
        assert export.strip() == f"export POKEE_API={url} POKEE_KEY=pk_local_dev"
        assert httpx.get(f"{url}/health", timeout=5).json() == {"status": "ok"}
        process.send_signal(signal.SIGINT)
        _, log = process.communicate(timeout=5)  # a hang fails here
        assert process.returncode in (0, 130)
        assert "Application shutdown complete" in log
        assert "Traceback" not in log
    finally:
        process.kill()
        process.communicate()


def test_f1_workspace_folder_keeps_files_across_restarts(tmp_path: Path) -> None:
    """--workspace DIR: files land in DIR/<tenant>/ and stay there after the server stops."""
    headers = bearer("pk_acme_x")
    for content in (b"first run", None):
        with ThreadedServer(Settings(port=0, workspace=tmp_path)) as server:
            sid = httpx.post(f"{server.url}/v1/sessions", headers=headers).json()["id"]
            url = f"{server.url}/v1/sessions/{sid}/files/kept.txt"
            if content is not None:
                assert httpx.put(url, headers=headers, content=content).status_code == 201
            else:
                assert httpx.get(url, headers=headers).content == b"first run"
    assert (tmp_path / "acme" / "kept.txt").read_bytes() == b"first run"


def test_f3_the_upload_limit_is_configurable() -> None:
    with ThreadedServer(Settings(port=0, upload_limit=10)) as server:
        headers = bearer("pk_acme_x")
        sid = httpx.post(f"{server.url}/v1/sessions", headers=headers).json()["id"]
        url = f"{server.url}/v1/sessions/{sid}/files/f.bin"
        assert httpx.put(url, headers=headers, content=b"x" * 10).status_code == 201
        too_big = httpx.put(url, headers=headers, content=b"x" * 11)
    assert too_big.status_code == 413
    assert too_big.json()["error"] == "payload_too_large"


def test_f1_the_default_workspace_is_temporary() -> None:
    """Without --workspace, files live in a temporary folder that is removed at exit."""
    with ThreadedServer() as server:
        root = server.app.state.mock.tenants.workspace_root
        headers = bearer("pk_acme_x")
        sid = httpx.post(f"{server.url}/v1/sessions", headers=headers).json()["id"]
        httpx.put(f"{server.url}/v1/sessions/{sid}/files/t.txt", headers=headers, content=b"t")
        assert (root / "acme" / "t.txt").exists()
    assert not root.exists()


def test_no_temporary_folder_outlives_a_server_or_a_failed_start(tmp_path: Path) -> None:
    """The default workspace is made with the first tenant and removed at exit; a start
    that fails (a bad scenario folder, a port in use) leaves nothing behind."""
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {**os.environ, "TMPDIR": str(temp)}
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "x.yaml").write_text("name: x\nsteps: [{nope: 1}]\n")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        for options in (["--scenarios", str(bad)], ["--port", port]):
            run = subprocess.run(
                [sys.executable, "-m", "mock_pokee", "serve", "--quiet", *options],
                env=env,
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
            assert run.returncode != 0
    process, url = start_serve(env=env)
    try:
        headers = bearer("pk_acme_x")
        sid = httpx.post(f"{url}/v1/sessions", headers=headers).json()["id"]
        httpx.put(f"{url}/v1/sessions/{sid}/files/t.txt", headers=headers, content=b"t")
        assert [p.name for p in temp.iterdir()] != []  # the workspace exists while serving
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=5)
    finally:
        process.kill()
        process.communicate()
    assert list(temp.iterdir()) == []


def test_the_help_is_written_for_users(capsys: pytest.CaptureFixture[str]) -> None:
    """What the command is and how to start, not the module's internals."""
    with pytest.raises(SystemExit) as done:
        parser().parse_args(["--help"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    assert "fake of the Pokee Enterprise API" in text
    assert "mock-pokee serve --clock scaled --scale 60" in text
    assert "mock-pokee contract --api URL --key KEY" in text
    for internal in ("Settings", "uvicorn", "``"):
        assert internal not in text


def test_cli_fills_the_whole_server_guards_and_the_workspace_limit() -> None:
    args = parser().parse_args(
        ["serve", "--admin-key", "adm", "--allow-host", "Mock.", "--workspace-limit", "5000"]
    )
    settings = settings_from(args)
    assert (settings.admin_key, settings.allowed_hosts) == ("adm", ("mock",))
    assert settings.workspace_limit == 5000
    with pytest.raises(SystemExit):
        parser().parse_args(["serve", "--allow-host", "not a host"])
