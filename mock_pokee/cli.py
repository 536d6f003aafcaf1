"""The ``mock-pokee`` command (also ``python -m mock_pokee``): the parser fills `Settings`,
then ``serve`` runs uvicorn and ``contract`` runs the contract suite."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn
from urllib.parse import urlsplit

from mock_pokee import __version__
from mock_pokee.clock import CLOCK_MODES, ClockError, check_scale
from mock_pokee.domain.credits import CREDIT_MODES, START_BALANCE, CreditTerms, check_balance
from mock_pokee.domain.keys import read_keys_file
from mock_pokee.domain.models import Rates
from mock_pokee.domain.usage import Limits
from mock_pokee.limits import JOURNAL_SIZE, MAX_SCALE, WORKSPACE_LIMIT
from mock_pokee.recording.settings import DEFAULT_PORT as RECORD_PORT
from mock_pokee.recording.settings import MiB, RecordSettings
from mock_pokee.settings import Settings

USAGE = """A faithful fake of the Pokee Enterprise API, for developing and testing clients
offline.

  mock-pokee serve                 serve it on 127.0.0.1:8000 (real time)
  mock-pokee serve --clock scaled --scale 60
                                   the same, 60 times faster: a deck in seconds
  mock-pokee contract --api URL --key KEY
                                   check a deployment against the contract
  mock-pokee record --upstream URL --out DIR
                                   record a deployment's turns as scenarios

Then point POKEE_API at it and use any key. The inspector is at /_mock/ui. Every command
takes --help."""

KEYS_ENV = "MOCK_POKEE_KEYS"  # comma-separated keys; the same as --keys with a file
ADMIN_KEY_ENV = "MOCK_POKEE_ADMIN_KEY"
DEV_KEY = "pk_local_dev"


class _Parser(argparse.ArgumentParser):
    """argparse, with a mistake reported on one line (no usage block) and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _whole(text: str, least: int, most: int) -> int:
    if not (text.isascii() and text.isdigit()):
        raise argparse.ArgumentTypeError(f"must be a whole number, not {text!r}")
    if len(text) > 20 or not least <= int(text) <= most:
        raise argparse.ArgumentTypeError(f"must be between {least} and {most}, not {text}")
    return int(text)


def _count(most: int) -> Callable[[str], int]:
    """A whole number from 1 to ``most`` (beyond it, a mistake rather than a wish)."""
    return lambda text: _whole(text, 1, most)


def _port(text: str) -> int:
    return _whole(text, 0, 65_535)


def _scale(text: str) -> float:
    try:
        value = float(text)
        check_scale(value)
    except (ValueError, ClockError) as exc:
        reason = str(exc) if isinstance(exc, ClockError) else f"not a number: {text!r}"
        raise argparse.ArgumentTypeError(reason.removeprefix("scale: ")) from None
    return value


def _seconds(text: str) -> float:
    """A time bound: above 0 and at most an hour."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 < value <= 3600:  # also refuses NaN and inf
        raise argparse.ArgumentTypeError(f"must be above 0 and at most 3600 seconds, not {text}")
    return value


def _pause(text: str) -> float:
    """A span that may be 0: at least 0 and at most an hour."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 <= value <= 3600:  # also refuses NaN and inf
        raise argparse.ArgumentTypeError(f"must be from 0 to 3600 seconds, not {text}")
    return value


def _balance(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    try:
        return check_balance(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _model(text: str) -> tuple[str, Rates | None]:
    """``NAME`` or ``NAME=IN/OUT`` (dollars per million input / output tokens)."""
    name, _, rates = text.partition("=")
    if not name or len(name) > 200 or not name.isprintable():
        raise argparse.ArgumentTypeError(f"not a model name: {text!r}")
    if not rates:
        return name, None
    try:
        given = tuple(float(part) for part in rates.split("/"))
    except ValueError:
        given = ()
    if len(given) != 2 or not all(0 <= rate < 1e6 for rate in given):
        raise argparse.ArgumentTypeError(
            f"{text!r}: rates are IN/OUT dollars per million tokens, e.g. {name}=3/15"
        )
    return name, Rates(*given)


def _folder(text: str) -> Path:
    path = Path(text)
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is not a folder")
    return path


def _workspace(text: str) -> Path:
    """A folder the mock can write in; made if missing."""
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} exists and is not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise argparse.ArgumentTypeError(f"cannot make the folder {text}: {exc.strerror}") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise argparse.ArgumentTypeError(f"cannot write in the folder {text}")
    return path


def _file(text: str) -> Path:
    path = Path(text)
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"{text} is not a file")
    return path


