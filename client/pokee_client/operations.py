"""Each endpoint that answers in one piece, as a flow: build, call, read the record.

Which calls are idempotent is decided here, per endpoint (see `pokee_client.retrying`):
creating a session is not (a repeat after a lost answer would make a second one), nor is a
stateless response answered in one piece (R1 ignores an ``Idempotency-Key`` there, so a
repeat would be a second call, billed); reads, deletes, uploads (PUT), skill installs (the
same bundle again replaces it with itself, K2) and cancels (a second cancel answers
``already_complete``) are.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pokee_client.base import ClientCore
from pokee_client.config import parse_duration
from pokee_client.effects import Flow
from pokee_client.errors import ProtocolError
from pokee_client.exchange import call, json_of
from pokee_client.records import FileEntry, InstalledSkill, Session, Skill, StoredFile, Usage
from pokee_client.response_object import Response
from pokee_client.responses import Input, ResponseOptions, response_body
from pokee_client.uploads import FileBody


def create_session(
    core: ClientCore,
    *,
    persistent: bool = False,
    ttl: int | str | None = None,
    metadata: Mapping[str, Any] | None = None,
    file_access: Mapping[str, Sequence[str]] | None = None,
    model: str | None = None,
    tools: Sequence[Mapping[str, Any]] | None = None,
) -> Flow[Session]:
    """S1: fields left as None are left out, so the server's defaults apply. ``ttl`` may
    be written as S6 writes durations (``"4h"``)."""
    fields: dict[str, Any] = {
        "persistent": persistent,
        "ttl": parse_duration(ttl) if isinstance(ttl, str) else ttl,
        "metadata": dict(metadata) if metadata is not None else None,
        "file_access": {k: list(v) for k, v in file_access.items()} if file_access else None,
        "model": model,
        "tools": [dict(tool) for tool in tools] if tools is not None else None,
    }
    body = {name: value for name, value in fields.items() if value is not None}
    response = yield from call(core, core.requests.create_session(body), idempotent=False)
    return Session.from_json(json_of(response))


def get_session(core: ClientCore, session_id: str) -> Flow[Session]:
    response = yield from call(core, core.requests.get_session(session_id), idempotent=True)
    return Session.from_json(json_of(response))


def list_sessions(core: ClientCore) -> Flow[list[Session]]:
    response = yield from call(core, core.requests.list_sessions(), idempotent=True)
    return [Session.from_json(record) for record in _list(json_of(response), "sessions")]


def delete_session(core: ClientCore, session_id: str) -> Flow[None]:
    yield from call(core, core.requests.delete_session(session_id), idempotent=True)


def delete_sessions(
    core: ClientCore, *, status: str | None = None, older_than: str | int | None = None
) -> Flow[int]:
    """S6; the server refuses a call with neither filter, and so no tenant is wiped by it."""
    request = core.requests.delete_sessions(
        status, str(older_than) if older_than is not None else None
    )
    response = yield from call(core, request, idempotent=True)
    body = json_of(response)
    deleted = body.get("deleted") if isinstance(body, dict) else None
    if not isinstance(deleted, int):
        raise ProtocolError("DELETE /v1/sessions: the answer has no 'deleted' count")
    return deleted


def cancel(core: ClientCore, session_id: str, response_id: str) -> Flow[str]:
    """M8: ``"cancelling"`` while the turn runs, ``"already_complete"`` after its end."""
    request = core.requests.cancel(session_id, response_id)
    response = yield from call(core, request, idempotent=True)
    return _status(json_of(response), "cancel")


def create_response(
    core: ClientCore, input: Input, options: ResponseOptions, scenario: str | None
) -> Flow[Response]:
    """R1 → R3: the response object, answered whole."""
    request = core.requests.create_response(response_body(input, options, stream=False), scenario)
    response = yield from call(core, request, idempotent=False)
    return Response.from_json(json_of(response))


def cancel_response(core: ClientCore, response_id: str) -> Flow[str]:
    """R6: ``"cancelling"`` while the response runs, ``"already_complete"`` after its end."""
    response = yield from call(core, core.requests.cancel_response(response_id), idempotent=True)
    return _status(json_of(response), "cancel")


def list_files(core: ClientCore, session_id: str, path: str = "") -> Flow[list[FileEntry]]:
    request = core.requests.list_files(session_id, path)
    response = yield from call(core, request, idempotent=True)
    return [FileEntry.from_json(entry) for entry in _list(json_of(response), "files")]


def upload(
    core: ClientCore, session_id: str, path: str, source: str | Path | bytes
) -> Flow[StoredFile]:
    body = FileBody(source if isinstance(source, bytes) else Path(source))
    request = core.requests.upload(session_id, path, body)
    response = yield from call(core, request, idempotent=True)
    return StoredFile.from_json(json_of(response))


def delete_file(core: ClientCore, session_id: str, path: str) -> Flow[None]:
    yield from call(core, core.requests.delete_file(session_id, path), idempotent=True)


def install_skill(core: ClientCore, name: str, bundle: Path | bytes) -> Flow[InstalledSkill]:
    """K1: ``bundle`` is a zip, as bytes or a file (see `pokee_client.skills.bundle_of`)."""
    request = core.requests.install_skill(name, FileBody(bundle))
    response = yield from call(core, request, idempotent=True)
    return InstalledSkill.from_json(json_of(response))


def list_skills(core: ClientCore) -> Flow[list[Skill]]:
    response = yield from call(core, core.requests.list_skills(), idempotent=True)
    return [Skill.from_json(entry) for entry in _list(json_of(response), "skills")]


def delete_skill(core: ClientCore, name: str) -> Flow[None]:
    yield from call(core, core.requests.delete_skill(name), idempotent=True)


def usage(core: ClientCore) -> Flow[Usage]:
    response = yield from call(core, core.requests.usage(), idempotent=True)
    return Usage.from_json(json_of(response))


def _status(body: object, what: str) -> str:
    status = body.get("status") if isinstance(body, dict) else None
    if not isinstance(status, str):
        raise ProtocolError(f"{what}: the answer has no status")
    return status


def _list(body: object, what: str) -> list[Any]:
    if not isinstance(body, list):
        raise ProtocolError(f"{what}: expected a JSON array")
    return body
