"""The ``pokee`` commands, each a few lines over `PokeeClient`, and the one place where
errors become exit statuses (see `pokee_client.cli`)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from pokee_client.cli.live import display_for
from pokee_client.cli.output import Output, when
from pokee_client.cli.respond import respond
from pokee_client.errors import PokeeError
from pokee_client.events import Event
from pokee_client.records import Session
from pokee_client.signals import EXIT_STATUS, Terminated
from pokee_client.sync import PokeeClient


def execute(args: argparse.Namespace) -> int:
    output = Output(as_json=getattr(args, "json", False))
    name = args.command if args.command in SINGLE else args.action
    command = COMMANDS[(args.command, name)]
    if args.command == "files" and (problem := _unsafe_path(getattr(args, "path", "") or "")):
        return output.fail(f"{args.path!r}: {problem}", "invalid_path", code=2)
    try:
        with PokeeClient(getattr(args, "api", None), getattr(args, "key", None)) as client:
            return command(client, args, output)
    except KeyboardInterrupt:
        output.note("interrupted")
        return 130
    except Terminated:
        output.note("terminated")
        return EXIT_STATUS
    except BrokenPipeError:  # `pokee … | head`: for `main` to end quietly
        raise
    except (PokeeError, OSError) as exc:
        # A file command names the path as typed: the server's message quotes it as sent.
        where = f"{args.path!r}: " if args.command == "files" and args.path else ""
        return output.failure(exc, where)


def _unsafe_path(path: str) -> str | None:
    """What is wrong with a workspace path as the user typed it, said in their words (the
    server would refuse it too, but in terms of how the client had to send it)."""
    if path.startswith("/"):
        return "a workspace path is relative (no leading /), e.g. output/deck.pptx"
    if "\\" in path:
        return "a workspace path is separated by /, not \\"
    if any(part in (".", "..") for part in path.split("/")):
        return "a workspace path cannot go up or stay put ('..', '.'); name the file itself"
    return None


def run(client: PokeeClient, args: argparse.Namespace, output: Output) -> int:
    with display_for(output) as display:
        result = client.run(
            args.message,
            persistent=args.persistent,
            ttl=args.ttl,
            out=Path(args.out),
            keep=args.keep,
            scenario=args.scenario,
            on_progress=display.update,
        )
    outcome = result.outcome
    if output.as_json:
        output.document(
            {
                "status": outcome.status,
                "error": outcome.error,
                "session_id": result.session.id,
                "response_id": outcome.response_id,
                "kept": result.kept,
                "files": result.files,
                "unattributed": result.unattributed,
                "metadata": result.session.metadata,
                "usage": outcome.usage,
                "events": outcome.events,
                "resumes": outcome.resumes,
                "polled": outcome.polled,
                "text": outcome.text,
            }
        )
    else:
        if outcome.text:
            output.line(outcome.text, lines=True)
        for path in result.files:
            output.line(f"saved: {path}")
        if result.unattributed:
            output.note(
                f"{len(result.unattributed)} other file(s) changed in the workspace during "
                "the turn, but no event of this turn named them (another session's?), so "
                f"they were not saved: {', '.join(result.unattributed)}"
            )
        if result.kept:
            output.line(f"session kept: {result.session.id}")
    return _verdict(output, outcome.status, outcome.error)


# The exit status when the turn ended but its end could not be read (its events were
# evicted before the client saw them): not a success a script may take for granted.
UNCONFIRMED = 3


def _verdict(output: Output, status: str, error: str | None) -> int:
    """The exit status of a turn's outcome, with one line on stderr unless it completed."""
    if status == "completed":
        return 0
    if status == "unknown":
        output.error_line(
            "the turn ended, but the server no longer kept its last events, so whether it "
            "completed is unknown; its metadata and files were read instead"
        )
        return UNCONFIRMED
    output.error_line(
        f"the turn failed: {error}" if status == "error" else "the turn was cancelled"
    )
    return 1


def send(client: PokeeClient, args: argparse.Namespace, output: Output) -> int:
    with client.messages.stream(args.session, args.message, scenario=args.scenario) as stream:
        for event in stream:
            if output.as_json:
                output.document({"seq": event.seq, "type": event.type, "data": event.data})
            else:
                output.line(f"{event.seq:>5}  {event.type:<22} {_summary(event)}".rstrip())
    assert stream.outcome is not None
    return _verdict(output, stream.outcome.status, stream.outcome.error)


def _summary(event: Event) -> str:
    data = dict(event.data)
    data.pop("sequence_number", None)
    if "content" in data:
        return repr(data["content"])
    return " ".join(f"{k}={v}" for k, v in data.items())


def cancel(client: PokeeClient, args: argparse.Namespace, output: Output) -> int:
    status = client.messages.cancel(args.session, args.response_id)
    if output.as_json:
        output.document({"response_id": args.response_id, "status": status})
    elif status == "already_complete":
        output.line(f"{args.response_id} had already ended")
    else:
        output.line(f"{args.response_id}: cancelling (its stream ends with message.cancelled)")
    return 0


def sessions_list(client: PokeeClient, args: argparse.Namespace, output: Output) -> int:
    sessions = client.sessions.list()
    if output.as_json:
        output.document(sessions)
    if not sessions and not output.as_json:
        output.line("no sessions")
    for session in [] if output.as_json else sessions:
        life = "persistent" if session.persistent else "temporary"
        state = "busy" if session.busy else "idle"
        status = " ".join(f"{k}={v}" for k, v in session.metadata.items() if "status" in k)
        output.line(
            f"{session.id}  {state:<4}  {life:<10}  last active {when(session.last_activity)}"
            f"  {status}".rstrip()
        )
    return 0


