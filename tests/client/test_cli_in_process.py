"""The ``pokee`` command in this process: `pokee_client.cli.main` with a command line, its
stdout and stderr captured, against the test server. tests/client/test_cli.py runs the
installed script in a subprocess, as a user does; these read what each command prints,
line by line, and are the ones mutation testing can see (docs/testing.md).

The tenant's clock is the autojump clock here: a turn that waits on it moves on while the
command reads its stream, and no real time passes (C1)."""

from __future__ import annotations

import io
import itertools
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from mock_pokee.server import ThreadedServer
from pokee_client import PokeeClient, __version__
from pokee_client.cli.live import Lines, Live, Silent, display_for
from pokee_client.cli.output import Output
from pokee_client.progress import Progress
from pokee_client.signals import Terminated
from tests.client.flaky import RESPONSE_ID, SESSION_ID, frame, session_record
from tests.client.helpers import Cli, Done
from tests.client.hostile import Hostile, Reply, Seen

QUICK = "Here is a quick answer from mock-pokee to: "


@pytest.fixture
def cli(
    mock: ThreadedServer,
    key: str,
    control: httpx.Client,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Cli:
    monkeypatch.setenv("POKEE_API", mock.url)
    monkeypatch.setenv("POKEE_KEY", key)
    monkeypatch.setenv("COLUMNS", "200")  # argparse's help on one line per option
    control.put("/_mock/clock", json={"mode": "autojump"})
    return Cli(capsys)


def utc(epoch: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(epoch))


def error_line(done: Done) -> str:
    (line,) = done.err.splitlines()
    assert line.startswith("pokee: error: "), line
    return line.removeprefix("pokee: error: ")


# -- the command line ------------------------------------------------------------------------

HELP: dict[tuple[str, ...], list[str]] = {
    (): [
        "usage: pokee [-h] [--api API] [--key KEY] [--json]",
        "COMMAND ...",
        "The Pokee API from a shell (reference client of mock-pokee).",
        "--api API base URL (env POKEE_API)",
        "--key KEY API key (env POKEE_KEY)",
        "--json machine-readable output",
        "run the whole flow: session, turn, progress, downloads, clean-up",
        "send send a message to a session; print events as they come",
        "sessions list, show, delete",
        "files the tenant's workspace",
        "usage turns and tokens used (U1)",
        "cancel cancel a running turn (M8)",
        "respond ask the model once, without a session: stateless responses (R1–R6)",
        "--version show program's version number and exit",
    ],
    ("cancel",): [
        "usage: pokee cancel [-h] [--api API] [--key KEY] [--json] session response_id",
        "Cancel the turn RESPONSE_ID (the msg_… id a stream names) of SESSION.",
    ],
    ("run",): [
        "usage: pokee run [-h] [--api API] [--key KEY] [--json] [--persistent | --no-persistent]"
        " [--ttl TTL] [--out OUT] [--keep] [--scenario SCENARIO] message",
        "Create a session, send MESSAGE, show progress, save the files the turn wrote under "
        "--out, delete the session (unless --keep).",
        "--persistent, --no-persistent persistent session (default; --no-persistent for one "
        "that ends 5 min after idle)",
        "--ttl TTL hard lifetime, e.g. 4h, 90m, 3600",
        "--out OUT folder for the files (default: here)",
        "--keep keep the session afterwards",
        "--scenario SCENARIO mock-pokee only: force a scenario (X-Mock-Scenario)",
    ],
    ("send",): [
        "usage: pokee send [-h] [--api API] [--key KEY] [--json] [--scenario SCENARIO] "
        "session message",
        "--scenario SCENARIO mock-pokee only: force a scenario (X-Mock-Scenario)",
    ],
    ("sessions",): [
        "usage: pokee sessions [-h] [--api API] [--key KEY] [--json] ACTION ...",
        "list the tenant's sessions, oldest first",
        "create create a session (S1)",
        "show one session's record",
        "rm delete sessions",
        "clean delete sessions by filter (S6)",
    ],
    ("sessions", "create"): [
        "--persistent, --no-persistent survive idleness (default: no, it ends 5 min after its "
        "last turn)",
        "--ttl TTL hard lifetime, e.g. 4h, 90m, 3600",
    ],
    ("sessions", "rm"): [
        "usage: pokee sessions rm [-h] [--api API] [--key KEY] [--json] session [session ...]"
    ],
    ("sessions", "clean"): [
        "Delete the sessions that match: give --status, --older-than or both.",
        "--status {idle,busy,any}",
        "--older-than OLDER_THAN inactive for at least this long: 90s, 5m, 1h30m",
    ],
    ("files",): [
        "usage: pokee files [-h] [--api API] [--key KEY] [--json] ACTION ...",
        "ls list a folder",
        "get download a file (resumes after cuts)",
        "put upload a file",
        "rm delete a file",
    ],
    ("files", "ls"): ["usage: pokee files ls [-h] [--api API] [--key KEY] [--json] session [path]"],
    ("files", "get"): ["--out OUT folder to save it in (default: here)"],
    ("files", "put"): [
        "usage: pokee files put [-h] [--api API] [--key KEY] [--json] session local [path]",
        "path where in the workspace (default: its name)",
    ],
}


@pytest.mark.parametrize("command", sorted(HELP), ids=" ".join)
def test_the_help_of_each_command_names_its_options(cli: Cli, command: tuple[str, ...]) -> None:
    done = cli(*command, "--help")
    assert done.status == 0
    flat = " " + " ".join(done.out.split()) + " "
    for expected in HELP[command]:
        assert f" {expected} " in flat


def test_options_may_come_before_or_after_the_command(
    cli: Cli, mock: ThreadedServer, key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("POKEE_API")
    monkeypatch.delenv("POKEE_KEY")
    before = cli("--api", mock.url, "--key", key, "--json", "sessions", "list")
    after = cli("sessions", "list", "--api", mock.url, "--key", key, "--json")
    assert (before.status, before.json()) == (after.status, after.json()) == (0, [])


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (("run", "hello", "--ttl", "soon"), "argument --ttl: 'soon' is not a duration like 90s"),
        (("sessions",), "the following arguments are required: ACTION"),
        (("files", "ls"), "the following arguments are required: session"),
        (("sessions", "clean", "--status", "gone"), "argument --status: invalid choice: 'gone'"),
        ((), "the following arguments are required: COMMAND"),
    ],
)
def test_a_bad_command_line_exits_2_with_argparses_usage(
    cli: Cli, args: tuple[str, ...], complaint: str
) -> None:
    done = cli(*args)
    assert done.status == 2
    assert done.out == ""
    assert complaint in done.err