def _upstream(text: str) -> str:
    """A deployment's base URL, ``http(s)://host[:port][/prefix]``, without its last ``/``."""
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise argparse.ArgumentTypeError(f"not an http:// or https:// URL: {text!r}")
    try:
        parts.port  # noqa: B018 (reading it checks it)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number in {text!r}") from None
    if parts.query or parts.fragment:
        raise argparse.ArgumentTypeError(f"a base URL has no query or fragment: {text!r}")
    return text.rstrip("/")


def _key(text: str) -> str:
    if not text or not text.isprintable() or " " in text:
        raise argparse.ArgumentTypeError("a key is printable text without spaces")
    return text


def _host_name(text: str) -> str:
    name = text.strip().lower().rstrip(".")
    if not name or len(name) > 253 or not all(c.isalnum() or c in "-." for c in name):
        raise argparse.ArgumentTypeError(f"not a host name: {text!r}")
    return name


def _keys_file(text: str) -> frozenset[str]:
    try:
        keys = read_keys_file(Path(text).read_text(encoding="utf-8"))
    except OSError as exc:
        raise argparse.ArgumentTypeError(f"cannot read {text}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise argparse.ArgumentTypeError(
            f"{text} is not UTF-8 text (byte {exc.start}); list one key per line"
        ) from None
    if not keys:
        raise argparse.ArgumentTypeError(f"{text} lists no keys (one key per line)")
    return keys


