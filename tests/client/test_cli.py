"""The ``pokee`` command end to end: the installed console script in a subprocess, talking
to the test server over loopback; exit statuses, stdout (``--json`` parsed) and stderr (one
line per failure, never a traceback)."""

from __future__ import annotations

import io
import json
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from mock_pokee.server import ThreadedServer
from pokee_client.cli.commands import _verdict
from pokee_client.cli.output import Output
from tests.client.helpers import POKEE, Shell, on_terminal, one_error_line


@pytest.fixture
def shell(mock: ThreadedServer, key: str) -> Shell:
    return Shell(mock.url, key)


def test_help_answers_and_names_every_command(shell: Shell) -> None:
    done = shell("--help")
    assert done.returncode == 0
    for command in ("run", "send", "sessions", "files", "usage"):
        assert command in done.stdout


def test_run_json(shell: Shell, control: httpx.Client, tmp_path: Path) -> None:
    done = shell("run", "hello there", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "completed"
    assert result["text"] == "Here is a quick answer from mock-pokee to: hello there"
    assert result["files"] == []
    assert result["kept"] is False
    assert control.get("/v1/sessions").json() == []  # deleted afterwards
    assert list(tmp_path.iterdir()) == []


def test_run_shows_progress_then_the_saved_files(
    shell: Shell, control: httpx.Client, tmp_path: Path
) -> None:
    """On a pipe, progress is plain lines. The tenant's clock runs 1000× for this
    subprocess, which the test cannot drive step by step (C1, C2)."""
    control.put("/_mock/clock", json={"mode": "scaled", "scale": 1000})
    out = tmp_path / "decks"
    done = shell("run", "Build a deck on Q3 NVIDIA performance.", "--out", str(out), "--keep")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "starting"
    assert "running  tool=web_search" in lines
    assert any(line.startswith("downloading  status=completed  file=output/") for line in lines)
    deck = out / "output" / "q3-nvidia-performance.pptx"
    assert f"saved: {deck}" in lines
    assert deck.read_bytes()[:2] == b"PK"
    (session,) = control.get("/v1/sessions").json()
    assert f"session kept: {session['id']}" in lines
    assert session["persistent"] is True


def test_a_failed_turn_exits_1_with_one_line(shell: Shell, control: httpx.Client) -> None:
    control.put("/_mock/clock", json={"mode": "scaled", "scale": 1000})  # its 2 s pause
    done = shell("run", "hello", "--scenario", "turn-error", "--no-persistent", "--ttl", "10m")
    assert done.returncode == 1
    one_error_line(done, "the turn failed: upstream_model_error")
    as_json = shell("run", "hello", "--scenario", "turn-error", "--json")
    assert as_json.returncode == 1
    assert json.loads(as_json.stdout)["status"] == "error"


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.mark.parametrize(
    ("case", "status", "mentions"),
    [
        ("unknown scenario", 1, ("invalid_request", "'no-such-scenario'")),
        ("missing key", 2, ("no API key", "POKEE_KEY")),
        ("unreachable server", 1, ("POST http://127.0.0.1:", "/v1/sessions")),
        ("refused path", 2, ("'../secrets.txt'", "cannot go up")),  # refused before sending
        ("bad duration", 2, ()),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(
    shell: Shell,
    control: httpx.Client,
    tmp_path: Path,
    case: str,
    status: int,
    mentions: tuple[str, ...],
) -> None:
    out = tmp_path / "out"
    run = ("run", "hello", "--out", str(out))
    if case == "unknown scenario":
        done = shell(*run, "--scenario", "no-such-scenario")
    elif case == "missing key":
        done = shell(*run, env={k: v for k, v in shell.env.items() if k != "POKEE_KEY"})
    elif case == "unreachable server":
        done = shell(*run, "--api", f"http://127.0.0.1:{closed_port()}")
    elif case == "refused path":
        session = control.post("/v1/sessions", json={}).json()["id"]
        done = shell("files", "get", session, "../secrets.txt", "--out", str(out))
    else:
        done = shell(*run, "--ttl", "soon")
    assert done.returncode == status
    if case == "bad duration":  # argparse's own usage error
        assert "'soon' is not a duration" in done.stderr
    else:
        one_error_line(done, *mentions)
    assert not out.exists()
    if case != "refused path":
        assert control.get("/v1/sessions").json() == []


def test_sessions_files_send_and_usage_in_json(
    shell: Shell, control: httpx.Client, tmp_path: Path
) -> None:
    session = control.post("/v1/sessions", json={"persistent": True}).json()["id"]
    local = tmp_path / "notes.txt"
    local.write_text("some notes")

    stored = shell.json("files", "put", session, str(local), "docs/notes.txt")
    assert (stored["path"], stored["size"]) == ("docs/notes.txt", 10)
    listing = shell.json("files", "ls", session, "docs")
    assert [(e["name"], e["type"], e["size"]) for e in listing] == [("notes.txt", "file", 10)]
    got = shell.json("files", "get", session, "docs/notes.txt", "--out", str(tmp_path / "dl"))
    assert Path(got["saved"]).read_text() == "some notes"

    sent = shell("send", session, "hi", "--json")
    assert sent.returncode == 0, sent.stderr
    events = [json.loads(line) for line in sent.stdout.splitlines()]
    assert [e["seq"] for e in events] == list(range(len(events)))
    assert events[-1]["type"] == "message.completed"
    assert shell.json("usage")["session_turn"][0]["turns"] == 1

    (listed,) = shell.json("sessions", "list")
    assert listed["id"] == session
    assert shell.json("sessions", "show", session)["busy"] is False
    assert shell.json("files", "rm", session, "docs/notes.txt") == {"deleted": "docs/notes.txt"}
    assert shell.json("sessions", "clean", "--status", "idle", "--older-than", "0s") == {
        "deleted": 1
    }
    gone = shell("sessions", "rm", session, "--json")
    assert gone.returncode == 1
    assert json.loads(gone.stdout)["error"] == "not_found"
    one_error_line(gone, "not_found", session)


def test_send_to_a_busy_session_is_refused(shell: Shell, control: httpx.Client) -> None:
    session = control.post("/v1/sessions", json={}).json()["id"]
    with control.stream(
        "POST",
        f"/v1/sessions/{session}/messages",
        json={"message": "Build a deck on rivers"},
        headers={"X-Mock-Scenario": "presentation"},
    ) as running:
        next(running.iter_lines())  # started; it now waits on the virtual clock
        done = shell("send", session, "another")
    assert done.returncode == 1
    one_error_line(done, "session_busy", "409")


def test_on_a_terminal_progress_is_a_live_display(shell: Shell, tmp_path: Path) -> None:
    """stdout on a pseudo-terminal: rich draws the progress (then clears it), and the
    answer and saved files follow as lines."""
    status, screen, stderr = on_terminal(
        [POKEE, "run", "hello", "--out", str(tmp_path)], {**shell.env, "TERM": "xterm"}
    )
    assert status == 0
    assert stderr == ""
    text = screen.decode(errors="replace")
    assert "\x1b[" in text  # drawn with terminal control sequences, not plain lines
    assert "Here is a quick answer from mock-pokee to: hello" in text
    assert "starting\r\n" not in text  # the plain-line progress is for pipes only


@pytest.mark.parametrize(
    ("status", "code"), [("completed", 0), ("error", 1), ("cancelled", 1), ("unknown", 3)]
)
def test_a_turns_outcome_decides_the_exit_status(status: str, code: int) -> None:
    """An outcome that could not be confirmed (M7 log evicted) is not a success."""
    err = io.StringIO()
    assert _verdict(Output(False, io.StringIO(), err), status, "boom") == code
    assert len(err.getvalue().splitlines()) == (0 if code == 0 else 1)


def _wait_for(condition: Any, what: str, bound: float = 10.0) -> None:
    """Poll ``condition`` (real time, bounded): a subprocess is doing its part."""
    deadline = time.monotonic() + bound
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.02)


def _running_turns(control: httpx.Client) -> list[dict[str, Any]]:
    return [t for t in control.get("/_mock/state").json()["turns"] if t["status"] == "in_progress"]


def test_two_concurrent_runs_on_one_key_each_save_only_their_own_file(
    shell: Shell, control: httpx.Client, tmp_path: Path
) -> None:
    """F1: one key's sessions share a workspace; each run keeps only the files its own
    turn's events named. Both turns are held at their first pause until both run."""
    runs = {
        topic: subprocess.Popen(
            [POKEE, "run", f"Build a deck on {topic}", "--json", "--out", str(tmp_path / topic)],
            env=shell.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for topic in ("tides", "waves")
    }
    try:
        _wait_for(lambda: len(_running_turns(control)) == 2, "both turns to start")
        control.put("/_mock/clock", json={"mode": "autojump"})  # both waiting: both go on
        answers = {topic: run.communicate(timeout=30) for topic, run in runs.items()}
    finally:
        for run in runs.values():
            run.kill()
    for topic, (stdout, stderr) in answers.items():
        assert runs[topic].returncode == 0, stderr
        result = json.loads(stdout)
        other = "waves" if topic == "tides" else "tides"
        assert result["files"] == [str(tmp_path / topic / "output" / f"{topic}.pptx")]
        assert set(result["unattributed"]) <= {f"output/{other}.pptx"}
        saved = [p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.pptx")]
        assert f"{topic}/output/{topic}.pptx" in saved
        assert f"{topic}/output/{other}.pptx" not in saved


@pytest.mark.parametrize("keep", [False, True])
def test_sigterm_ends_a_run_as_ctrl_c_does(
    shell: Shell, control: httpx.Client, tmp_path: Path, keep: bool
) -> None:
    """What a CI timeout sends: the turn is cancelled (M8), the session deleted unless
    kept, and the command exits 143, saying so in one line."""
    args = [POKEE, "run", "Build a deck on tides", "--out", str(tmp_path)]
    run = subprocess.Popen(
        [*args, *(["--keep"] if keep else [])],
        env=shell.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for(lambda: bool(_running_turns(control)), "the turn to start")
        run.send_signal(signal.SIGTERM)
        _, stderr = run.communicate(timeout=30)
    finally:
        run.kill()
    assert run.returncode == 143
    assert stderr.strip().splitlines()[-1] == "pokee: terminated"
    assert "Traceback" not in stderr
    # The cancel is answered before the turn's last event is journaled (M8 ends it next).
    _wait_for(lambda: bool(_journal(control, "turn.end")), "the turn to end")
    (ended,) = _journal(control, "turn.end")
    assert ended["status"] == "cancelled"
    sessions = control.get("/v1/sessions").json()
    assert [s["busy"] for s in sessions] == ([False] if keep else [])


def _journal(control: httpx.Client, kind: str) -> list[dict[str, Any]]:
    return list(control.get(f"/_mock/journal?kind={kind}").json()["entries"])
