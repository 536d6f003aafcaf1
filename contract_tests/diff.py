"""Differential mode: one seeded sequence of operations, run against two targets, and
where their answers differ — status, fields, event order.

    python -m contract_tests.diff URL_A URL_B [--key-a K] [--key-b K] [--seed N] [--steps N]
    pytest contract_tests --diff-against URL_B     # A is the suite's own target

The sequence is planned before anything is sent, from the seed alone, over symbolic
sessions and files ("the 2nd session made", "file 1"), so both targets get exactly the
same requests even when one of them answers differently; a session one target refused to
create is then addressed by an id that does not exist, and the difference shows up where
it started and wherever it spreads. Every operation is safe on a real deployment: the
sequence only touches sessions it creates and files in a folder of its own, and deletes
both at the end (no bulk deletes, no control plane).

Answers are compared after normalisation: ids (``sess_…``, ``msg_…``, ``toolu_…``,
``call_…``) become ``<sess 1>`` in order of appearance, timestamps become ``<time>``,
human texts (error messages, streamed content) become ``<text>``, the folder becomes
``<folder>``; runs of deltas collapse to one (how a text is chunked is not the contract).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import secrets
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from .sse import read

_IDS = re.compile(r"\b(sess|msg|toolu|call)_[0-9a-f]{12,24}\b")
_VOLATILE = {"created_at", "last_activity", "modified"}
_TEXT = {"message", "content", "note"}
_KEPT_HEADERS = ("content-type", "retry-after", "x-response-id", "content-range")
FILES = ("a.txt", "d/b.md")
NO_SESSION = "sess_000000000000"
NO_TURN = "msg_" + "0" * 24


@dataclass(frozen=True)
class Op:
    """One planned request. ``session`` and ``file`` are symbolic (indexes)."""

    kind: str
    session: int | None = None
    file: str | None = None
    body: Any = None

    def describe(self) -> str:
        parts = [self.kind]
        if self.session is not None:
            parts.append(f"session #{self.session + 1}")
        if self.file is not None:
            parts.append(self.file)
        return " ".join(parts)


def plan(seed: int, steps: int) -> list[Op]:
    """The operations, chosen from the seed and a symbolic state only."""
    rng = random.Random(seed)
    made = 0
    live: list[int] = []
    ended: list[int] = []  # sessions with a finished turn
    files: set[str] = set()
    ops: list[Op] = []
    for _ in range(steps):
        choices = ["create", "list", "get_unknown", "bad_create", "upload"]
        if live:
            choices += ["get", "send", "delete", "download", "list_files", "delete_file"]
        if ended:
            choices += ["resume", "cancel_after"]
        kind = rng.choice(choices)
        if kind == "create" and len(live) < 4:
            body: dict[str, object] = {"persistent": rng.random() < 0.5}
            body["ttl"] = rng.choice([600, 3600, 14400])
            if rng.random() < 0.5:
                body["metadata"] = {"run": rng.choice(["a", "b"])}
            ops.append(Op("create", made, body=body))
            live.append(made)
            made += 1
        elif kind in ("get", "send", "delete", "download", "list_files", "delete_file"):
            session = rng.choice(live)
            name = rng.choice(FILES) if kind in ("download", "delete_file") else None
            ops.append(Op(kind, session, name))
            if kind == "send" and session not in ended:
                ended.append(session)
            elif kind == "delete":
                live.remove(session)
                ended = [s for s in ended if s != session]
            elif kind == "delete_file" and name is not None:
                files.discard(name)
        elif kind in ("resume", "cancel_after"):
            after = rng.choice([None, 0, 1, 2]) if kind == "resume" else None
            ops.append(Op(kind, rng.choice(ended), body=after))
        elif kind == "upload" and live:
            name = rng.choice(FILES)
            ops.append(Op("upload", rng.choice(live), name, rng.randbytes(rng.randint(0, 40))))
            files.add(name)
        elif kind in ("list", "get_unknown", "bad_create"):
            bodies = [{"ttl": 0}, {"persistant": True}, {"metadata": []}]
            ops.append(Op(kind, body=rng.choice(bodies) if kind == "bad_create" else None))
    return ops


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: Any
    events: list[tuple[str, Any]] | None = None


@dataclass
class Runner:
    """Runs a plan against one target, keeping the real ids behind the symbolic ones."""

    client: httpx.Client
    folder: str = field(default_factory=lambda: f"ct-{secrets.token_hex(6)}/")
    sessions: dict[int, str] = field(default_factory=dict)
    turns: dict[int, str] = field(default_factory=dict)
    uploaded: set[str] = field(default_factory=set)

    def sid(self, op: Op) -> str:
        assert op.session is not None
        return self.sessions.get(op.session, NO_SESSION)

    def run(self, op: Op) -> Answer:
        api = self.client
        base = f"/v1/sessions/{self.sid(op)}" if op.session is not None else ""
        path = f"{base}/files/{self.folder}{op.file}" if op.file else ""
        if op.kind in ("create", "bad_create"):
            response = api.post("/v1/sessions", json=op.body)
            if op.kind == "create" and response.status_code == 201:
                assert op.session is not None
                self.sessions[op.session] = response.json()["id"]
            return self._answer(response)
        if op.kind == "list":
            response = api.get("/v1/sessions")
            mine = set(self.sessions.values())
            body = response.json() if response.status_code == 200 else None
            if isinstance(body, list):  # others' sessions are not part of the comparison
                body = [r for r in body if isinstance(r, dict) and r.get("id") in mine]
            return self._answer(response, body)
        if op.kind == "get_unknown":
            return self._answer(api.get("/v1/sessions/sess_ffffffffffff"))
        if op.kind == "get":
            return self._answer(api.get(base))
        if op.kind == "delete":
            return self._answer(api.delete(base))
        if op.kind == "send":
            message = {"message": "Say hello."}
            stream = read(api, "POST", f"{base}/messages", json=message, check=False)
            if "x-response-id" in stream.headers:
                assert op.session is not None
                self.turns[op.session] = stream.headers["x-response-id"]
            return self._stream(stream)
        rid = self.turns.get(op.session or 0, NO_TURN)
        if op.kind == "resume":
            headers = {} if op.body is None else {"Last-Event-ID": str(op.body)}
            events = f"{base}/responses/{rid}/events"
            return self._stream(read(api, "GET", events, headers=headers, check=False))
        if op.kind == "cancel_after":
            return self._answer(api.post(f"{base}/responses/{rid}/cancel"))
        if op.kind == "upload":
            response = api.put(path, content=op.body)
            if response.status_code == 201 and op.file:
                self.uploaded.add(op.file)
            return self._answer(response)
        if op.kind == "download":
            response = api.get(path)
            if response.status_code != 200:
                return self._answer(response)
            return self._answer(response, response.content.decode("latin-1"))
        if op.kind == "list_files":
            return self._answer(api.get(f"{base}/files", params={"path": self.folder + "d"}))
        assert op.kind == "delete_file"
        return self._answer(api.delete(path))

    def clean_up(self) -> None:
        """Delete what the run made (sessions one by one, then its files)."""
        for sid in self.sessions.values():
            self.client.delete(f"/v1/sessions/{sid}")
        if self.uploaded:
            made = self.client.post("/v1/sessions", json={"ttl": 300})
            if made.status_code == 201:
                sid = made.json()["id"]
                for name in self.uploaded:
                    self.client.delete(f"/v1/sessions/{sid}/files/{self.folder}{name}")
                self.client.delete(f"/v1/sessions/{sid}")

    def _answer(self, response: httpx.Response, body: Any = ...) -> Answer:
        if body is ...:
            try:
                body = response.json() if response.content else None
            except ValueError:
                body = response.content.decode("latin-1")
        headers = {k: response.headers[k] for k in _KEPT_HEADERS if k in response.headers}
        return Answer(response.status_code, headers, body)

    def _stream(self, stream: Any) -> Answer:
        headers = {k: stream.headers[k] for k in _KEPT_HEADERS if k in stream.headers}
        events: list[tuple[str, Any]] = []
        for frame in stream.frames:
            if events and frame.type.endswith(".delta") and events[-1][0] == frame.type:
                continue  # chunking is not the contract
            events.append((frame.type, frame.data))
        body = stream.json() if stream.body else None
        return Answer(stream.status, headers, body, events)


class Normaliser:
    """Ids to ``<sess 1>`` (per target, in order of appearance), times and texts out."""

    def __init__(self, folder: str):
        self.folder = folder
        self.names: dict[str, str] = {}

    def __call__(self, value: Any, key: str = "") -> Any:
        if isinstance(value, dict):
            return {k: self(v, k) for k, v in sorted(value.items())}
        if isinstance(value, list):
            return [self(v, key) for v in value]
        if key in _VOLATILE and isinstance(value, int | float):
            return "<time>"
        if key in _TEXT and isinstance(value, str):
            return "<text>"
        if isinstance(value, str):
            value = value.replace(self.folder, "<folder>/")
            return _IDS.sub(self._name, value)
        return value

    def _name(self, match: re.Match[str]) -> str:
        if match[0] not in self.names:
            count = sum(1 for n in self.names.values() if n.startswith(f"<{match[1]} "))
            self.names[match[0]] = f"<{match[1]} {count + 1}>"
        return self.names[match[0]]

    def answer(self, answer: Answer) -> dict[str, Any]:
        headers = dict(answer.headers)
        if "content-type" in headers:
            headers["content-type"] = headers["content-type"].split(";")[0]
        result: dict[str, Any] = {
            "status": answer.status,
            "headers": self(headers),
            "body": self(answer.body),
        }
        if answer.events is not None:
            result["events"] = [t for t, _ in answer.events]
            result["data"] = [self(d) for _, d in answer.events]
        return result


def differences(a: Any, b: Any, where: str = "") -> list[str]:
    """Where two normalised answers differ, as ``path: a | b`` lines."""
    if isinstance(a, dict) and isinstance(b, dict):
        found = []
        for key in sorted(set(a) | set(b), key=str):
            here = f"{where}.{key}" if where else str(key)
            if key not in a or key not in b:
                left, right = a.get(key, "<absent>"), b.get(key, "<absent>")
                found.append(f"{here}: {_short(left)} | {_short(right)}")
            else:
                found += differences(a[key], b[key], here)
        return found
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        pairs = enumerate(zip(a, b, strict=True))
        return [line for i, (x, y) in pairs for line in differences(x, y, f"{where}[{i}]")]
    return [] if a == b else [f"{where}: {_short(a)} | {_short(b)}"]


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= 160 else text[:157] + "..."


def compare(client_a: httpx.Client, client_b: httpx.Client, seed: int, steps: int) -> list[str]:
    """Run the seeded plan on both targets (A first, then B) and list the differences,
    one block per step that differs."""
    ops = plan(seed, steps)
    runs = [Runner(client_a), Runner(client_b)]
    answers: list[list[dict[str, Any]]] = []
    for runner in runs:
        normalise = Normaliser(runner.folder)
        try:
            answers.append([normalise.answer(runner.run(op)) for op in ops])
        finally:
            runner.clean_up()
    report = []
    for index, (op, a, b) in enumerate(zip(ops, *answers, strict=True)):
        found = differences(a, b)
        if found:
            report.append(f"step {index + 1} ({op.describe()}):")
            report += [f"  {line}" for line in found]
    return report


def client(url: str, key: str) -> httpx.Client:
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=30)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m contract_tests.diff", description=(__doc__ or "").split("\n\n")[0]
    )
    parser.add_argument("url_a")
    parser.add_argument("url_b")
    parser.add_argument("--key-a", default="pk_diff_a", help="A's key (default pk_diff_a)")
    parser.add_argument("--key-b", help="B's key (default: A's)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--steps", type=int, default=40)
    args = parser.parse_args(argv)
    with client(args.url_a, args.key_a) as a, client(args.url_b, args.key_b or args.key_a) as b:
        report = compare(a, b, args.seed, args.steps)
    print(
        "\n".join(report) if report else f"no differences in {args.steps} steps (seed {args.seed})"
    )
    return 1 if report else 0


if __name__ == "__main__":
    sys.exit(main())