# -- run -------------------------------------------------------------------------------------


def test_run_in_json_reports_the_whole_outcome(cli: Cli, control: httpx.Client) -> None:
    result = cli.json("run", "hello there")
    session_id, response_id, usage = (
        result.pop("session_id"),
        result.pop("response_id"),
        result.pop("usage"),
    )
    assert session_id.startswith("sess_")
    assert response_id.startswith("msg_")
    assert set(usage) == {"input_tokens", "output_tokens"}
    assert result == {
        "status": "completed",
        "error": None,
        "kept": False,
        "files": [],
        "unattributed": [],
        "metadata": {},
        "events": 11,
        "resumes": 0,
        "polled": False,
        "text": QUICK + "hello there",
    }
    assert control.get("/v1/sessions").json() == []  # deleted afterwards


def test_run_prints_progress_the_answer_and_the_files_it_saved(
    cli: Cli, control: httpx.Client, tmp_path: Path
) -> None:
    """On a pipe, progress is a plain line per change of phase, status or tool."""
    done = cli("run", "Build a deck on tides", "--out", str(tmp_path), "--keep")
    assert done.status == 0, done.err
    assert done.err == ""
    (session,) = control.get("/v1/sessions").json()
    deck = tmp_path / "output" / "tides.pptx"
    assert deck.read_bytes()[:2] == b"PK"
    lines = done.lines
    assert lines[0] == "starting"
    assert lines[-4:] == [
        "done  status=completed",
        "Your deck on tides is ready: output/tides.pptx.",
        f"saved: {deck}",
        f"session kept: {session['id']}",
    ]
    progress = lines[1:-3]
    for expected in (
        "running",
        "running  tool=web_search",
        "running  tool=write_file",
        "downloading  status=completed  file=output/tides.pptx",
    ):
        assert expected in progress
    assert all(a != b for a, b in itertools.pairwise(progress))  # changes only
    assert session["persistent"] is True


@pytest.mark.parametrize(
    ("options", "persistent", "ttl"),
    [((), True, 14400), (("--no-persistent", "--ttl", "10m"), False, 600)],
)
def test_run_creates_the_session_it_is_told_to(
    cli: Cli,
    control: httpx.Client,
    tmp_path: Path,
    options: tuple[str, ...],
    persistent: bool,
    ttl: int,
) -> None:
    result = cli.json("run", "hello", "--keep", "--out", str(tmp_path), *options)
    (session,) = control.get("/v1/sessions").json()
    assert (result["session_id"], result["kept"]) == (session["id"], True)
    assert (session["persistent"], session["ttl"]) == (persistent, ttl)


