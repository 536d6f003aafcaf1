"""An upload body that both clients can send, and send again on a retry.

httpx needs a sync byte stream for `httpx.Client` and an async one for `httpx.AsyncClient`;
like httpx's own in-memory ``ByteStream``, this class is both. Each iteration reopens the
file, so a retried upload (PUT is idempotent) sends it whole again, and a large file is
never held in memory. The size is taken once, up front, for ``Content-Length`` (F3 refuses
an oversized body before reading it).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx

CHUNK = 256 * 1024


class FileBody(httpx.SyncByteStream, httpx.AsyncByteStream):
    def __init__(self, source: Path | bytes):
        self._source = source
        self.size = len(source) if isinstance(source, bytes) else source.stat().st_size

    def __iter__(self) -> Iterator[bytes]:
        if isinstance(self._source, bytes):
            yield self._source
            return
        with self._source.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                yield chunk

    async def __aiter__(self) -> AsyncIterator[bytes]:
        # Local disk reads of this size are quicker than a thread hop per chunk.
        for chunk in self:
            yield chunk