def parser() -> argparse.ArgumentParser:
    root = _Parser(
        prog="mock-pokee", description=USAGE, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    root.add_argument("--version", action="version", version=f"mock-pokee {__version__}")
    commands = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = commands.add_parser(
        "serve",
        help="run the fake Pokee server",
        description="Serve the fake Pokee API. It prints its address, the line to paste "
        "into another shell, and a line per request; Ctrl-C stops it.",
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=_port, default=8000, help="0 picks a free port")
    serve.add_argument("--clock", choices=CLOCK_MODES, default="real", help="clock mode (C1)")
    serve.add_argument(
        "--scale", type=_scale, default=1.0, help=f"speed of 'scaled' (at most {MAX_SCALE})"
    )
    serve.add_argument(
        "--keys",
        type=_keys_file,
        metavar="FILE",
        help=f"accept only these keys, one per line (or set {KEYS_ENV}=k1,k2)",
    )
    serve.add_argument(
        "--admin-key",
        metavar="KEY",
        help="with --keys, the key that may act on the whole server (keyless control, C2); "
        f"or set {ADMIN_KEY_ENV}",
    )
    serve.add_argument(
        "--allow-host",
        action="append",
        default=[],
        type=_host_name,
        metavar="NAME",
        help="a Host name (besides IP addresses and localhost) that may send keyless control "
        "requests, e.g. a docker-compose service name; repeatable",
    )
    serve.add_argument("--max-sessions", type=_count(1_000_000), default=10, help="per tenant (S9)")
    serve.add_argument("--no-control", action="store_true", help="switch off /_mock (C7)")
    serve.add_argument(
        "--workspace",
        type=_workspace,
        metavar="DIR",
        help="keep tenants' files in DIR (default: a temporary folder removed at exit)",
    )
    serve.add_argument(
        "--upload-limit",
        type=_count(1 << 50),
        default=100 * 1024 * 1024,
        metavar="BYTES",
        help="largest accepted upload (F3; default 100 MiB)",
    )
    serve.add_argument(
        "--workspace-limit",
        type=_count(1 << 60),
        default=WORKSPACE_LIMIT,
        metavar="BYTES",
        help="bytes every tenant's files may take together (F9; default 100 GB)",
    )
    serve.add_argument(
        "--journal-size",
        type=_count(10_000_000),
        default=JOURNAL_SIZE,
        metavar="N",
        help=f"journal entries kept per tenant, oldest dropped first (C4; default {JOURNAL_SIZE})",
    )
    serve.add_argument("--quiet", action="store_true", help="no line per request on the terminal")
    defaults = Settings()
    serve.add_argument(
        "--header-timeout",
        type=_seconds,
        default=defaults.header_timeout,
        metavar="S",
        help=f"seconds a client has to send a request head (default {defaults.header_timeout:g})",
    )
    serve.add_argument(
        "--body-timeout",
        type=_seconds,
        default=defaults.body_timeout,
        metavar="S",
        help=f"seconds an upload's body may send nothing (default {defaults.body_timeout:g})",
    )
    serve.add_argument(
        "--keep-alive-timeout",
        type=_count(3600),
        default=defaults.keep_alive_timeout,
        metavar="S",
        help=f"seconds a connection may stay idle (default {defaults.keep_alive_timeout})",
    )
    serve.add_argument(
        "--shutdown-timeout",
        type=_count(3600),
        default=defaults.shutdown_timeout,
        metavar="S",
        help=f"seconds open connections may hold up a stop (default {defaults.shutdown_timeout})",
    )
    serve.add_argument(
        "--model",
        action="append",
        type=_model,
        default=[],
        metavar="NAME[=IN/OUT]",
        help="accept this model too (S1a), billed at IN/OUT dollars per million tokens "
        "(default: the rates of pokee-isaac-high-reasoning); repeatable",
    )
    serve.add_argument(
        "--credits-mode",
        choices=CREDIT_MODES,
        default="soft",
        help="soft: debits are recorded; hard: a turn needs a balance of 1.00 (U2)",
    )
    serve.add_argument(
        "--credits-balance",
        type=_balance,
        default=START_BALANCE,
        metavar="DOLLARS",
        help=f"each tenant's starting balance (U2; default {START_BALANCE:.2f})",
    )
    limits = Limits()
    for option, default, what in (
        ("--turns-per-hour", limits.turns_per_hour, "turns started an hour (U1, M11)"),
        ("--turns-per-day", limits.turns_per_day, "turns started a day (U1)"),
        ("--tokens-per-hour", limits.tokens_per_hour, "tokens used an hour (U1)"),
        ("--tokens-per-day", limits.tokens_per_day, "tokens used a day (U1)"),
    ):
        serve.add_argument(
            option, type=_count(10**15), default=default, metavar="N", help=f"{what}, per tenant"
        )
    serve.add_argument(
        "--scenarios",
        action="append",
        type=_folder,
        default=[],
        metavar="DIR",
        help="a folder of scenario YAML files, tried before the built-ins (repeatable)",
    )
    _contract_parser(commands)
    _record_parser(commands)
    return root


def _contract_parser(commands: argparse._SubParsersAction[_Parser]) -> None:
    contract = commands.add_parser(
        "contract",
        help="check a deployment (or this mock) against the contract",
        description="Run the contract suite against the deployment at --api with --key (or "
        "POKEE_API and POKEE_KEY); without either, against a mock started here. It creates "
        "sessions, files and turns of its own and removes them, and ends with what it left "
        "and spent. Options after -- go to pytest.",
    )
    contract.add_argument("--api", metavar="URL", help="the deployment (env POKEE_API)")
    contract.add_argument("--key", help="its API key (env POKEE_KEY)")
    contract.add_argument(
        "--allow-destructive",
        action="store_true",
        help="also run tests that delete sessions they did not create or need the tenant's "
        "limits: only on a tenant kept for the purpose",
    )
    contract.add_argument("--junitxml", type=Path, metavar="FILE", help="a JUnit XML report")
    contract.add_argument(
        "--clause-report", type=Path, metavar="FILE", help="clause by clause, as JSON"
    )
    contract.add_argument("-k", dest="select", metavar="EXPR", help="only tests matching EXPR")
    contract.add_argument("pytest_args", nargs="*", help=argparse.SUPPRESS)


def _record_parser(commands: argparse._SubParsersAction[_Parser]) -> None:
    record = commands.add_parser(
        "record",
        help="record a deployment's turns and responses as scenarios",
        description="Record a deployment as scenarios: a proxy that passes every request to "
        "--upstream and every answer back unchanged, and writes each session turn and each "
        "/v1/responses call it sees into --out as a scenario file (with the files the turns "
        "wrote), which `mock-pokee serve --scenarios DIR` then plays back. Point POKEE_API at "
        "it and use your client as usual; Ctrl-C stops it (or give a command after --, run "
        "with POKEE_API set, and it stops when that ends). See docs/recording.md.",
    )
    record.add_argument(
        "--upstream", required=True, type=_upstream, metavar="URL", help="the deployment"
    )
    record.add_argument(
        "--key",
        type=_key,
        help="send this key upstream instead of the client's (clients then need none)",
    )
    record.add_argument(
        "--out", required=True, type=_workspace, metavar="DIR", help="where recordings go"
    )
    record.add_argument("--host", default="127.0.0.1")
    record.add_argument(
        "--port", type=_port, default=RECORD_PORT, help=f"default {RECORD_PORT}; 0 picks a free one"
    )
    record.add_argument(
        "--poll-interval",
        type=_seconds,
        default=1.0,
        metavar="S",
        help="real seconds between reads of a busy session's metadata (default 1)",
    )
    record.add_argument(
        "--max-fixture",
        type=lambda text: _whole(text, 0, 1 << 50),
        default=10 * MiB,
        metavar="BYTES",
        help="a file the turn wrote is kept up to this size, else replayed as generated bytes "
        "of its size (default 10 MiB)",
    )
    record.add_argument(
        "--min-pause",
        type=_pause,
        default=0.1,
        metavar="S",
        help="a gap shorter than this (upstream seconds) is not recorded as a pause (default 0.1)",
    )
    record.add_argument(
        "--upstream-scale",
        type=_scale,
        default=1.0,
        metavar="N",
        help="the upstream's clock runs N times faster than real time, as `mock-pokee serve "
        "--clock scaled --scale N` does; recorded durations are multiplied by N (default 1)",
    )
    record.add_argument(
        "--redact", type=_file, metavar="FILE", help="a YAML list of redaction rules"
    )
    record.add_argument(
        "command_line",
        nargs="*",
        metavar="-- COMMAND",
        help="run COMMAND with POKEE_API pointed at the proxy, then stop (its exit status is "
        "record's): e.g. -- pytest tests/integration",
    )


def record_settings_from(args: argparse.Namespace) -> RecordSettings:
    return RecordSettings(
        upstream=args.upstream,
        out=args.out,
        key=args.key,
        host=args.host,
        port=args.port,
        poll_interval=args.poll_interval,
        max_fixture=args.max_fixture,
        min_pause=args.min_pause,
        upstream_scale=args.upstream_scale,
        redact=args.redact,
    )


class OptionError(ValueError):
    """Options that cannot be served as given; the message names the option."""


def settings_from(args: argparse.Namespace) -> Settings:
    keys: frozenset[str] | None = args.keys
    if keys is None and os.environ.get(KEYS_ENV):
        keys = frozenset(k.strip() for k in os.environ[KEYS_ENV].split(",") if k.strip())
        if not keys:  # a list that lists nothing must not mean "any key"
            raise OptionError(f"{KEYS_ENV} lists no keys; give k1,k2 or leave it unset")
    admin_key = args.admin_key or os.environ.get(ADMIN_KEY_ENV) or None
    if admin_key is not None and (not admin_key.isprintable() or " " in admin_key):
        raise OptionError("--admin-key: a key is printable text without spaces")
    return Settings(
        host=args.host,
        port=args.port,
        admin_key=admin_key,
        allowed_hosts=tuple(args.allow_host),
        clock_mode=args.clock,
        clock_scale=args.scale,
        keys=keys or None,
        max_sessions=args.max_sessions,
        control=not args.no_control,
        scenario_folders=tuple(args.scenarios),
        workspace=args.workspace,
        upload_limit=args.upload_limit,
        workspace_limit=args.workspace_limit,
        journal_size=args.journal_size,
        request_log=not args.quiet,
        models=tuple(args.model),
        limits=Limits(
            turns_per_hour=args.turns_per_hour,
            turns_per_day=args.turns_per_day,
            tokens_per_hour=args.tokens_per_hour,
            tokens_per_day=args.tokens_per_day,
        ),
        credits=CreditTerms(mode=args.credits_mode, balance=args.credits_balance),
        header_timeout=args.header_timeout,
        body_timeout=args.body_timeout,
        keep_alive_timeout=args.keep_alive_timeout,
        shutdown_timeout=args.shutdown_timeout,
    )


def main(argv: Sequence[str] | None = None) -> int:
    options = parser()
    args = options.parse_args(argv)
    if args.command == "contract":
        return _contract(options, args)
    if args.command == "record":
        return _record(record_settings_from(args), args.command_line)
    try:
        settings = settings_from(args)
    except OptionError as exc:
        options.error(str(exc))
    from mock_pokee.scenarios.loader import ScenarioFileError
    from mock_pokee.server import serve  # imported late: `--help` stays fast

    try:
        return serve(settings, announce=lambda url: _announce(url, settings))
    except ScenarioFileError as exc:
        print(f"mock-pokee: bad scenario file: {exc}", file=sys.stderr)
        return 2


def _contract(options: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    from mock_pokee import contract_run

    api = args.api or os.environ.get("POKEE_API")
    key = args.key or os.environ.get("POKEE_KEY")
    if api and not key:
        options.error("contract: --api needs --key (or POKEE_KEY)")
    if api and not api.startswith(("http://", "https://")):
        options.error(f"contract: --api must start with http:// or https://, not {api!r}")
    arguments = contract_run.pytest_arguments(
        allow_destructive=args.allow_destructive,
        junitxml=args.junitxml,
        clause_report=args.clause_report,
        select=args.select,
        extra=args.pytest_args,
    )
    return contract_run.run(api, key, arguments)


def _record(settings: RecordSettings, command: Sequence[str]) -> int:
    from mock_pokee.recording.serving import serve_recorder  # imported late, as serve's
    from mock_pokee.recording.writer import RecordingFolder

    try:
        folder = RecordingFolder(settings)
    except (OSError, ValueError) as exc:  # the folder, or the redaction rules, refused
        print(f"mock-pokee record: {exc}", file=sys.stderr)
        return 2
    return serve_recorder(
        settings,
        lambda _: folder,
        announce=lambda url: _announce_recording(url, settings, command),
        command=command,
    )


def _announce_recording(url: str, settings: RecordSettings, command: Sequence[str]) -> None:
    print(f"mock-pokee record: {url} → {settings.upstream}, writing to {settings.out}")
    print(f"  export POKEE_API={url}")
    if settings.key:
        print("  it sends its --key upstream: any POKEE_KEY will do")
    else:
        print("  keep POKEE_KEY: the client's key goes upstream")
    if command:
        print(f"  running {shlex.join(command)} with that POKEE_API", flush=True)
        return
    print("  Ctrl-C stops it.", flush=True)


def _announce(url: str, settings: Settings) -> None:
    key = sorted(settings.keys)[0] if settings.keys else DEV_KEY
    control = "on" if settings.control else "off"
    clock = settings.clock_mode
    print(f"mock-pokee {__version__} serving {url}  (clock: {clock}, control plane: {control})")
    print(f"  export POKEE_API={url} POKEE_KEY={key}")
    if settings.keys is not None and settings.control:
        whole = "its admin key" if settings.admin_key else "an --admin-key (none given)"
        print(f"  keyless control (the whole server) needs {whole}")
    if settings.control:
        print(f"  inspector: {url}/_mock/ui  (?key=… for one tenant)")
    print("  Ctrl-C stops it.", flush=True)


if __name__ == "__main__":
    sys.exit(main())
