"""Downloading a workspace file so that the target is either whole or untouched.

The bytes go to a temporary file beside the target (same folder, so the final rename is
atomic and never crosses file systems). After a cut, the download asks for the rest with
``Range: bytes=<received>-`` and ``If-Range: <ETag>`` (F5): if the file changed meanwhile,
the server sends it whole again and the client starts over instead of splicing two
versions.

Only the file's bytes are saved: an answer counts only if it is ``200`` with a
``Content-Length`` or ``206`` with a ``Content-Range`` that matches what was asked (any
other 2xx, an empty ``204`` say, is a `ProtocolError`; a redirect is never followed, see
`pokee_client.exchange`), no more bytes are written than the answer announced, and the size
is checked again before the rename. The whole download, resumes included, ends at
``download_deadline``.

Whatever goes wrong, the temporary file is removed: there is never a partial file under
the target's name, and a refused path (403), an unknown one (404) or an answer that is not
the file writes nothing at all, not even the folder.

Writing to the local disk happens here, in the flow, for both clients: it is local and
quick, unlike the network.
"""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path
from typing import BinaryIO

import httpx

from pokee_client.base import ClientCore
from pokee_client.bodies import content_length, read_into
from pokee_client.effects import Close, Flow, sleep
from pokee_client.errors import ProtocolError, RangeNotSatisfiableError, TransportError
from pokee_client.exchange import call_streamed

_RANGE = re.compile(r"bytes ([0-9]{1,20})-([0-9]{1,20})/([0-9]{1,20})")  # ASCII digits only


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
    offset, validator = 0, None
    total: int | None = None
    fruitless = 0  # tries in a row that brought no new byte
    deadline = core.clock() + core.limits.download_deadline
    try:
        while True:
            request = core.requests.download(session_id, path, offset, validator)
            try:
                response = yield from call_streamed(core, request, idempotent=True)
            except RangeNotSatisfiableError:
                if offset > 0 and offset == total:
                    break  # the cut came after the last byte
                offset, validator = 0, None  # the file shrank: start over
                continue
            try:
                start, total = _span(response, path)
                if start == 0:  # the whole file: first try, or it changed meanwhile
                    part.restart()
                    offset = 0
                elif start != offset:
                    raise ProtocolError(f"asked for {path} from byte {offset}, got it from {start}")
            except ProtocolError:
                yield Close(response)
                raise
            validator = response.headers.get("etag") or response.headers.get("last-modified")
            before, file = offset, part.handle()
            try:
                yield from _receive(core, response, file, path, total, deadline)
            except httpx.TransportError as exc:
                yield Close(response)
                offset = file.tell()  # what the file holds is what was received
                fruitless = 0 if offset > before else fruitless + 1
                if fruitless >= core.policy.attempts:
                    raise TransportError(
                        f"GET {request.url.path}: cut {fruitless} times at byte {offset}"
                        f" of {total} ({exc})"
                    ) from exc
                if fruitless:  # the last try brought nothing new: back off first
                    yield from sleep(core.policy.backoff_delay(fruitless - 1))
                continue
            yield Close(response)
            break
        handle = part.handle()
        handle.flush()
        written = os.fstat(handle.fileno()).st_size
        if written != total:
            raise ProtocolError(f"{path}: received {written} bytes, the server announced {total}")
        part.commit()
        return target
    finally:
        part.discard()


def _receive(
    core: ClientCore,
    response: httpx.Response,
    file: BinaryIO,
    path: str,
    total: int,
    deadline: float,
) -> Flow[None]:
    """The rest of the file from one answer, appended to ``file``: never past the
    ``total`` bytes announced, and done by ``deadline``."""

    def too_large() -> ProtocolError:
        return ProtocolError(f"{path}: more than the {total} bytes announced")

    def overdue() -> TransportError:
        return TransportError(
            f"GET {path}: not done within {core.limits.download_deadline:g} s "
            f"(download_deadline), at byte {file.tell()} of {total}"
        )

    limit = total - file.tell()
    yield from read_into(
        core,
        response,
        file.write,
        limit=limit,
        deadline=deadline,
        too_large=too_large,
        overdue=overdue,
    )


def _span(response: httpx.Response, path: str) -> tuple[int, int]:
    """Where the body starts in the file, and the file's whole size: ``200`` with its
    ``Content-Length``, or ``206`` with a ``Content-Range`` to the file's end (as asked)
    that its ``Content-Length``, if any, agrees with. Anything else is no file."""
    status = response.status_code
    length = content_length(response.headers)
    if status == 200:
        if length is None:
            raise ProtocolError(f"GET {path}: 200 without a usable Content-Length")
        return 0, length
    if status != 206:
        raise ProtocolError(f"GET {path}: answered {status}, not the file (200 or 206)")
    spec = response.headers.get("content-range", "")
    match = _RANGE.fullmatch(spec.strip())
    if match is None:
        raise ProtocolError(f"GET {path}: 206 with an unusable Content-Range: {spec[:100]!r}")
    start, end, size = (int(n) for n in match.groups())
    if not start <= end == size - 1 or length not in (None, end - start + 1):
        raise ProtocolError(f"GET {path}: 206 with a Content-Range that does not add up: {spec!r}")
    return start, size
