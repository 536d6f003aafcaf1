"""The client's public surface: ``__all__`` is complete, the error tree is drawn whole, the
A5 table is mapped both ways, unknown things arrive as generic values, and importing the
package (as the ``pokee`` command does) loads neither httpx nor rich."""

from __future__ import annotations

import inspect
import subprocess
import sys
import typing
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest

import pokee_client
from pokee_client import errors, events
from pokee_client.config import Config, parse_duration


def subclasses(cls: type) -> set[type]:
    found: set[type] = set(cls.__subclasses__())
    for sub in list(found):
        found |= subclasses(sub)
    return found


def public_classes_in_signatures() -> set[type]:
    """Every class that the clients' public methods take or return, found from type hints
    (the constructors of streams and resources are the clients' business, not users')."""
    found: set[type] = set()
    roots: list[type] = [
        pokee_client.PokeeClient,
        pokee_client.AsyncPokeeClient,
        pokee_client.Sessions,
        pokee_client.Messages,
        pokee_client.Files,
        pokee_client.Skills,
        pokee_client.AsyncSessions,
        pokee_client.AsyncMessages,
        pokee_client.AsyncFiles,
        pokee_client.AsyncSkills,
        pokee_client.Responses,
        pokee_client.AsyncResponses,
        pokee_client.TurnStream,
        pokee_client.AsyncTurnStream,
        pokee_client.ResponseStream,
        pokee_client.AsyncResponseStream,
        pokee_client.Response,
        pokee_client.RunResult,
        pokee_client.TurnOutcome,
        pokee_client.Progress,
        pokee_client.Session,
        pokee_client.Usage,
    ]
    for root in roots:
        members: list[Any] = [
            m for n, m in inspect.getmembers(root, inspect.isfunction) if n[0] != "_"
        ]
        members += [p.fget for _, p in inspect.getmembers(root, lambda m: isinstance(m, property))]
        if root in (pokee_client.PokeeClient, pokee_client.AsyncPokeeClient):
            members.append(root.__init__)
        hints = [typing.get_type_hints(root)] if hasattr(root, "__dataclass_fields__") else []
        hints += [typing.get_type_hints(m) for m in members if m is not None]
        for hint in hints:
            for value in hint.values():
                found |= {t for t in _walk(value) if t.__module__.startswith("pokee_client")}
    return found


def _walk(hint: object) -> set[type]:
    found = {hint} if isinstance(hint, type) else set()
    for arg in typing.get_args(hint):
        found |= _walk(arg)
    return found


def test_all_names_every_public_class() -> None:
    exported = {getattr(pokee_client, name) for name in pokee_client.__all__ if name[0] != "_"}
    expected = (
        subclasses(errors.PokeeError)
        | {errors.PokeeError}
        | subclasses(events.Event)
        | {events.Event}
        | public_classes_in_signatures()
    )
    private = {cls for cls in expected if cls.__name__.startswith("_")}
    assert expected - private - exported == set()


def test_every_name_in_all_resolves_and_nothing_is_listed_twice() -> None:
    assert len(pokee_client.__all__) == len(set(pokee_client.__all__))
    namespace: dict[str, object] = {}
    exec("from pokee_client import *", namespace)
    assert set(pokee_client.__all__) <= set(namespace)
    with pytest.raises(AttributeError):
        _ = pokee_client.NoSuchThing


@pytest.mark.parametrize("client", ["PokeeClient", "AsyncPokeeClient"])
def test_help_shows_the_api_piece_by_piece_and_every_method_says_what_it_does(
    client: str,
) -> None:
    """``help(PokeeClient)`` names the attributes the API hangs on, and each public
    method of the client and of those attributes has a docstring."""
    import pydoc

    cls = getattr(pokee_client, client)
    shown = pydoc.render_doc(cls, renderer=pydoc.TextDoc())
    for attribute in ("sessions", "messages", "files", "skills", "responses", "usage", "run"):
        assert f"``{attribute}" in shown, attribute
    prefix = "Async" if client.startswith("Async") else ""
    groups = [cls, *(getattr(pokee_client, prefix + n) for n in ("Sessions", "Messages"))]
    groups += [getattr(pokee_client, prefix + n) for n in ("Files", "Skills", "Responses")]
    groups += [getattr(pokee_client, prefix + n) for n in ("TurnStream", "ResponseStream")]
    undocumented = [
        f"{group.__name__}.{name}"
        for group in groups
        for name, member in vars(group).items()
        if inspect.isfunction(member)
        and not name.startswith("_")
        and not member.__doc__
        and "__mutmut_" not in name  # what mutmut adds to a class, under `make mutation`
    ]
    assert undocumented == []