def sessions_create(client: PokeeClient, args: argparse.Namespace, output: Output) -> int:
    session = client.sessions.create(persistent=args.persistent, ttl=args.ttl)
    return _show_session(session, output)


def sessions_show(client: PokeeClient, args: argparse.Namespace, output: Output) -> int:
    return _show_session(client.sessions.get(args.session), output)


def _show_session(session: Session, output: Output) -> int:
    if output.as_json:
        output.document(session)
        return 0
    output.line(f"id             {session.id}")
    output.line(f"busy           {str(session.busy).lower()}")
    output.line(f"persistent     {str(session.persistent).lower()}  (ttl {session.ttl} s)")
    output.line(f"created        {when(session.created_at)}")
    output.line(f"last activity  {when(session.last_activity)}")
    if session.model:
        output.line(f"model          {session.model}")
    for key, value in session.metadata.items():
        output.line(f"metadata       {key} = {value}")
    return 0


def sessions_rm(client: PokeeClient, args: argparse.Namespace, output: Output) -> int:
    for session_id in args.session:
        client.sessions.delete(session_id)
        if not output.as_json:
            output.line(f"deleted {session_id}")
    if output.as_json:
        output.document({"deleted": args.session})
    return 0


def sessions_clean(client: PokeeClient, args: argparse.Namespace, output: Output) -> int:
    deleted = client.sessions.delete_many(status=args.status, older_than=args.older_than)
    if output.as_json:
        output.document({"deleted": deleted})
    else:
        output.line(f"deleted {deleted} session{'s' if deleted != 1 else ''}")
    return 0


def files_ls(client: PokeeClient, args: argparse.Namespace, output: Output) -> int:
    entries = client.files.list(args.session, args.path)
    if output.as_json:
        output.document(entries)
        return 0
    if not entries:
        output.line(f"{args.path or 'the workspace'}: empty")
    for entry in entries:
        name = entry.name + ("/" if entry.is_dir else "")
        size = "-" if entry.is_dir else str(entry.size)
        output.line(f"{size:>10}  {when(entry.modified)}  {name}")
    return 0


def files_get(client: PokeeClient, args: argparse.Namespace, output: Output) -> int:
    target = Path(args.out) / args.path.rstrip("/").rsplit("/", 1)[-1]
    saved = client.files.download(args.session, args.path, target)
    if output.as_json:
        output.document({"path": args.path, "saved": saved, "size": saved.stat().st_size})
    else:
        output.line(f"saved: {saved}")
    return 0


def files_put(client: PokeeClient, args: argparse.Namespace, output: Output) -> int:
    local = Path(args.local)
    stored = client.files.upload(args.session, args.path or local.name, local)
    if output.as_json:
        output.document(stored)
    else:
        output.line(f"uploaded {stored.path} ({stored.size} bytes)")
    return 0


def files_rm(client: PokeeClient, args: argparse.Namespace, output: Output) -> int:
    client.files.delete(args.session, args.path)
    if output.as_json:
        output.document({"deleted": args.path})
    else:
        output.line(f"deleted {args.path}")
    return 0


def skills_install(client: PokeeClient, args: argparse.Namespace, output: Output) -> int:
    try:
        installed = client.skills.install(args.name, Path(args.path))
    except ValueError as exc:  # the folder holds what a bundle cannot (a link, a FIFO)
        return output.fail(str(exc), "invalid_bundle", code=2)
    if output.as_json:
        output.document(installed)
    else:
        count = len(installed.files)
        output.line(
            f"installed {installed.name} ({count} file{'s' if count != 1 else ''}, "
            f"{installed.total_bytes} bytes; SKILL.md {installed.skill_md_size} bytes)"
        )
    return 0


def skills_list(client: PokeeClient, args: argparse.Namespace, output: Output) -> int:
    installed = client.skills.list()
    if output.as_json:
        output.document(installed)
        return 0
    if not installed:
        output.line("no skills")
    for skill in installed:
        output.line(
            f"{skill.name}  installed {when(skill.modified)}  SKILL.md {skill.skill_md_size} bytes"
        )
    return 0


def skills_rm(client: PokeeClient, args: argparse.Namespace, output: Output) -> int:
    client.skills.delete(args.name)
    if output.as_json:
        output.document({"deleted": args.name})
    else:
        output.line(f"deleted {args.name}")
    return 0


def usage(client: PokeeClient, args: argparse.Namespace, output: Output) -> int:
    report = client.usage()
    if output.as_json:
        output.document(report)
        return 0
    for window in report.session_turn:
        output.line(
            f"{window.name:<5} turns {window.turns}/{window.max_turns}  "
            f"tokens {window.tokens:,}/{window.max_tokens:,}"
        )
    credits = report.credits
    state = "enabled" if credits.enabled else "disabled"
    output.line(f"credits {state}, {credits.mode}, balance {credits.balance:,.2f}")
    return 0


Command = Callable[[PokeeClient, argparse.Namespace, Output], int]
SINGLE = ("run", "send", "usage", "cancel", "respond")  # commands without an action
COMMANDS: dict[tuple[str, str], Command] = {
    ("run", "run"): run,
    ("respond", "respond"): respond,
    ("send", "send"): send,
    ("usage", "usage"): usage,
    ("cancel", "cancel"): cancel,
    ("sessions", "list"): sessions_list,
    ("sessions", "create"): sessions_create,
    ("sessions", "show"): sessions_show,
    ("sessions", "rm"): sessions_rm,
    ("sessions", "clean"): sessions_clean,
    ("files", "ls"): files_ls,
    ("files", "get"): files_get,
    ("files", "put"): files_put,
    ("files", "rm"): files_rm,
    ("skills", "install"): skills_install,
    ("skills", "list"): skills_list,
    ("skills", "rm"): skills_rm,
}
