"""The files routes (F1–F7): list, download (with ranges), upload, delete.

Every route takes its path the same way, through `_file_path`: the raw request path is
checked for encoded dots and separators, decoded exactly once, checked against the F2
rules, then against the session's ``file_access`` prefixes; the workspace finally checks
that the resolved location is inside the tenant's root.
"""

from __future__ import annotations

import mimetypes
from pathlib import PurePosixPath
from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response

from mock_pokee.api.context import context, params, tenant_for
from mock_pokee.api.routing import Endpoint
from mock_pokee.domain.errors import (
    ForbiddenPath,
    InvalidRequest,
    NotFound,
    PayloadTooLarge,
    RangeNotSatisfiable,
)
from mock_pokee.domain.sessions import Session
from mock_pokee.domain.tenants import Tenant
from mock_pokee.domain.workspace import Access, allowed, check_raw_path, check_relative_path

# Known whatever the host's mime table says (F5 [C]).
CONTENT_TYPES = {
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".md": "text/markdown",
    ".json": "application/json",
    ".csv": "text/csv",
}


def content_type(path: PurePosixPath) -> str:
    known = CONTENT_TYPES.get(path.suffix.lower())
    return known or mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def _decoded_tail(request: Request) -> str:
    """The path after ``/files/``, decoded exactly once from what the client sent."""
    raw = (request.scope.get("raw_path") or request.scope["path"].encode()).decode("latin-1")
    tail = raw.split("/files/", 1)[1]
    check_raw_path(tail)
    try:
        return unquote(tail, errors="strict")
    except UnicodeDecodeError:
        raise ForbiddenPath(f"path {tail!r}: not valid UTF-8 once decoded") from None


def _file_path(session: Session, access: Access, text: str) -> PurePosixPath:
    """F2 and S1: a safe relative path inside the session's ``access`` prefixes."""
    path = check_relative_path(text)
    prefixes = session.file_access.read if access == "read" else session.file_access.write
    if not (allowed(path, prefixes) or allowed(path, prefixes, directory=True)):
        raise ForbiddenPath(
            f"path {text!r}: outside this session's {access} access ({', '.join(prefixes)})"
        )
    return path


def _session(request: Request) -> tuple[Tenant, Session]:
    tenant = tenant_for(request)
    return tenant, tenant.get_session(request.path_params["session_id"])


async def list_files(request: Request) -> Response:
    """F4: ``?path=<dir>`` (default: the root)."""
    tenant, session = _session(request)
    text = params(request).get("path", "")  # already decoded once
    if len(text) > 1 and text.endswith("/"):
        text = text[:-1]  # ?path=output/ means the folder output
    path = _file_path(session, "read", text)
    return JSONResponse(tenant.workspace.listing(path))


async def get_file(request: Request) -> Response:
    """F5: the bytes (ranges honoured), or a directory's F4 listing."""
    tenant, session = _session(request)
    path = _file_path(session, "read", _decoded_tail(request))
    kind = tenant.workspace.kind(path)
    if kind == "directory":
        return JSONResponse(tenant.workspace.listing(path))
    if kind is None:
        raise NotFound(f"path {str(path)!r}: no such file or directory")
    target = tenant.workspace.locate(path)
    stat = target.stat()
    header = request.headers.get("range")
    if header is not None and "if-range" not in request.headers:
        check_range(header, stat.st_size)
    return FileResponse(target, media_type=content_type(path), stat_result=stat)


def check_range(header: str, size: int) -> None:
    """F5: a malformed Range is 400; one that starts past the end is 416."""
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or not spec.strip():
        raise InvalidRequest(f"Range: {header!r} is not a bytes range")
    for part in spec.split(","):
        start, dash, end = part.strip().partition("-")
        if not dash or not (start.isdigit() or start == "") or not (end.isdigit() or end == ""):
            raise InvalidRequest(f"Range: {header!r} is malformed")
        if start == "" and end == "":
            raise InvalidRequest(f"Range: {header!r} is malformed")
        if start and end and int(end) < int(start):
            raise InvalidRequest(f"Range: {header!r} ends before it starts")
        first = int(start) if start else max(size - int(end), 0)
        if first >= size or (not start and int(end) == 0):
            raise RangeNotSatisfiable(
                f"Range: {header!r} is outside the file ({size} bytes)",
                headers={"Content-Range": f"bytes */{size}"},
            )


async def put_file(request: Request) -> Response:
    """F3: the raw body, streamed to disk; over the limit → 413 and nothing stored."""
    tenant, session = _session(request)
    path = _file_path(session, "write", _decoded_tail(request))
    limit = context(request).upload_limit
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"body: {declared} bytes is over the upload limit of {limit}")
    stored = await tenant.workspace.upload(path, request.stream(), limit, tenant.clock.now())
    return JSONResponse(stored, status_code=201)


async def delete_file(request: Request) -> Response:
    """F6."""
    tenant, session = _session(request)
    path = _file_path(session, "write", _decoded_tail(request))
    tenant.workspace.delete(path)
    return Response(status_code=204)


ENDPOINTS: dict[str, dict[str, Endpoint]] = {
    "/v1/sessions/{session_id}/files": {"GET": Endpoint(list_files, query=("path",))},
    "/v1/sessions/{session_id}/files/{file_path:path}": {
        "GET": Endpoint(get_file),
        "PUT": Endpoint(put_file),
        "DELETE": Endpoint(delete_file),
    },
}
