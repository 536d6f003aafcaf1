"""The files routes (F1–F8): list, download (with ranges), upload, delete.

Every route takes its path the same way: the raw request path is checked for encoded dots
and separators and decoded exactly once (`_file_path`), the result is checked against
F2's syntax (`paths`) and then against the session's scope by the one `authorize` (F8)
that turn writes use too; the workspace finally checks that the resolved location is
inside the tenant's root.
"""

from __future__ import annotations

import asyncio
import mimetypes
from collections.abc import AsyncIterator
from pathlib import PurePosixPath
from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import Response

from mock_pokee.api.answers import JSONResponse
from mock_pokee.api.context import context, params, tenant_for
from mock_pokee.api.downloads import download
from mock_pokee.api.routing import Endpoint
from mock_pokee.domain.errors import ForbiddenPath, NotFound, PayloadTooLarge, RequestTimeout
from mock_pokee.domain.paths import check_raw_path, check_relative_path, quoted
from mock_pokee.domain.scopes import not_in_scope
from mock_pokee.domain.sessions import Session
from mock_pokee.domain.tenants import Tenant

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


def _raw_tail(request: Request) -> str:
    """What the client sent after ``/v1/sessions/{id}/``, undecoded.

    The router matched the decoded path, so ``files%2Fa.txt`` and ``%66iles/a.txt`` reach
    these routes too: the first holds an encoded slash (F2, 403), the second does not spell
    the route's fixed part literally (404, as for any unknown endpoint).
    """
    raw = (request.scope.get("raw_path") or request.scope["path"].encode()).decode("latin-1")
    tail = raw.split("/", 4)[4] if raw.count("/") >= 4 else ""
    check_raw_path(tail)
    route, _, path = tail.partition("/")
    if route != "files":
        raise NotFound(f"{request.method} {quoted(raw)}: no such endpoint")
    return path


def _file_path(request: Request) -> PurePosixPath:
    """The path after ``/files/``, decoded exactly once, F2-checked."""
    tail = _raw_tail(request)
    try:
        return check_relative_path(unquote(tail, errors="strict"))
    except UnicodeDecodeError:
        raise ForbiddenPath(f"path {quoted(tail)}: not valid UTF-8 once decoded") from None


def _session(request: Request) -> tuple[Tenant, Session]:
    tenant = tenant_for(request)
    return tenant, tenant.get_session(request.path_params["session_id"])


async def list_files(request: Request) -> Response:
    """F4: ``?path=<dir>`` (default: the root); above the scope, only the way to it (F8)."""
    tenant, session = _session(request)
    _raw_tail(request)
    text = params(request).get("path", "")  # already decoded once
    if len(text) > 1 and text.endswith("/"):
        text = text[:-1]  # ?path=output/ means the folder output
    path = check_relative_path(text)
    grant = tenant.authorize(session, path, "list")
    return JSONResponse(tenant.workspace.listing(path, grant))


async def get_file(request: Request) -> Response:
    """F5: the bytes (ranges honoured), or a directory's F4 listing."""
    tenant, session = _session(request)
    path = _file_path(request)
    grant = tenant.authorize(session, path, "list")
    opened = tenant.workspace.open_file(path)
    if opened is None:
        return JSONResponse(tenant.workspace.listing(path, grant))
    try:
        if not grant.full:  # a file on the way to the scope is not in it
            raise not_in_scope(path)
        return download(request, opened, content_type(path))
    except BaseException:
        opened.close()
        raise


async def put_file(request: Request) -> Response:
    """F3: the raw body, staged; over the limit → 413 and nothing stored."""
    tenant, session = _session(request)
    path = _file_path(request)
    tenant.authorize(session, path, "write")
    tenant.workspace.check_writable(path)  # before reading a body that could not be stored
    limit = context(request).upload_limit
    declared = request.headers.get("content-length")
    if declares_more_than(declared, limit):
        raise PayloadTooLarge(f"body: Content-Length is over the upload limit of {limit} bytes")
    if declared is not None and declared.isascii() and declared.isdigit():
        tenant.workspace.check_declared(path, int(declared))  # F9, before reading the body
    body = without_stalls(request.stream(), context(request).body_timeout)
    with await tenant.workspace.receive(body, limit) as staged:
        stored = tenant.workspace.commit(path, staged, tenant.clock.now())
    return JSONResponse(stored, status_code=201)


async def without_stalls(chunks: AsyncIterator[bytes], seconds: float) -> AsyncIterator[bytes]:
    """The body, or `RequestTimeout` once ``seconds`` of real time pass with no byte: an
    upload that trickles must not hold a connection and a staging file forever."""
    body = aiter(chunks)
    while True:
        try:
            async with asyncio.timeout(seconds):
                chunk = await anext(body)
        except StopAsyncIteration:
            return
        except TimeoutError:
            raise RequestTimeout(
                f"body: nothing arrived for {seconds:g} s; the upload was given up, nothing "
                "was stored"
            ) from None
        yield chunk


def declares_more_than(declared: str | None, limit: int) -> bool:
    """Whether a ``Content-Length`` announces more than ``limit`` (without converting a
    number of thousands of digits; one that is not a number is left to the server)."""
    if declared is None or not (declared.isascii() and declared.isdigit()):
        return False
    significant = declared.lstrip("0")
    return len(significant) > len(str(limit)) or int(significant or "0") > limit


async def delete_file(request: Request) -> Response:
    """F6: files only."""
    tenant, session = _session(request)
    path = _file_path(request)
    tenant.authorize(session, path, "write")
    tenant.workspace.delete(path, tenant.clock.now())
    return Response(status_code=204)


ENDPOINTS: dict[str, dict[str, Endpoint]] = {
    "/v1/sessions/{session_id}/files": {"GET": Endpoint(list_files, query=("path",))},
    "/v1/sessions/{session_id}/files/{file_path:path}": {
        "GET": Endpoint(get_file),
        "PUT": Endpoint(put_file),
        "DELETE": Endpoint(delete_file),
    },
}