def test_run_in_the_current_folder_by_default(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = cli.json("run", "Build a deck on waves")
    assert result["files"] == ["output/waves.pptx"]
    assert (tmp_path / "output" / "waves.pptx").exists()


def test_a_failed_turn_exits_1_with_one_line(cli: Cli) -> None:
    done = cli("run", "hello", "--scenario", "turn-error")
    assert done.status == 1
    assert error_line(done) == "the turn failed: upstream_model_error"
    as_json = cli("run", "hello", "--scenario", "turn-error", "--json")
    assert as_json.status == 1
    result = as_json.json()
    assert (result["status"], result["error"]) == ("error", "upstream_model_error")


def test_a_file_changed_by_another_session_is_named_not_saved(
    cli: Cli, control: httpx.Client, tmp_path: Path
) -> None:
    """F1: the key's workspace is shared; a file that changed during the turn but that no
    event of it named is left where it is, and the command says so."""
    other = control.post("/v1/sessions", json={}).json()["id"]
    stream = control.stream(
        "POST",
        f"/v1/sessions/{other}/messages",
        json={"message": "Build a deck on waves"},
        headers={"X-Mock-Scenario": "presentation"},
    )
    with stream as running:
        next(running.iter_lines())  # started: its turn writes output/waves.pptx in time
        done = cli("run", "Build a deck on tides", "--out", str(tmp_path))
    assert done.status == 0, done.err
    assert f"saved: {tmp_path / 'output' / 'tides.pptx'}" in done.lines
    assert done.err.splitlines() == [
        "pokee: 1 other file(s) changed in the workspace during the turn, but no event of "
        "this turn named them (another session's?), so they were not saved: "
        "output/waves.pptx"
    ]
    assert not (tmp_path / "output" / "waves.pptx").exists()


# -- errors ----------------------------------------------------------------------------------


def test_a_missing_key_is_a_configuration_error(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("POKEE_KEY")
    done = cli("run", "hello", "--out", str(tmp_path / "out"))
    assert done.status == 2
    assert error_line(done) == "no API key: set POKEE_KEY (or pass --key, or api_key=)"
    as_json = cli("usage", "--json")
    assert as_json.status == 2
    assert as_json.json() == {
        "error": "configuration",
        "message": "no API key: set POKEE_KEY (or pass --key, or api_key=)",
        "status": None,
    }
    assert not (tmp_path / "out").exists()


def test_an_api_error_names_its_code_and_status(cli: Cli, control: httpx.Client) -> None:
    done = cli("run", "hello", "--scenario", "no-such-scenario", "--json")
    assert done.status == 1
    answer = done.json()
    assert (answer["error"], answer["status"]) == ("invalid_request", 400)
    assert "'no-such-scenario'" in answer["message"]
    assert error_line(done) == answer["message"]
    assert error_line(done).startswith("invalid_request (400): ")
    assert control.get("/v1/sessions").json() == []


def test_a_file_command_names_the_path_as_typed(cli: Cli, control: httpx.Client) -> None:
    scoped = {"file_access": {"read": ["output"], "write": ["output"]}}
    session = control.post("/v1/sessions", json=scoped).json()["id"]
    done = cli("files", "get", session, "secrets.txt", "--json")
    assert done.status == 1
    assert done.json()["error"] == "forbidden_path"
    assert error_line(done).startswith("'secrets.txt': forbidden_path (403): ")
    missing = cli("files", "rm", session, "output/here.txt")
    assert error_line(missing).startswith("'output/here.txt': not_found (404): ")
    listing = cli("files", "ls", session, "output/nothing")
    assert error_line(listing).startswith("'output/nothing': not_found (404): ")
    other = cli("sessions", "show", "sess_000000000000")
    assert error_line(other).startswith("not_found (404): ")


def test_a_local_file_that_cannot_be_read_is_one_line(
    cli: Cli, control: httpx.Client, tmp_path: Path
) -> None:
    session = control.post("/v1/sessions", json={}).json()["id"]
    missing = tmp_path / "missing.txt"
    done = cli("files", "put", session, str(missing), "--json")
    assert done.status == 1
    assert done.json() == {
        "error": "local_file",
        "message": f"{missing}: No such file or directory",
        "status": None,
    }
    assert error_line(done) == f"{missing}: No such file or directory"


def stub(control: httpx.Client, path: str, **answer: Any) -> None:
    """C5: the mock answers ``path`` with this instead."""
    rule = {"fault": {"type": "respond", **answer}, "match": {"path": path}}
    assert control.post("/_mock/faults", json=rule).status_code == 201


def test_a_protocol_error_is_named_by_its_kind(cli: Cli, control: httpx.Client) -> None:
    stub(control, "/v1/usage", status=200, body="not json")
    done = cli("usage", "--json")
    assert done.status == 1
    assert done.json() == {
        "error": "protocol",
        "message": "GET /v1/usage: the answer is not JSON",
        "status": None,
    }
    assert error_line(done) == "GET /v1/usage: the answer is not JSON"


def test_a_long_error_message_is_cut_to_one_short_line(cli: Cli) -> None:
    """Past 1000 characters the line is cut and the rest counted; the JSON document keeps
    the whole message."""
    url = "ftp://" + "x" * 3000
    done = cli("usage", "--api", url, "--json")
    assert done.status == 2
    whole = f"API base URL {url!r}: must start with http:// or https://"
    assert done.json()["message"] == whole
    assert error_line(done) == f"{whole[:1000]}… ({len(whole) - 1000} more characters)"
    fits = "ftp://" + "x" * (1000 - len(whole) + 3000)
    assert len(error_line(cli("usage", "--api", fits))) == 1000


@pytest.mark.parametrize(
    ("raised", "status", "said"),
    [(KeyboardInterrupt, 130, "pokee: interrupted"), (Terminated, 143, "pokee: terminated")],
)
def test_an_interrupted_command_exits_with_the_signals_status(
    cli: Cli,
    monkeypatch: pytest.MonkeyPatch,
    raised: type[BaseException],
    status: int,
    said: str,
) -> None:
    def interrupted(self: PokeeClient) -> None:
        raise raised()

    monkeypatch.setattr(PokeeClient, "usage", interrupted)
    done = cli("usage")
    assert (done.status, done.out, done.err) == (status, "", said + "\n")


# -- sessions --------------------------------------------------------------------------------


def test_sessions_create_show_and_list(cli: Cli, control: httpx.Client) -> None:
    created = cli("sessions", "create", "--persistent", "--ttl", "1h")
    assert created.status == 0
    (record,) = control.get("/v1/sessions").json()
    assert (record["persistent"], record["ttl"]) == (True, 3600)
    shown = [
        f"id             {record['id']}",
        "busy           false",
        "persistent     true  (ttl 3600 s)",
        f"created        {utc(record['created_at'])}",
        f"last activity  {utc(record['last_activity'])}",
    ]
    assert created.lines == shown
    assert cli("sessions", "show", record["id"]).lines == shown
    assert cli("sessions", "list").lines == [
        f"{record['id']}  idle  persistent  last active {utc(record['last_activity'])}"
    ]
    assert cli.json("sessions", "show", record["id"]) == {
        **{k: record[k] for k in ("id", "busy", "persistent", "ttl", "status", "metadata")},
        "created_at": record["created_at"],
        "last_activity": record["last_activity"],
        "file_access": {
            "read": record["file_access"]["read"],
            "write": record["file_access"]["write"],
        },
        "model": None,
    }
    (listed,) = cli.json("sessions", "list")
    assert listed["id"] == record["id"]


def test_a_temporary_session_with_a_model_and_metadata(cli: Cli, control: httpx.Client) -> None:
    model = "pokee-isaac-high-reasoning"
    body = {"model": model, "metadata": {"task_status": "drafting", "owner": "ci"}}
    record = control.post("/v1/sessions", json=body).json()
    shown = cli("sessions", "show", record["id"]).lines
    assert shown[2] == f"persistent     false  (ttl {record['ttl']} s)"
    assert shown[5:] == [
        f"model          {model}",
        "metadata       task_status = drafting",
        "metadata       owner = ci",
    ]
    assert cli("sessions", "list").lines == [
        f"{record['id']}  idle  temporary   last active {utc(record['last_activity'])}"
        "  task_status=drafting"
    ]
    created = cli.json("sessions", "create")
    assert (created["persistent"], created["model"]) == (False, None)


def test_a_busy_session_is_listed_busy(cli: Cli, control: httpx.Client) -> None:
    control.put("/_mock/clock", json={"mode": "virtual"})  # the turn waits for the test
    session = control.post("/v1/sessions", json={"persistent": True}).json()["id"]
    with control.stream(
        "POST",
        f"/v1/sessions/{session}/messages",
        json={"message": "Build a deck on rivers"},
        headers={"X-Mock-Scenario": "presentation"},
    ) as running:
        next(running.iter_lines())
        (line,) = cli("sessions", "list").lines
        assert line.startswith(f"{session}  busy  persistent  last active ")
        refused = cli("send", session, "another")
        assert refused.status == 1
        assert error_line(refused).startswith("session_busy (409): ")


def test_sessions_rm_and_clean(cli: Cli, control: httpx.Client) -> None:
    made = [control.post("/v1/sessions", json={}).json()["id"] for _ in range(4)]
    assert cli("sessions", "rm", made[0], made[1]).lines == [
        f"deleted {made[0]}",
        f"deleted {made[1]}",
    ]
    assert cli.json("sessions", "rm", made[2]) == {"deleted": [made[2]]}
    assert cli("sessions", "clean", "--status", "busy").lines == ["deleted 0 sessions"]
    assert cli("sessions", "clean", "--status", "idle", "--older-than", "0s").lines == [
        "deleted 1 session"
    ]
    more = [control.post("/v1/sessions", json={}).json()["id"] for _ in range(2)]
    assert len(more) == 2
    assert cli("sessions", "clean", "--older-than", "0s").lines == ["deleted 2 sessions"]
    assert cli.json("sessions", "clean", "--status", "any") == {"deleted": 0}
    assert control.get("/v1/sessions").json() == []


# -- files -----------------------------------------------------------------------------------


def test_files_put_ls_get_and_rm(cli: Cli, control: httpx.Client, tmp_path: Path) -> None:
    session = control.post("/v1/sessions", json={}).json()["id"]
    local = tmp_path / "notes.txt"
    local.write_text("some notes")
    assert cli("files", "put", session, str(local), "docs/notes.txt").lines == [
        "uploaded docs/notes.txt (10 bytes)"
    ]
    assert cli("files", "put", session, str(local)).lines == ["uploaded notes.txt (10 bytes)"]
    stored = cli.json("files", "put", session, str(local), "docs/again.txt")
    assert (stored["path"], stored["size"]) == ("docs/again.txt", 10)

    listing = control.get(f"/v1/sessions/{session}/files", params={"path": "docs"}).json()
    modified = {entry["name"]: utc(entry["modified"]) for entry in listing}
    assert cli("files", "ls", session, "docs").lines == [
        f"        10  {modified['again.txt']}  again.txt",
        f"        10  {modified['notes.txt']}  notes.txt",
    ]
    root = control.get(f"/v1/sessions/{session}/files").json()
    folder = next(entry for entry in root if entry["name"] == "docs")
    assert f"         -  {utc(folder['modified'])}  docs/" in cli("files", "ls", session).lines
    as_json = cli.json("files", "ls", session, "docs")
    assert [(e["name"], e["type"], e["size"]) for e in as_json] == [
        ("again.txt", "file", 10),
        ("notes.txt", "file", 10),
    ]

    into = tmp_path / "dl"
    into.mkdir()
    got = cli("files", "get", session, "docs/notes.txt", "--out", str(into))
    assert got.lines == [f"saved: {into / 'notes.txt'}"]
    assert (into / "notes.txt").read_text() == "some notes"
    again = cli.json("files", "get", session, "docs/again.txt", "--out", str(into))
    assert again == {"path": "docs/again.txt", "saved": str(into / "again.txt"), "size": 10}

    assert cli("files", "rm", session, "docs/notes.txt").lines == ["deleted docs/notes.txt"]
    assert cli.json("files", "rm", session, "docs/again.txt") == {"deleted": "docs/again.txt"}
    assert cli.json("files", "ls", session, "docs") == []


def test_files_get_saves_in_the_current_folder_by_default(
    cli: Cli, control: httpx.Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = control.post("/v1/sessions", json={}).json()["id"]
    control.put(f"/v1/sessions/{session}/files/a/b.txt", content=b"bee")
    monkeypatch.chdir(tmp_path)
    assert cli("files", "get", session, "a/b.txt").lines == ["saved: b.txt"]
    assert (tmp_path / "b.txt").read_bytes() == b"bee"


# -- send and usage --------------------------------------------------------------------------


def test_send_prints_each_event_on_a_line(cli: Cli, control: httpx.Client) -> None:
    session = control.post("/v1/sessions", json={}).json()["id"]
    done = cli("send", session, "hi")
    assert done.status == 0, done.err
    lines = done.lines
    assert lines[1:9] == [
        "    1  text.start",
        "    2  text.delta             'Here is '",
        "    3  text.delta             'a quick '",
        "    4  text.delta             'answer f'",
        "    5  text.delta             'rom mock'",
        "    6  text.delta             '-pokee t'",
        "    7  text.delta             'o: hi'",
        "    8  text.stop",
    ]
    assert lines[0].startswith("    0  message.created        id=msg_")
    assert lines[0].endswith(f" session_id={session} status=in_progress")
    assert lines[9].startswith("    9  message.completed      id=msg_")
    assert lines[9].endswith(" status=completed usage={'input_tokens': 1, 'output_tokens': 11}")
    assert "sequence_number" not in done.out


def test_send_in_json_is_a_document_per_event(cli: Cli, control: httpx.Client) -> None:
    session = control.post("/v1/sessions", json={}).json()["id"]
    done = cli("send", session, "hi", "--json", "--scenario", "quick-answer")
    assert done.status == 0
    events = [json.loads(line) for line in done.lines]
    assert [e["seq"] for e in events] == list(range(10))
    assert [set(e) for e in events] == [{"seq", "type", "data"}] * 10
    assert events[2] == {
        "seq": 2,
        "type": "text.delta",
        "data": {"content": "Here is ", "sequence_number": 2},
    }
    assert events[-1]["type"] == "message.completed"


def test_a_failed_send_exits_1(cli: Cli, control: httpx.Client) -> None:
    session = control.post("/v1/sessions", json={}).json()["id"]
    done = cli("send", session, "hi", "--scenario", "turn-error")
    assert done.status == 1
    assert error_line(done) == "the turn failed: upstream_model_error"


def test_usage_prints_each_window_and_the_credits(cli: Cli, control: httpx.Client) -> None:
    assert cli("usage").lines == [
        "hour  turns 0/300  tokens 0/20,000,000",
        "day   turns 0/5000  tokens 0/200,000,000",
        "credits enabled, soft, balance 100,000.00",
    ]
    control.put("/_mock/credits", json={"enabled": False, "balance": 1234.5})
    assert cli("usage").lines[-1] == "credits disabled, soft, balance 1,234.50"
    report = cli.json("usage")
    assert [w["name"] for w in report["session_turn"]] == ["hour", "day"]
    assert report["credits"] == {"enabled": False, "mode": "soft", "balance": 1234.5}


# -- the progress display and the output -----------------------------------------------------


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def screen(monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    """What rich draws, as a terminal of 160 columns without colours would get it."""
    import rich
    import rich.console

    drawn = io.StringIO()
    console = rich.console.Console(file=drawn, force_terminal=True, width=160, color_system=None)
    monkeypatch.setattr(rich, "_console", console)
    return drawn


def test_on_a_terminal_progress_is_drawn_live(screen: io.StringIO) -> None:
    with Live() as live:
        pass
    assert "starting" in screen.getvalue()
    assert "0 events" in screen.getvalue()
    with Live() as live:
        live.update(
            Progress(phase="running", status="[reverse]drafting\x1b", tool="search", events=7)
        )
    drawn = screen.getvalue()
    assert "running" in drawn
    assert "status: [reverse]drafting\\x1b" in drawn  # inert, and the markup shown
    assert "tool: search" in drawn
    assert "7 events" in drawn
    with Live() as live:
        live.update(Progress(phase="downloading", file="output/a.pptx", events=9))
    assert "downloading output/a.pptx" in screen.getvalue()


def test_the_display_suits_where_stdout_goes(monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(display_for(Output(as_json=True)), Silent)
    assert isinstance(display_for(Output(as_json=False, out=io.StringIO())), Lines)
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    assert isinstance(display_for(Output(as_json=False)), Lines)  # a pipe or a file
    monkeypatch.setattr(sys, "stdout", Terminal())
    assert isinstance(display_for(Output(as_json=False)), Live)
    assert isinstance(display_for(Output(as_json=False, out=Terminal())), Lines)


def test_plain_lines_report_each_change_once() -> None:
    out = io.StringIO()
    lines = Lines(Output(as_json=False, out=out))
    with lines:
        lines.update(Progress(phase="running", events=1))
        lines.update(Progress(phase="running", events=2))  # only the count changed
        lines.update(Progress(phase="running", status="drafting\x07", tool="search", events=3))
        lines.update(Progress(phase="downloading", status="done", file="output/a.pptx"))
    assert out.getvalue().splitlines() == [
        "running",
        "running  status=drafting\\x07  tool=search",
        "downloading  status=done  file=output/a.pptx",
    ]
    with Silent() as silent:
        silent.update(Progress())


def test_output_keeps_lines_only_where_text_has_them() -> None:
    out, err = io.StringIO(), io.StringIO()
    output = Output(as_json=False, out=out, err=err)
    output.line("one\r\ntwo\x1b[2J", lines=True)
    output.line("one\ntwo")
    output.note("careful\x9b")
    assert out.getvalue() == "one\ntwo\\x1b[2J\none\\x0atwo\n"
    assert err.getvalue() == "pokee: careful\\x9b\n"


def test_json_output_is_plain_json_and_inert() -> None:
    out = io.StringIO()
    output = Output(as_json=True, out=out)
    output.document(
        {
            "when": math.inf,
            "where": Path("a/b"),
            "pair": ("x", 1.5),
            "nested": {1: {"deep": [math.nan, "\x85\u202e"]}},
        }
    )
    text = out.getvalue()
    assert "\x85" not in text
    assert "\\u0085\\u202e" in text
    assert json.loads(text) == {
        "when": None,
        "where": "a/b",
        "pair": ["x", 1.5],
        "nested": {"1": {"deep": [None, "\x85\u202e"]}},
    }


# -- what a newcomer meets -------------------------------------------------------------------


def test_version(cli: Cli) -> None:
    done = cli("--version")
    assert (done.status, done.out) == (0, f"pokee {__version__}\n")


def test_cancel_a_running_turn_then_again(cli: Cli, control: httpx.Client) -> None:
    control.put("/_mock/clock", json={"mode": "virtual"})  # the deck waits at its first pause
    session = control.post("/v1/sessions", json={"persistent": True}).json()["id"]
    with control.stream(
        "POST", f"/v1/sessions/{session}/messages", json={"message": "Build a deck on tides"}
    ) as turn:
        response = turn.headers["x-response-id"]
    assert cli("cancel", session, response).lines == [
        f"{response}: cancelling (its stream ends with message.cancelled)"
    ]
    assert cli("cancel", session, response).lines == [f"{response} had already ended"]
    assert cli.json("cancel", session, response) == {
        "response_id": response,
        "status": "already_complete",
    }


def test_empty_answers_say_so(cli: Cli, control: httpx.Client) -> None:
    assert cli("sessions", "list").lines == ["no sessions"]
    session = control.post("/v1/sessions", json={}).json()["id"]
    assert cli("files", "ls", session).lines == ["the workspace: empty"]
    control.put(f"/v1/sessions/{session}/files/docs/a.txt", content=b"a")
    control.delete(f"/v1/sessions/{session}/files/docs/a.txt")
    assert cli("files", "ls", session, "docs").lines == ["docs: empty"]
    assert cli.json("files", "ls", session, "docs") == []


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("/output/a.txt", "a workspace path is relative (no leading /), e.g. output/deck.pptx"),
        ("output\\a.txt", "a workspace path is separated by /, not \\"),
        ("output/../a.txt", "a workspace path cannot go up or stay put ('..', '.'); name the"),
        ("./a.txt", "a workspace path cannot go up or stay put"),
    ],
)
def test_a_workspace_path_is_checked_as_typed(
    cli: Cli, control: httpx.Client, path: str, problem: str
) -> None:
    session = control.post("/v1/sessions", json={}).json()["id"]
    for args in (("get", session, path), ("rm", session, path), ("ls", session, path)):
        done = cli("files", *args)
        assert done.status == 2
        assert error_line(done).startswith(f"{path!r}: {problem}")
    as_json = cli("files", "rm", session, path, "--json")
    assert (as_json.status, as_json.json()["error"]) == (2, "invalid_path")
    assert requests_of(control, "DELETE") == []


def requests_of(control: httpx.Client, method: str) -> list[Any]:
    params = {"kind": "request", "method": method}
    entries: list[Any] = control.get("/_mock/journal", params=params).json()["entries"]
    return entries


def test_sessions_clean_needs_a_filter(cli: Cli, control: httpx.Client) -> None:
    control.post("/v1/sessions", json={})
    done = cli("sessions", "clean")
    assert done.status == 2
    assert "sessions clean: give --status, --older-than or both (e.g. --status idle)" in done.err
    assert len(control.get("/v1/sessions").json()) == 1


@pytest.mark.parametrize("json_output", [True, False], ids=["json", "text"])
def test_a_closed_pipe_ends_quietly(
    cli: Cli,
    control: httpx.Client,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    json_output: bool,
) -> None:
    """``pokee sessions list [--json] | head -c 1``: the reader leaves; exit 141, nothing
    more said."""

    class Cut(io.StringIO):
        def __init__(self, fd: int):
            super().__init__()
            self.fd = fd

        def write(self, text: str) -> int:
            raise BrokenPipeError

        def fileno(self) -> int:
            return self.fd

    control.post("/v1/sessions", json={})
    with (tmp_path / "stdout").open("wb") as where:
        monkeypatch.setattr(sys, "stdout", Cut(where.fileno()))
        done = cli("sessions", "list", *(["--json"] if json_output else []))
        os.write(where.fileno(), b"after")  # stdout now goes nowhere
    assert (done.status, done.err) == (141, "")
    assert (tmp_path / "stdout").read_bytes() == b""


def test_the_live_display_clears_itself_when_done(screen: io.StringIO) -> None:
    """What follows it (the answer, the saved files) starts on a clean screen."""
    with Live():
        pass
    assert screen.getvalue().endswith("\x1b[2K")  # its line erased


def test_run_prints_an_answer_of_many_lines_inert(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A turn's answer keeps its line breaks (and only those: control characters in it are
    shown, not obeyed)."""
    log: list[tuple[str, dict[str, Any]]] = [
        ("message.created", {"id": RESPONSE_ID, "session_id": SESSION_ID}),
        ("text.delta", {"content": "first line\r\nsecond \x1b[2J"}),
        ("text.delta", {"content": "line\nthird"}),
        ("message.completed", {"id": RESPONSE_ID, "usage": {}}),
    ]

    def turn(seen: Seen, reply: Reply) -> None:
        reply.events_head(RESPONSE_ID)
        for seq, (type_, data) in enumerate(log):
            reply.send(frame(seq, type_, data))

    with Hostile().serving() as server:
        server.route("POST", "/v1/sessions", lambda s, r: r.json(201, session_record()))
        server.route("GET", r"/v1/sessions/[^/]+/files", lambda s, r: r.json(200, []))
        server.route("POST", r"/v1/sessions/[^/]+/messages", turn)
        server.route("GET", r"/v1/sessions/[^/]+", lambda s, r: r.json(200, session_record()))
        server.route("DELETE", r"/v1/sessions/[^/]+", lambda s, r: r.head(204))
        monkeypatch.setenv("POKEE_API", server.url)
        done = cli("run", "hello", "--out", str(tmp_path))
    assert done.status == 0, done.err
    assert done.lines[-3:] == ["first line", "second \\x1b[2Jline", "third"]


def test_json_output_keeps_text_readable() -> None:
    """Only what a terminal would act on is escaped: other text stays as it is."""
    out = io.StringIO()
    Output(as_json=True, out=out).document({"name": "café ✓ 東京"})
    assert out.getvalue() == '{"name": "café ✓ 東京"}\n'


def test_a_local_error_without_a_file_is_its_reason_alone() -> None:
    err = io.StringIO()
    output = Output(as_json=False, out=io.StringIO(), err=err)
    assert output.failure(OSError(5, "Input/output error")) == 1
    assert output.failure(OSError(2, "No such file", "a.txt")) == 1
    assert err.getvalue().splitlines() == [
        "pokee: error: Input/output error",
        "pokee: error: a.txt: No such file",
    ]


def test_every_file_not_saved_is_named(cli: Cli, control: httpx.Client, tmp_path: Path) -> None:
    """Two other sessions' decks change during the turn: both are named, comma-separated."""
    running = []
    for topic in ("waves", "rivers"):
        other = control.post("/v1/sessions", json={}).json()["id"]
        stream = control.stream(
            "POST",
            f"/v1/sessions/{other}/messages",
            json={"message": f"Build a deck on {topic}"},
            headers={"X-Mock-Scenario": "presentation"},
        )
        response = stream.__enter__()
        next(response.iter_lines())
        running.append(stream)
    try:
        done = cli("run", "Build a deck on tides", "--out", str(tmp_path))
    finally:
        for stream in running:
            stream.__exit__(None, None, None)
    assert done.status == 0, done.err
    assert done.err.splitlines() == [
        "pokee: 2 other file(s) changed in the workspace during the turn, but no event of "
        "this turn named them (another session's?), so they were not saved: "
        "output/rivers.pptx, output/waves.pptx"
    ]
