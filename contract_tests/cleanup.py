"""Leaving a deployment as the tests found it.

Every client the contract tests make (`contract_tests.target.client_for`) reports to the
`LEDGER` each session it created (``POST /v1/sessions`` → 201), each file it uploaded
(``PUT …/files/{path}`` → 201) and each skill it installed (``POST /v1/skills/{name}`` →
201), with the key that did it. After each test — passed, failed or errored — `clean_up`
deletes exactly those: the sessions one by one (never a bulk delete, which would reach
sessions the run did not make), then the files through a short-lived session of their
own, then the skills by name (the tests install skills of their own names only). On the
mock a test that still leaves a session, a file or a skill behind fails (see conftest), so
the ledger cannot quietly miss a route.

Stateless ``/v1/responses`` calls (R) make nothing to delete; the ledger counts them and
what they used (`Ledger.note_response`), so the run can say what it cost in the tenant's
``response`` bucket.

What the ledger cannot see: files a turn writes by itself. The contract tests that run
against a deployment only send messages that write nothing (the default quick answer)
or cancel their turn before it writes; the mock-only ones run in a tenant of their own.
"""

from __future__ import annotations

import re
import secrets
import ssl
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import httpx

_FILE = re.compile(r"/v1/sessions/[^/]+/files/(.+)")
_MESSAGES = re.compile(r"/v1/sessions/[^/]+/messages")
_SKILL = re.compile(r"/v1/skills/([^/]+)")


RATES = {  # U2: dollars per million input / output / cache-read input tokens
    "pokee-isaac-high-reasoning": (3.0, 15.0, 0.30),
    "pokee-isaac": (0.30, 5.0, 0.10),
}


def credit(model: object, usage: dict[str, Any]) -> float | None:
    """R7 with U2: what a response's ``usage`` (R3's shape) costs at its model's documented
    rates; input read from the cache (a part of ``input_tokens``) at the cache-read rate.
    None for a model the documented table lacks."""
    if not isinstance(model, str) or model not in RATES:
        return None
    rate_in, rate_out, rate_cached = RATES[model]
    cached = int((usage.get("input_tokens_details") or {}).get("cached_tokens") or 0)
    fresh = int(usage["input_tokens"]) - cached
    return (fresh * rate_in + cached * rate_cached + int(usage["output_tokens"]) * rate_out) / 1e6


def unique_folder() -> str:
    """A workspace folder no other test (or run, or user) has: ``ct-<hex>/``."""
    return f"ct-{secrets.token_hex(6)}/"


@dataclass
class Tally:
    """What the whole run made and spent on the target, for its closing summary: sessions
    and files created, the folders the files went in (empty folders stay: the API cannot
    delete one), turns started, ``/v1/responses`` calls answered with the tokens and credit
    each used (by response id, so a replay is not counted twice; a cancelled response is
    not billed, R6), and what cleaning up could not remove."""

    sessions: int = 0
    files: int = 0
    skills: int = 0
    folders: set[str] = field(default_factory=set)
    turns: set[str] = field(default_factory=set)  # response ids: a replay is not a new turn
    responses: set[str] = field(default_factory=set)  # answered: one per response id
    response_posts: int = 0  # every POST /v1/responses, refusals (400, 402, 429 …) included
    response_tokens: dict[str, int] = field(default_factory=dict)  # response id -> tokens
    response_credit: dict[str, float | None] = field(default_factory=dict)  # None: unknown
    left_behind: list[str] = field(default_factory=list)


