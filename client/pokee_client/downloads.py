"""Downloading a workspace file so that the target is either whole or untouched.

The bytes go to a temporary file beside the target (same folder, so the final rename is
atomic and never crosses file systems). After a cut, the download asks for the rest with
``Range: bytes=<received>-`` and ``If-Range: <ETag>`` (F5): if the file changed meanwhile,
the server sends it whole again and the client starts over instead of splicing two
versions. The size is checked against ``Content-Length``/``Content-Range`` before the
rename. Whatever goes wrong, the temporary file is removed: there is never a partial file
under the target's name, and a refused path (403) or an unknown one (404) writes nothing at
all, not even the folder.

Writing to the local disk happens here, in the flow, for both clients: it is local and
quick, unlike the network.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import BinaryIO

import httpx

from pokee_client.base import ClientCore
from pokee_client.effects import Close, Flow, NextChunk, sleep
from pokee_client.errors import ProtocolError, RangeNotSatisfiableError, TransportError
from pokee_client.exchange import call_streamed


class _Part:
    """The temporary file, created on the first good answer."""

    def __init__(self, target: Path):
        self.target = target
        self.path = target.with_name(f".{target.name}.{uuid.uuid4().hex[:12]}.part")
        self._handle: BinaryIO | None = None

    def restart(self) -> BinaryIO:
        if self._handle is None:
            self.target.parent.mkdir(parents=True, exist_ok=True)
            self._handle = self.path.open("xb")
        self._handle.seek(0)
        self._handle.truncate()
        return self._handle

    def handle(self) -> BinaryIO:
        assert self._handle is not None
        return self._handle

    def commit(self) -> None:
        self.handle().close()
        os.replace(self.path, self.target)
        self._handle = None

    def discard(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self.path.unlink(missing_ok=True)
            self._handle = None


def download(
    core: ClientCore, session_id: str, path: str, target: str | Path | None = None
) -> Flow[Path]:
    """F5: the file at ``path`` saved as ``target`` (default: its name, in the current
    folder); returns where it was saved."""
    target = Path(target) if target is not None else Path(path.rsplit("/", 1)[-1])
    part = _Part(target)
    offset, total, validator = 0, None, None
    fruitless = 0  # tries in a row that brought no new byte
    try:
        while True:
            request = core.requests.download(session_id, path, offset, validator)
            try:
                response = yield from call_streamed(core.policy, request, idempotent=True)
            except RangeNotSatisfiableError:
                if offset > 0 and offset == total:
                    break  # the cut came after the last byte
                offset, validator = 0, None  # the file shrank: start over
                continue
            start, size = _span(response)
            if response.status_code != 206:  # the whole file: first try, or it changed
                part.restart()
                offset = 0
            elif start != offset:
                yield Close(response)
                raise ProtocolError(f"asked for {path} from byte {offset}, got it from {start}")
            validator = response.headers.get("etag") or response.headers.get("last-modified")
            total, before = size, offset
            try:
                while True:
                    chunk: bytes | None = yield NextChunk(response)
                    if chunk is None:
                        break
                    part.handle().write(chunk)
                    offset += len(chunk)
            except httpx.TransportError as exc:
                yield Close(response)
                fruitless = 0 if offset > before else fruitless + 1
                if fruitless >= core.policy.attempts:
                    raise TransportError(
                        f"GET {request.url.path}: cut {fruitless} times at byte {offset}"
                        f"{f' of {total}' if total is not None else ''} ({exc})"
                    ) from exc
                if fruitless:  # the last try brought nothing new: back off first
                    yield from sleep(core.policy.backoff_delay(fruitless - 1))
                continue
            yield Close(response)
            break
        handle = part.handle()
        handle.flush()
        written = os.fstat(handle.fileno()).st_size
        if total is not None and written != total:
            raise ProtocolError(f"{path}: received {written} bytes, the server announced {total}")
        part.commit()
        return target
    finally:
        part.discard()


def _span(response: httpx.Response) -> tuple[int, int | None]:
    """Where the body starts in the file, and the file's whole size if known."""
    if response.status_code == 206:
        unit, _, spec = response.headers.get("content-range", "").partition(" ")
        first, _, size = spec.partition("/")
        start = first.partition("-")[0]
        if unit != "bytes" or not start.isdigit():
            raise ProtocolError(f"206 with an unusable Content-Range: {spec!r}")
        return int(start), int(size) if size.isdigit() else None
    length = response.headers.get("content-length")
    return 0, int(length) if length is not None and length.isdigit() else None
