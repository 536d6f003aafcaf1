"""Every request of the API, built in one place without sending anything.

Requests are complete when they leave here: absolute URL, key, timeouts (as the request's
``timeout`` extension, which httpx's transports read), idempotency key. The drivers only
send them, so the sync and async clients cannot drift apart.

Every request asks for the answer without content encoding (``Accept-Encoding:
identity``), whatever headers the caller adds: the flows read raw bytes and bound them as
they come, and a compressed answer would let a few bytes on the wire inflate past any bound.

File paths are passed through segment by segment, percent-encoded; a ``.`` or ``..``
segment is encoded too, because httpx would otherwise resolve it before sending and ask for
a different path than the caller named. Which paths are allowed is the server's rule (F2):
the client reports its answer instead of keeping a second copy of the rule.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx

from pokee_client import __version__
from pokee_client.config import Config
from pokee_client.uploads import FileBody

SCENARIO_HEADER = "X-Mock-Scenario"  # C6: mock-pokee only; a real deployment ignores it


def file_url_path(path: str) -> str:
    """A workspace path as URL path segments (see the module docstring)."""
    return "/".join(
        segment.replace(".", "%2E") if segment in (".", "..") else quote(segment, safe="")
        for segment in path.split("/")
    )


def _scenario(scenario: str | None) -> dict[str, str]:
    return {SCENARIO_HEADER: scenario} if scenario is not None else {}


def new_idempotency_key() -> str:
    return f"pokee-{uuid.uuid4().hex}"


class RequestBuilder:
    """Builds the `httpx.Request` of each endpoint for one base URL and key."""

    def __init__(
        self,
        config: Config,
        *,
        timeout: float,
        stream_read_timeout: float,
        headers: Mapping[str, str] | None = None,
    ):
        self._base = config.base_url
        self._headers = {
            "Authorization": f"Bearer {config.api_key}",
            "User-Agent": f"pokee-client/{__version__}",
            **(headers or {}),
            "Accept-Encoding": "identity",  # also: byte offsets must mean the file's bytes
        }
        self._timeout = httpx.Timeout(timeout).as_dict()
        # A stream may be silent between pings (M3: one per 15 s); longer silence is a stall.
        self._stream_timeout = httpx.Timeout(timeout, read=stream_read_timeout).as_dict()

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        stream: httpx.SyncByteStream | None = None,
        streamed_answer: bool = False,
    ) -> httpx.Request:
        return httpx.Request(
            method,
            self._base + path,
            params=params,
            json=json,
            headers={**self._headers, **(headers or {})},
            stream=stream,
            extensions={"timeout": self._stream_timeout if streamed_answer else self._timeout},
        )

    # -- sessions (S1–S6) ---------------------------------------------------------------

    def create_session(self, body: Mapping[str, Any]) -> httpx.Request:
        return self._request("POST", "/v1/sessions", json=dict(body))

    def get_session(self, session_id: str) -> httpx.Request:
        return self._request("GET", f"/v1/sessions/{quote(session_id, safe='')}")

    def list_sessions(self) -> httpx.Request:
        return self._request("GET", "/v1/sessions")

    def delete_session(self, session_id: str) -> httpx.Request:
        return self._request("DELETE", f"/v1/sessions/{quote(session_id, safe='')}")

    def delete_sessions(self, status: str | None, older_than: str | None) -> httpx.Request:
        params = {"status": status, "older_than": older_than}
        return self._request(
            "DELETE",
            "/v1/sessions",
            params={name: value for name, value in params.items() if value is not None},
        )

    # -- turns (M1, M7, M8, M9) ------------------------------------------------------------

    def send_message(
        self, session_id: str, message: str, idempotency_key: str, scenario: str | None
    ) -> httpx.Request:
        headers = {"Idempotency-Key": idempotency_key, "Accept": "text/event-stream"}
        return self._request(
            "POST",
            f"/v1/sessions/{quote(session_id, safe='')}/messages",
            json={"message": message},
            headers={**headers, **_scenario(scenario)},
            streamed_answer=True,
        )

    def resume_events(self, session_id: str, response_id: str, after: int) -> httpx.Request:
        """M7: the events after ``after`` (-1: from the start, so no header)."""
        headers = {"Accept": "text/event-stream"}
        if after >= 0:
            headers["Last-Event-ID"] = str(after)
        return self._request(
            "GET",
            f"/v1/sessions/{quote(session_id, safe='')}/responses/"
            f"{quote(response_id, safe='')}/events",
            headers=headers,
            streamed_answer=True,
        )

    def cancel(self, session_id: str, response_id: str) -> httpx.Request:
        return self._request(
            "POST",
            f"/v1/sessions/{quote(session_id, safe='')}/responses/"
            f"{quote(response_id, safe='')}/cancel",
        )

    # -- stateless responses (R1, R5, R6) --------------------------------------------------

    def create_response(self, body: Mapping[str, Any], scenario: str | None) -> httpx.Request:
        """R1 answered in one piece (R3): no ``Idempotency-Key``, which R1 ignores there."""
        return self._request("POST", "/v1/responses", json=dict(body), headers=_scenario(scenario))

    def stream_response(
        self, body: Mapping[str, Any], idempotency_key: str, scenario: str | None
    ) -> httpx.Request:
        """R1 with ``stream: true`` in ``body``, answered as events (R5)."""
        headers = {"Idempotency-Key": idempotency_key, "Accept": "text/event-stream"}
        return self._request(
            "POST",
            "/v1/responses",
            json=dict(body),
            headers={**headers, **_scenario(scenario)},
            streamed_answer=True,
        )

    def resume_response(self, response_id: str, after: int) -> httpx.Request:
        """R6: the events after ``after`` (-1: from the start, so no header)."""
        headers = {"Accept": "text/event-stream"}
        if after >= 0:
            headers["Last-Event-ID"] = str(after)
        return self._request(
            "GET",
            f"/v1/responses/{quote(response_id, safe='')}/events",
            headers=headers,
            streamed_answer=True,
        )

    def cancel_response(self, response_id: str) -> httpx.Request:
        return self._request("POST", f"/v1/responses/{quote(response_id, safe='')}/cancel")

    # -- files (F3–F6) -------------------------------------------------------------------

    def list_files(self, session_id: str, path: str) -> httpx.Request:
        return self._request(
            "GET",
            f"/v1/sessions/{quote(session_id, safe='')}/files",
            params={"path": path} if path else None,
        )

    def download(
        self, session_id: str, path: str, offset: int, validator: str | None
    ) -> httpx.Request:
        """F5: the whole file, or from ``offset`` on if it is still the same file
        (``If-Range`` with its ``ETag`` or ``Last-Modified``)."""
        headers = {}
        if offset > 0:
            headers["Range"] = f"bytes={offset}-"
            if validator is not None:
                headers["If-Range"] = validator
        return self._request("GET", self._file(session_id, path), headers=headers)

    def upload(self, session_id: str, path: str, body: FileBody) -> httpx.Request:
        request = self._request(
            "PUT",
            self._file(session_id, path),
            headers={"Content-Length": str(body.size)},
            stream=body,
        )
        # httpx adds Host itself only to requests whose body it encoded.
        request.headers["Host"] = request.url.netloc.decode("ascii")
        return request

    def delete_file(self, session_id: str, path: str) -> httpx.Request:
        return self._request("DELETE", self._file(session_id, path))

    def _file(self, session_id: str, path: str) -> str:
        return f"/v1/sessions/{quote(session_id, safe='')}/files/{file_url_path(path)}"

    # -- skills (K1, K3) ------------------------------------------------------------------

    def install_skill(self, name: str, body: FileBody) -> httpx.Request:
        request = self._request(
            "POST",
            self._skill(name),
            headers={"Content-Type": "application/zip", "Content-Length": str(body.size)},
            stream=body,
        )
        # httpx adds Host itself only to requests whose body it encoded.
        request.headers["Host"] = request.url.netloc.decode("ascii")
        return request

    def list_skills(self) -> httpx.Request:
        return self._request("GET", "/v1/skills")

    def delete_skill(self, name: str) -> httpx.Request:
        return self._request("DELETE", self._skill(name))

    def _skill(self, name: str) -> str:
        return f"/v1/skills/{quote(name, safe='')}"

    # -- usage (U1) ----------------------------------------------------------------------

    def usage(self) -> httpx.Request:
        return self._request("GET", "/v1/usage")
