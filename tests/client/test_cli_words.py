"""The ``pokee`` command as a newcomer meets it: the commands they reach for, a closed pipe,
a base URL that is not the API, empty answers, and mistakes said in their own words."""

from __future__ import annotations

import subprocess

import httpx
import pytest

from mock_pokee.server import ThreadedServer
from pokee_client import __version__
from tests.client.helpers import POKEE, Shell, one_error_line


@pytest.fixture
def shell(mock: ThreadedServer, key: str) -> Shell:
    return Shell(mock.url, key)


def test_version(shell: Shell) -> None:
    done = shell("--version")
    assert (done.returncode, done.stdout.strip()) == (0, f"pokee {__version__}")


def test_cancel_a_running_turn_then_again(shell: Shell, control: httpx.Client) -> None:
    """M8 from the shell: a deck paused on the virtual clock is cancelled; a second cancel
    finds it ended."""
    sid = shell.json("sessions", "create", "--persistent")["id"]
    with control.stream(
        "POST", f"/v1/sessions/{sid}/messages", json={"message": "Build a deck on tides"}
    ) as turn:
        rid = turn.headers["x-response-id"]
    done = shell("cancel", sid, rid)
    assert done.returncode == 0, done.stderr
    assert "cancelling" in done.stdout
    assert shell.json("cancel", sid, rid) == {"response_id": rid, "status": "already_complete"}
    assert control.get(f"/v1/sessions/{sid}").json()["busy"] is False


def test_empty_lists_say_so(shell: Shell) -> None:
    assert shell("sessions", "list").stdout == "no sessions\n"
    sid = shell.json("sessions", "create")["id"]
    assert shell("files", "ls", sid).stdout == "the workspace: empty\n"
    assert shell.json("sessions", "list")[0]["id"] == sid  # JSON stays JSON


@pytest.mark.parametrize(
    ("args", "mention"),
    [
        (("sessions", "clean"), "give --status, --older-than or both"),
        (("files", "get", "sess_x", "../etc/passwd"), "cannot go up"),
        (("files", "rm", "sess_x", "/etc/passwd"), "no leading /"),
        (("files", "ls", "sess_x", "out\\x"), "separated by /"),
    ],
)
def test_mistakes_are_one_line_in_the_users_words(
    shell: Shell, args: tuple[str, ...], mention: str
) -> None:
    done = shell(*args)
    assert done.returncode == 2
    assert mention in done.stderr
    assert len(done.stderr.strip().splitlines()) <= 2  # argparse's usage line, then ours


def test_deleting_a_folder_says_it_is_a_folder(shell: Shell, control: httpx.Client) -> None:
    sid = shell.json("sessions", "create")["id"]
    control.put(f"/v1/sessions/{sid}/files/out/a.txt", content=b"a")
    done = shell("files", "rm", sid, "out")
    assert done.returncode == 1
    one_error_line(done, "is a folder; only files can be deleted")


def test_a_base_url_that_is_not_the_api_is_one_line(shell: Shell, control: httpx.Client) -> None:
    """A proxy's HTML page (stubbed with C5's respond fault) is named, not printed."""
    page = "<html><head><title>502</title></head><body>" + "<p>gateway</p>" * 500 + "</body>"
    control.post(
        "/_mock/faults",
        json={
            "fault": {
                "type": "respond",
                "status": 502,
                "body": page,
                "headers": {"Content-Type": "text/html"},
            },
            "match": {"path": "/v1/usage"},
        },
    )
    done = shell("usage")
    assert done.returncode == 1
    one_error_line(done, "GET ", "/v1/usage answered 502 with text/html", "is the base URL right")
    assert "<html>" not in done.stderr


def test_a_closed_pipe_ends_quietly(shell: Shell, control: httpx.Client) -> None:
    """`pokee sessions list --json | head -c 20`: no BrokenPipe traceback."""
    for _ in range(10):
        control.post("/v1/sessions", json={})
    listed = subprocess.Popen(
        [POKEE, "sessions", "list", "--json"],
        env=shell.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        bufsize=0,
    )
    assert listed.stdout is not None
    listed.stdout.close()  # the reader left before anything was read
    _, stderr = listed.communicate(timeout=30)
    assert stderr == b""
    assert listed.returncode in (0, 141)