@dataclass
class Ledger:
    """What this test created, by the Authorization header that created it."""

    sessions: dict[str, str | None] = field(default_factory=dict)  # id -> authorization
    files: dict[tuple[str | None, str], None] = field(default_factory=dict)  # ordered set
    skills: dict[tuple[str | None, str], None] = field(default_factory=dict)  # ordered set
    tally: Tally = field(default_factory=Tally)  # the whole run's, never taken
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, response: httpx.Response) -> None:
        """An httpx response hook."""
        request = response.request
        path = request.url.path
        answered = response.headers.get("x-response-id")
        if request.method == "POST" and path == "/v1/responses":
            with self._lock:
                self.tally.response_posts += 1
        if request.method == "POST" and response.status_code == 200 and answered:
            with self._lock:
                if _MESSAGES.fullmatch(path):
                    self.tally.turns.add(answered)
                elif path == "/v1/responses":
                    self.tally.responses.add(answered)
            if path == "/v1/responses" and "json" in response.headers.get("content-type", ""):
                response.read()  # a JSON answer (R3) is whole here; a stream's is noted later
                self.note_response(response.json())
        if response.status_code != 201:
            return
        authorization = request.headers.get("authorization")
        if request.method == "POST" and path == "/v1/sessions":
            response.read()
            with self._lock:
                self.sessions[str(response.json()["id"])] = authorization
                self.tally.sessions += 1
        elif request.method == "PUT" and (match := _FILE.fullmatch(path)):
            stored = unquote(match[1])
            with self._lock:
                self.files[(authorization, stored)] = None
                self.tally.files += 1
                if "/" in stored:
                    self.tally.folders.add(stored.split("/", 1)[0])
        elif request.method == "POST" and (match := _SKILL.fullmatch(path)):
            with self._lock:
                self.skills[(authorization, unquote(match[1]))] = None
                self.tally.skills += 1

    def note_response(self, body: object) -> None:
        """R3, R7: a response object the run was answered (a JSON answer, or the
        ``response`` of a stream's terminal event): its tokens and credit, once per id."""
        if not isinstance(body, dict) or body.get("object") != "response":
            return
        usage, rid = body.get("usage"), body.get("id")
        if not isinstance(rid, str) or not isinstance(usage, dict):
            return
        try:
            tokens = int(usage["input_tokens"]) + int(usage["output_tokens"])
            cost = 0.0 if body.get("status") == "cancelled" else credit(body.get("model"), usage)
        except (KeyError, TypeError, ValueError):
            return  # not R3's usage: the tests that read it say so
        with self._lock:
            self.tally.responses.add(rid)
            self.tally.response_tokens[rid] = tokens
            self.tally.response_credit[rid] = cost

    def take(
        self,
    ) -> tuple[dict[str, str | None], list[tuple[str | None, str]], list[tuple[str | None, str]]]:
        with self._lock:
            sessions, files, skills = dict(self.sessions), list(self.files), list(self.skills)
            self.sessions.clear()
            self.files.clear()
            self.skills.clear()
        return sessions, files, skills


LEDGER = Ledger()


def clean_up(url: str, verify: ssl.SSLContext, ledger: Ledger = LEDGER) -> list[str]:
    """Delete what the ledger recorded; returns what could not be deleted."""
    sessions, files, skills = ledger.take()
    problems = []
    clients: dict[str | None, httpx.Client] = {}

    def client(authorization: str | None) -> httpx.Client:
        if authorization not in clients:
            headers = {"Authorization": authorization} if authorization else {}
            clients[authorization] = httpx.Client(
                base_url=url, headers=headers, timeout=10, verify=verify
            )
        return clients[authorization]

    try:
        for sid, authorization in sessions.items():
            status = client(authorization).delete(f"/v1/sessions/{sid}").status_code
            if status not in (204, 404):
                problems.append(f"DELETE session {sid}: {status}")
        by_key: dict[str | None, list[str]] = {}
        for authorization, path in files:
            by_key.setdefault(authorization, []).append(path)
        for authorization, paths in by_key.items():
            problems += _delete_files(client(authorization), paths)
        for authorization, name in skills:
            status = client(authorization).delete(f"/v1/skills/{name}").status_code
            if status not in (204, 404):
                problems.append(f"DELETE skill {name}: {status}")
    except httpx.HTTPError as exc:
        problems.append(f"cleaning up: {exc!r}")
    finally:
        for each in clients.values():
            each.close()
    ledger.tally.left_behind += problems
    return problems


def _delete_files(http: httpx.Client, paths: list[str]) -> list[str]:
    created = http.post("/v1/sessions", json={"ttl": 300})
    if created.status_code != 201:
        return [f"a session to delete {len(paths)} file(s) with: {created.status_code}"]
    sid = created.json()["id"]
    problems = []
    for path in paths:
        status = http.delete(f"/v1/sessions/{sid}/files/{path}").status_code
        if status not in (204, 404):
            problems.append(f"DELETE file {path}: {status}")
    http.delete(f"/v1/sessions/{sid}")
    return problems
