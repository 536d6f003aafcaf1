"""F5's download: the bytes of one open file, whole or in ranges.

Starlette's ``FileResponse`` opens the file by its name when it starts sending, and again
for each range: a download that overlaps an overwrite or a delete then mixes versions or
comes back cut. `OpenFileResponse` serves from a handle opened once (`OpenFile`), so the
body is exactly the version that was there when the request was answered, and its length
is its ``Content-Length``. Everything else FileResponse does is kept: ``Accept-Ranges``,
``ETag``, ``Last-Modified``, ``Range`` (one part → ``Content-Range``, several →
``multipart/byteranges``), ``If-Range``, HEAD, and stopping when the client leaves. Unlike
it, every refusal is A5 JSON (a malformed or unsatisfiable ``Range`` 416, F5), also with a
matching ``If-Range``.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Sequence
from email.utils import formatdate, parsedate_to_datetime

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from mock_pokee.domain.ranges import parse_range, satisfiable
from mock_pokee.domain.workspace import OpenFile

# Bytes read per thread hop: large enough that the hop costs little next to the copy.
CHUNK_SIZE = 1 << 20

# What the body is made of: literal bytes (multipart framing) or (offset, length) of the file.
Piece = bytes | tuple[int, int]


def download(request: Request, opened: OpenFile, media_type: str) -> Response:
    """The response for a GET (or HEAD) of ``opened``; it closes ``opened`` when sent."""
    if media_type.startswith("text/"):
        media_type += "; charset=utf-8"
    headers = {
        "accept-ranges": "bytes",
        "etag": opened.etag,
        "last-modified": formatdate(opened.modified, usegmt=True),
    }
    header = request.headers.get("range")
    if header is None:
        return _whole(opened, media_type, headers)
    parts = parse_range(header, opened.size)  # 416 if malformed, If-Range or not (F5)
    if_range = request.headers.get("if-range")
    if if_range is not None and not _validator_matches(if_range, opened):
        return _whole(opened, media_type, headers)  # changed since: the whole new version
    spans = satisfiable(parts, opened.size)  # 416 if no part is inside the file
    size = opened.size
    if len(spans) == 1:
        first, last = spans[0]
        headers["content-type"] = media_type
        headers["content-range"] = f"bytes {first}-{last}/{size}"
        return OpenFileResponse(opened, 206, headers, [(first, last - first + 1)])
    boundary = secrets.token_hex(16)
    pieces: list[Piece] = []
    for first, last in spans:
        part_head = (
            f"--{boundary}\r\nContent-Type: {media_type}\r\n"
            f"Content-Range: bytes {first}-{last}/{size}\r\n\r\n"
        )
        pieces += [part_head.encode(), (first, last - first + 1), b"\r\n"]
    pieces.append(f"--{boundary}--\r\n".encode())
    headers["content-type"] = f"multipart/byteranges; boundary={boundary}"
    return OpenFileResponse(opened, 206, headers, pieces)


def _whole(opened: OpenFile, media_type: str, headers: dict[str, str]) -> Response:
    return OpenFileResponse(
        opened, 200, {**headers, "content-type": media_type}, [(0, opened.size)]
    )


def _validator_matches(if_range: str, opened: OpenFile) -> bool:
    """RFC 9110 §13.1.5: a strong ETag equal to ours, or exactly our Last-Modified date."""
    value = if_range.strip()
    if value.startswith(('"', "W/")):
        return value == opened.etag
    try:
        return parsedate_to_datetime(value).timestamp() == int(opened.modified)
    except (TypeError, ValueError, IndexError, OverflowError):
        return False


class OpenFileResponse(Response):
    """The pieces of an open file, read in a worker thread a chunk at a time (a read
    never blocks the event loop) and sent as they come; the file is closed at the end,
    however it ends."""

    def __init__(
        self, opened: OpenFile, status_code: int, headers: dict[str, str], pieces: Sequence[Piece]
    ):
        self.opened = opened
        self.status_code = status_code
        self.pieces = pieces
        self.background = None
        length = sum(len(p) if isinstance(p, bytes) else p[1] for p in pieces)
        headers["content-length"] = str(length)
        self.raw_headers = [(k.encode(), v.encode("latin-1")) for k, v in headers.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        gone = asyncio.Event()
        watcher = asyncio.get_running_loop().create_task(_until_disconnect(receive, gone))
        try:
            await send(
                {
                    "type": "http.response.start",
                    "status": self.status_code,
                    "headers": self.raw_headers,
                }
            )
            if scope["method"] != "HEAD":
                await self._send_pieces(send, gone)
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            watcher.cancel()
            self.opened.close()

    async def _send_pieces(self, send: Send, gone: asyncio.Event) -> None:
        for piece in self.pieces:
            if isinstance(piece, bytes):
                await send({"type": "http.response.body", "body": piece, "more_body": True})
                continue
            offset, remaining = piece
            while remaining > 0:
                if gone.is_set():
                    return
                chunk = await anyio.to_thread.run_sync(
                    self.opened.read, offset, min(remaining, CHUNK_SIZE)
                )
                if not chunk:  # cannot happen to an open, unchanged inode; never loop on it
                    raise RuntimeError(f"file ended {remaining} bytes early")
                offset += len(chunk)
                remaining -= len(chunk)
                await send({"type": "http.response.body", "body": chunk, "more_body": True})


async def _until_disconnect(receive: Receive, gone: asyncio.Event) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
    gone.set()