def test_the_error_tree_in_the_docstring_is_whole() -> None:
    documented = errors.__doc__ or ""
    for cls in subclasses(errors.PokeeError):
        assert cls.__name__ in documented, cls
    for short, status in errors.STATUSES.items():
        assert f"{status} {short}" in documented


@pytest.mark.parametrize(("short", "status"), sorted(errors.STATUSES.items()))
def test_each_a5_short_name_has_its_class(short: str, status: int) -> None:
    body = f'{{"error": "{short}", "message": "the culprit"}}'.encode()
    error = errors.api_error(status, body, {})
    assert type(error) is errors.ERROR_CLASSES[short]
    assert isinstance(error, errors.APIError)
    assert (error.status, error.error, error.message) == (status, short, "the culprit")
    assert str(error) == f"{short} ({status}): the culprit"


def test_an_unknown_short_name_is_a_plain_api_error() -> None:
    error = errors.api_error(409, b'{"error": "no_pending_tool_call", "message": "m"}', {})
    assert type(error) is errors.APIError
    assert error.error == "no_pending_tool_call"


def test_a_body_that_is_not_a5_is_classified_by_status_and_named_not_quoted() -> None:
    """A proxy's page is not printed: one line says where, what status, what it was."""
    page = b"<html><body>Bad gateway" + b"<p>" * 1000 + b"</body></html>"
    headers = {"retry-after": "5", "content-type": "text/html; charset=utf-8"}
    error = errors.api_error(503, page, headers, "GET https://api.example/v1/usage")
    assert type(error) is errors.ServiceUnavailableError
    assert error.retry_after == 5.0
    assert error.message == (
        f"GET https://api.example/v1/usage answered 503 with text/html ({len(page)} bytes), "
        "not an error of the Pokee API: is the base URL right?"
    )
    assert type(errors.api_error(502, b"", {})) is errors.APIError


def test_retry_after_as_an_http_date_is_measured_against_the_answer_date() -> None:
    now = datetime(2026, 11, 29, 12, 0, 0, tzinfo=UTC)
    headers = {
        "retry-after": format_datetime(now + timedelta(seconds=90), usegmt=True),
        "date": format_datetime(now, usegmt=True),
    }
    assert errors.retry_after(headers) == 90.0
    assert errors.retry_after({"retry-after": "soon"}) is None
    assert errors.retry_after({}) is None


def test_an_unknown_event_type_arrives_as_a_generic_event() -> None:
    event = events.parse_event(4, "tool_call.requested", {"call_id": "c", "sequence_number": 4})
    assert type(event) is events.UnknownEvent
    assert (event.seq, event.type, event.data["call_id"]) == (4, "tool_call.requested", "c")
    assert not event.terminal


def test_every_m4_type_has_its_class() -> None:
    m4 = {
        "message.created", "text.start", "text.delta", "text.stop", "thinking.start",
        "thinking.delta", "thinking.stop", "tool_use.start", "tool_use.input_delta",
        "tool_use.executing", "tool_use.stop", "tool_result", "message.completed",
        "message.error", "message.cancelled",
    }  # fmt: skip
    assert set(events.EVENT_CLASSES) == m4
    terminal = {t for t, cls in events.EVENT_CLASSES.items() if cls.terminal}
    assert terminal == {"message.completed", "message.error", "message.cancelled"}


def test_configuration_comes_from_arguments_then_the_environment() -> None:
    env = {"POKEE_API": "http://env.test/", "POKEE_KEY": "pk_env_key"}
    assert Config.resolve(environ=env) == Config("http://env.test", "pk_env_key")
    assert Config.resolve("http://arg.test", "pk_arg", environ=env).api_key == "pk_arg"
    with pytest.raises(errors.ConfigurationError, match="no API key"):
        Config.resolve("http://arg.test", environ={})
    with pytest.raises(errors.ConfigurationError, match="no API base URL"):
        Config.resolve(api_key="pk_a_b", environ={})
    with pytest.raises(errors.ConfigurationError, match="http://"):
        Config.resolve("ftp://x", "k", environ={})


@pytest.mark.parametrize(
    ("text", "seconds"), [("90s", 90), ("5m", 300), ("1h30m", 5400), ("4h", 14400), ("60", 60)]
)
def test_durations_read_like_s6(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "1d", "m5", "1.5h", "-3"])
def test_a_bad_duration_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


def test_the_command_line_starts_without_httpx_or_rich() -> None:
    code = (
        "import sys\n"
        "from pokee_client.cli import parser\n"
        "parser().format_help()\n"
        "print(sorted(m for m in ('httpx', 'rich', 'httpx_sse') if m in sys.modules))\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert loaded.stdout.strip() == "[]"
