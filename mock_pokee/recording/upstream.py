"""The deployment behind the recording proxy: one connection pool for what clients send
through it and for the proxy's own reads (a session's metadata, its workspace, a file,
a resumed stream), each sent with the key the client's request carried.

The proxy's own reads ask for ``Accept-Encoding: identity`` as forwarded requests do, and
are bounded: a workspace listing stops at `MAX_ENTRIES` entries and `MAX_DEPTH` folders
deep, a JSON answer at `MAX_JSON` bytes, a download at the caller's limit.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from mock_pokee.domain.errors import InvalidRequest
from mock_pokee.domain.inputs import parse_json

CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 30.0  # for the proxy's own short reads; forwarded answers have none
MAX_JSON = 16 * 1024 * 1024
MAX_ENTRIES = 5_000
MAX_DEPTH = 16


@dataclass(frozen=True)
class Listing:
    """A workspace as F4 showed it: each file's (size, modified), by path."""

    files: dict[str, tuple[int, Any]]
    truncated: bool = False  # it had more entries, or deeper folders, than the bounds


class Upstream:
    def __init__(self, base: str):
        self.base = base.rstrip("/")
        self.prefix = httpx.URL(self.base).raw_path.rstrip(b"/")  # a deployment under a path
        self.client = httpx.AsyncClient(
            # No total or read timeout: a turn's stream may stay quiet for as long as the
            # upstream wants. No environment either: no .netrc key or proxy slips in.
            timeout=httpx.Timeout(None, connect=CONNECT_TIMEOUT),
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=32),
            follow_redirects=False,
            trust_env=False,
        )

    def target(self, raw_path: bytes, query: bytes) -> bytes:
        """The request target upstream: the client's path, byte for byte (httpx would
        resolve a ``..`` in it, and the upstream must see what the client sent)."""
        return self.prefix + raw_path + (b"?" + query if query else b"")

    async def aclose(self) -> None:
        await self.client.aclose()

    # -- the proxy's own reads -----------------------------------------------------------

    def _headers(self, auth: str | None, **extra: str) -> dict[str, str]:
        headers = {"Accept-Encoding": "identity", **extra}
        if auth is not None:
            headers["Authorization"] = auth
        return headers

    async def json(self, path: str, auth: str | None, params: dict[str, str] | None = None) -> Any:
        """A 200 JSON answer, parsed; None for any other answer or a failed request."""
        try:
            async with self.client.stream(
                "GET",
                self.base + path,
                params=params,
                headers=self._headers(auth),
                timeout=httpx.Timeout(READ_TIMEOUT, connect=CONNECT_TIMEOUT),
            ) as response:
                body = await _read(response, MAX_JSON) if response.status_code == 200 else None
        except httpx.HTTPError:
            return None
        try:
            return None if body is None else parse_json(body, "body")
        except InvalidRequest:
            return None

    async def metadata(self, session: str, auth: str | None) -> dict[str, Any] | None:
        """S4's ``metadata`` of a session, or None when it cannot be read."""
        record = await self.json(f"/v1/sessions/{quote(session, safe='')}", auth)
        metadata = record.get("metadata") if isinstance(record, dict) else None
        return metadata if isinstance(metadata, dict) else None

    async def listing(self, session: str, auth: str | None) -> Listing:
        """The whole workspace the session can see, folder by folder (F4)."""
        files: dict[str, tuple[int, Any]] = {}
        seen = 0
        folders = [("", 0)]
        truncated = False
        path = f"/v1/sessions/{quote(session, safe='')}/files"
        while folders:
            folder, depth = folders.pop()
            entries = await self.json(path, auth, {"path": folder} if folder else None)
            for entry in entries if isinstance(entries, list) else []:
                name = entry.get("name") if isinstance(entry, dict) else None
                if not isinstance(name, str) or not name or "/" in name:
                    continue
                seen += 1
                if seen > MAX_ENTRIES:
                    return Listing(files, truncated=True)
                inner = f"{folder}/{name}" if folder else name
                if entry.get("type") == "directory":
                    if depth + 1 < MAX_DEPTH:
                        folders.append((inner, depth + 1))
                    else:
                        truncated = True
                elif isinstance(entry.get("size"), int):
                    files[inner] = (entry["size"], entry.get("modified"))
        return Listing(files, truncated)

    async def download(self, session: str, path: str, auth: str | None, limit: int) -> bytes | None:
        """F5: a file's bytes, or None if it fails or holds more than ``limit`` bytes."""
        segments = "/".join(quote(segment, safe="") for segment in path.split("/"))
        url = f"{self.base}/v1/sessions/{quote(session, safe='')}/files/{segments}"
        try:
            async with self.client.stream(
                "GET",
                url,
                headers=self._headers(auth),
                timeout=httpx.Timeout(READ_TIMEOUT, connect=CONNECT_TIMEOUT),
            ) as response:
                return await _read(response, limit) if response.status_code == 200 else None
        except httpx.HTTPError:
            return None

    @asynccontextmanager
    async def events(
        self, path: str, auth: str | None, last_id: str | None
    ) -> AsyncIterator[httpx.Response]:
        """M7, R6: a run's events after ``last_id`` (from the start without one), then
        live ones. The caller reads it, and bounds how long it waits for bytes."""
        extra = {"Last-Event-ID": last_id} if last_id is not None else {}
        async with self.client.stream(
            "GET", self.base + path, headers=self._headers(auth, **extra)
        ) as response:
            yield response


async def _read(response: httpx.Response, limit: int) -> bytes | None:
    """The body, or None once it passes ``limit`` bytes (the rest is not read)."""
    body = bytearray()
    async for chunk in response.aiter_raw():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)
