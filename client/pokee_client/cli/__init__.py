"""The ``pokee`` command: the cookbook flow and every resource from a shell.

Only the standard library is imported here, so that ``pokee --help`` answers at once; the
client (httpx) and the progress display (rich) are imported by the command that runs.
Every failure ends as one line on stderr and a non-zero exit status, never a traceback:
1 when the call or the turn failed, 2 when the command line or configuration is wrong,
130 on Ctrl-C and 143 on SIGTERM (after a running ``pokee run`` has cancelled its turn and
deleted its session).
With ``--json``, stdout carries one JSON document (JSON lines for ``send``), errors included.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from pokee_client.config import parse_duration


def _duration(text: str) -> int:
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _common() -> argparse.ArgumentParser:
    """Options every command takes, before or after its name. SUPPRESS keeps a
    subcommand's unset option from overwriting the value given before it."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--api", default=argparse.SUPPRESS, help="base URL (env POKEE_API)")
    common.add_argument("--key", default=argparse.SUPPRESS, help="API key (env POKEE_KEY)")
    common.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="machine-readable output"
    )
    return common


def parser() -> argparse.ArgumentParser:
    common = _common()
    top = argparse.ArgumentParser(
        prog="pokee",
        description="The Pokee API from a shell (reference client of mock-pokee).",
        parents=[common],
    )
    top.add_argument("--version", action="version", version=f"pokee {_version()}")
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser(
        "run",
        parents=[common],
        help="the whole flow: session, turn, progress, downloads, clean-up",
        description="Create a session, send MESSAGE, show progress, save the files the turn "
        "wrote under --out, delete the session (unless --keep).",
    )
    run.add_argument("message")
    run.add_argument(
        "--persistent",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="persistent session (default; --no-persistent for one that ends 5 min after idle)",
    )
    run.add_argument("--ttl", type=_duration, help="hard lifetime, e.g. 4h, 90m, 3600")
    run.add_argument("--out", default=".", help="folder for the files (default: here)")
    run.add_argument("--keep", action="store_true", help="keep the session afterwards")
    run.add_argument("--scenario", help="mock-pokee only: force a scenario (X-Mock-Scenario)")

    send = commands.add_parser(
        "send", parents=[common], help="send a message to a session; print events as they come"
    )
    send.add_argument("session")
    send.add_argument("message")
    send.add_argument("--scenario", help="mock-pokee only: force a scenario (X-Mock-Scenario)")

    cancel = commands.add_parser(
        "cancel",
        parents=[common],
        help="cancel a running turn (M8)",
        description="Cancel the turn RESPONSE_ID (the msg_… id a stream names) of SESSION.",
    )
    cancel.add_argument("session")
    cancel.add_argument("response_id")

    respond = commands.add_parser(
        "respond",
        parents=[common],
        help="ask the model once, without a session: stateless responses (R1–R6)",
        description="Send MESSAGE to the stateless responses endpoint (one call of the "
        "model, no session, no files) and print its answer: the text, and a line for each "
        "call the model asks you to make to one of your --tools (the command does not run "
        "them). With --json, the response object (with --stream, each event as a JSON "
        "line). Exits 0 when the response completed, 1 when it failed or was cancelled; "
        "Ctrl-C while streaming cancels the response.",
    )
    respond.add_argument("message", help="what to ask: one user message")
    respond.add_argument(
        "--tools",
        metavar="FILE",
        help='a JSON file listing the function tools the model may ask for: [{"type": '
        '"function", "name": …, "description": …, "parameters": {JSON Schema}}]',
    )
    respond.add_argument("--stream", action="store_true", help="print the answer as it comes")
    respond.add_argument("--model", help="the model to ask (default: the tenant's)")
    respond.add_argument(
        "--reasoning",
        choices=["minimal", "low", "medium", "high"],
        help="how hard the model thinks first; a summary of it is printed before the answer",
    )
    respond.add_argument("--scenario", help="mock-pokee only: force a scenario (X-Mock-Scenario)")

    sessions = commands.add_parser("sessions", parents=[common], help="list, show, delete")
    what = sessions.add_subparsers(dest="action", required=True, metavar="ACTION")
    what.add_parser("list", parents=[common], help="the tenant's sessions, oldest first")
    create = what.add_parser("create", parents=[common], help="create a session (S1)")
    create.add_argument(
        "--persistent",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="survive idleness (default: no, it ends 5 min after its last turn)",
    )
    create.add_argument("--ttl", type=_duration, help="hard lifetime, e.g. 4h, 90m, 3600")
    what.add_parser("show", parents=[common], help="one session's record").add_argument("session")
    what.add_parser("rm", parents=[common], help="delete sessions").add_argument(
        "session", nargs="+"
    )
    clean = what.add_parser(
        "clean",
        parents=[common],
        help="delete sessions by filter (S6)",
        description="Delete the sessions that match: give --status, --older-than or both.",
    )
    clean.add_argument("--status", choices=["idle", "busy", "any"])
    clean.add_argument("--older-than", help="inactive for at least this long: 90s, 5m, 1h30m")

    files = commands.add_parser("files", parents=[common], help="the tenant's workspace")
    verb = files.add_subparsers(dest="action", required=True, metavar="ACTION")
    ls = verb.add_parser("ls", parents=[common], help="list a folder")
    ls.add_argument("session")
    ls.add_argument("path", nargs="?", default="")
    get = verb.add_parser("get", parents=[common], help="download a file (resumes after cuts)")
    get.add_argument("session")
    get.add_argument("path")
    get.add_argument("--out", default=".", help="folder to save it in (default: here)")
    put = verb.add_parser("put", parents=[common], help="upload a file")
    put.add_argument("session")
    put.add_argument("local")
    put.add_argument("path", nargs="?", help="where in the workspace (default: its name)")
    rm = verb.add_parser("rm", parents=[common], help="delete a file")
    rm.add_argument("session")
    rm.add_argument("path")

    skills = commands.add_parser("skills", parents=[common], help="the tenant's skills (K1–K3)")
    kind = skills.add_subparsers(dest="action", required=True, metavar="ACTION")
    install = kind.add_parser(
        "install",
        parents=[common],
        help="install or replace a skill from a folder or a zip",
        description="Install skill NAME from PATH: a folder (zipped here, the same way every "
        "time, with its SKILL.md at the root) or a zip file. A skill of that name is "
        "replaced whole.",
    )
    install.add_argument("name")
    install.add_argument("path")
    kind.add_parser("list", parents=[common], help="the installed skills, by name")
    kind.add_parser("rm", parents=[common], help="uninstall a skill").add_argument("name")

    commands.add_parser("usage", parents=[common], help="turns and tokens used (U1)")
    return top


def _version() -> str:
    from pokee_client import __version__

    return __version__


def main(argv: Sequence[str] | None = None) -> int:
    command = parser()
    args = command.parse_args(argv)
    if getattr(args, "action", None) == "clean" and not (args.status or args.older_than):
        command.error("sessions clean: give --status, --older-than or both (e.g. --status idle)")
    from pokee_client.cli.commands import execute

    try:
        return execute(args)
    except BrokenPipeError:  # `pokee … | head`: the reader left; end quietly
        _silence_stdout()
        return 141  # 128 + SIGPIPE, as a shell reports a pipe's writer that was cut off


def _silence_stdout() -> None:
    """Python would report the broken pipe again when it flushes stdout at exit."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


if __name__ == "__main__":
    sys.exit(main())
