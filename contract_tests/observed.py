"""Every answer the contract tests saw, so the run can check that the OpenAPI document
lists each status the server actually gave (issue: "the document says what the server
does"). Statuses a fault rule injected on purpose (C5) are left out."""

from __future__ import annotations

import re
from functools import cache

import httpx

from mock_pokee.app import openapi_document

INJECTED = "injected by the mock"
SEEN: set[tuple[str, str, int]] = set()  # (method, path as sent, status)


def observe(response: httpx.Response) -> None:
    """An httpx response hook: remembers what was asked and answered."""
    request = response.request
    if response.status_code >= 400 and "json" in response.headers.get("content-type", ""):
        response.read()
        if INJECTED in response.text:
            return
    method = "GET" if request.method == "HEAD" else request.method
    SEEN.add((method, request.url.path, response.status_code))


@cache
def _templates() -> list[tuple[re.Pattern[str], str]]:
    patterns = []
    for path in openapi_document()["paths"]:
        regex = re.sub(r"\{file_path\}", ".+", path)
        regex = re.sub(r"\{[a-z_]+\}", "[^/]+", regex)
        patterns.append((re.compile(regex), path))
    # The longest template first, so /files/{file_path} wins over /{session_id}.
    return sorted(patterns, key=lambda pair: -len(pair[1]))


def operation(method: str, path: str) -> tuple[str, str] | None:
    for regex, template in _templates():
        if regex.fullmatch(path):
            return method.lower(), template
    return None


def undocumented() -> list[str]:
    """Observed (operation, status) pairs the document does not list."""
    paths = openapi_document()["paths"]
    missing = set()
    for method, path, status in SEEN:
        found = operation(method, path)
        if found is None:
            continue  # /_mock, /openapi.json and unknown paths are not /v1 operations
        verb, template = found
        responses = paths[template].get(verb, {}).get("responses")
        if responses is None:
            if status != 405:
                missing.add(f"{method} {template}: not documented at all ({status})")
            continue
        if str(status) not in responses:
            missing.add(f"{method} {template}: {status}")
    return sorted(missing)
