"""The stateless responses surface (contract R), shared by the ``test_response*.py`` modules:
sending a request, reading its JSON answer or its stream over a real socket, holding a
response object to R3 and a stream to R5's grammar (OpenAI's Responses events, in their
order and shapes), and reading the tenant's ``response`` bucket (R7).

Everything here is stateless on the target: a call makes nothing to delete. Each answer
the tests read is noted in the run's tally (`cleanup.Ledger.note_response`), so the run's
summary says what it used of the tenant's ``response`` bucket.
"""

from __future__ import annotations

import copy
import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpx

from .checks import skip_if_usage_explains
from .cleanup import LEDGER
from .sse import Frame, Stream, read

PATH = "/v1/responses"
DEFAULT_MODEL = "pokee-isaac-high-reasoning"  # S1a: a new tenant's model

# Two function tools (S1b shape) that share no word with each other's descriptions, so
# that which one a message asks for is plain (R8 chooses by a shared word).
STOCK: dict[str, Any] = {
    "type": "function",
    "name": "lookup_stock",
    "description": "Quote a ticker symbol.",
    "parameters": {
        "type": "object",
        "properties": {"symbol": {"type": "string"}},
        "required": ["symbol"],
    },
}
WEATHER: dict[str, Any] = {
    "type": "function",
    "name": "get_weather",
    "description": "Forecast for one city.",
    "parameters": {
        "type": "object",
        "properties": {
            "city": {"type": "string", "minLength": 2},
            "days": {"type": "integer", "minimum": 3, "maximum": 7},
            "units": {"type": "string", "enum": ["metric", "imperial"]},
        },
        "required": ["city", "days"],
    },
}
TOOLS = [STOCK, WEATHER]
ASK = "Will it rain in Oslo? Check the weather"  # shares "weather" with get_weather alone
HELLO = "Say hello in five words."
ECHOED = (  # R3: request settings the response object carries back (the SDK reads them)
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "temperature",
    "top_p",
    "metadata",
    "instructions",
    "reasoning",
)


def unique(label: str) -> str:
    """An Idempotency-Key no other test or run has used (R6 keeps keys a day, as M9)."""
    return f"{label}-{secrets.token_hex(6)}"


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "content": text}


def output_of(call_id: str, output: str) -> dict[str, Any]:
    return {"type": "function_call_output", "call_id": call_id, "output": output}


def post(
    api: httpx.Client, body: dict[str, Any], headers: dict[str, str] | None = None
) -> httpx.Response:
    """R1: one POST /v1/responses, answered as it comes (an error included)."""
    return api.post(PATH, json=body, headers=headers)


def answer(
    api: httpx.Client, body: dict[str, Any], headers: dict[str, str] | None = None
) -> dict[str, Any]:
    """R3: a call that must be answered with 200 JSON; returns the response object. A
    refusal the tenant's own state explains (its response window full, its credits spent)
    skips the test, saying so (`checks.skip_if_usage_explains`)."""
    response = post(api, body, headers)
    if response.status_code in (402, 429):
        skip_if_usage_explains(api, response.status_code, "response")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json"), response.headers
    found: dict[str, Any] = response.json()
    assert response.headers.get("x-response-id") == found.get("id"), (
        "R3: the X-Response-Id header is not the response's id",
        response.headers.get("x-response-id"),
        found.get("id"),
    )
    return found


def stream(
    api: httpx.Client,
    body: dict[str, Any],
    headers: dict[str, str] | None = None,
    *,
    stop_after: int | None = None,
    check: bool = True,
) -> Stream:
    """R5: the same call with ``stream: true``, read over the socket (all of it, or
    ``stop_after`` events and then a disconnect) through the suite's stream checker."""
    found = read(
        api,
        "POST",
        PATH,
        json={**body, "stream": True},
        headers=headers,
        stop_after=stop_after,
        check=check,
    )
    if found.status in (402, 429):
        skip_if_usage_explains(api, found.status, "response")
    _note(found)
    return found


def events(
    api: httpx.Client,
    rid: str,
    after: int | None = None,
    *,
    stop_after: int | None = None,
    **kwargs: Any,
) -> Stream:
    """R6: the response's events after ``after`` (Last-Event-ID; None: from the start),
    followed to the end (or for ``stop_after`` events)."""
    headers = {} if after is None else {"Last-Event-ID": str(after)}
    found = read(
        api, "GET", f"{PATH}/{rid}/events", headers=headers, stop_after=stop_after, **kwargs
    )
    assert found.status == 200, found.body
    if stop_after is None:
        assert not found.cut, found.types
    _note(found)
    return found


def _note(found: Stream) -> None:
    if found.ended:
        LEDGER.note_response(found.terminal.data.get("response"))


def rid_of(found: Stream) -> str:
    """R5: the response id a stream's header gives."""
    rid = found.headers.get("x-response-id")
    assert rid, ("R5: a stream without X-Response-Id", dict(found.headers))
    return str(rid)


# -- R3: the response object ----------------------------------------------------------


def check_response(body: dict[str, Any], status: str = "completed") -> None:
    """R3: the fields of a response object and of each of its output items."""
    assert body.get("object") == "response", body
    assert str(body.get("id")).startswith("resp_"), body.get("id")
    assert _count(body.get("created_at")), ("created_at", body.get("created_at"))
    assert body.get("status") == status, (body.get("status"), body.get("error"))
    assert body.get("model"), body.get("model")
    assert isinstance(body["model"], str), body["model"]
    missing = [name for name in ECHOED if name not in body]
    assert not missing, f"R3: the response object does not echo {missing}"
    assert body.get("incomplete_details", "absent") is None, body.get("incomplete_details")
    if status == "completed":
        assert body.get("error", "absent") is None, body.get("error")
        check_usage(body.get("usage"))
    assert isinstance(body.get("output"), list), body.get("output")
    for item in body["output"]:
        check_item(item)


def check_usage(usage: object) -> None:
    """R3: usage with its two details objects; totals add up (OpenAI's reference)."""
    assert isinstance(usage, dict), usage
    for name in ("input_tokens", "output_tokens", "total_tokens"):
        assert _count(usage.get(name)), (name, usage)
    assert _count((usage.get("input_tokens_details") or {}).get("cached_tokens")), usage
    assert _count((usage.get("output_tokens_details") or {}).get("reasoning_tokens")), usage
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"], usage


def _count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def check_item(item: dict[str, Any]) -> None:
    """R3: an output item: a text message, a function call, or a reasoning item."""
    kind = item.get("type")
    if kind == "message":
        assert str(item.get("id")).startswith("msg_"), item
        assert (item.get("role"), item.get("status")) == ("assistant", "completed"), item
        assert isinstance(item.get("content"), list), item
        assert item["content"], item
        for part in item["content"]:
            assert part.get("type") == "output_text", part
            assert isinstance(part.get("text"), str), part
            assert part.get("annotations") == [], part
    elif kind == "function_call":
        assert str(item.get("id")).startswith("fc_"), item
        assert str(item.get("call_id")).startswith("call_"), item
        assert item.get("name"), item
        assert isinstance(item["name"], str), item
        assert isinstance(item.get("arguments"), str), item
        assert isinstance(json.loads(item["arguments"]), dict), item
        assert item.get("status") == "completed", item
    elif kind == "reasoning":
        assert str(item.get("id")).startswith("rs_"), item
        assert isinstance(item.get("summary"), list), item
        for part in item["summary"]:
            assert part.get("type") == "summary_text", part
            assert isinstance(part.get("text"), str), part
    else:
        raise AssertionError(f"R3: an output item of unknown type {kind!r}: {item}")


def items(body: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = [i for i in body["output"] if i.get("type") == kind]
    return found


def text_of(body: dict[str, Any]) -> str:
    """The text of the response's message items, joined."""
    return "".join(part["text"] for item in items(body, "message") for part in item["content"])


def the_call(body: dict[str, Any]) -> dict[str, Any]:
    """The one function call of an answer."""
    calls = items(body, "function_call")
    assert len(calls) == 1, body["output"]
    return calls[0]


def normalised(body: dict[str, Any]) -> dict[str, Any]:
    """A response object without what differs between two answers to one request: its
    id, its time, and the ids of its items and calls."""
    found = copy.deepcopy(body)
    for name in ("id", "created_at"):
        found.pop(name, None)
    for item in found.get("output") or []:
        item.pop("id", None)
        item.pop("call_id", None)
    return found


# -- R5: the stream's grammar ---------------------------------------------------------


@dataclass
class _Walk:
    frames: list[Frame]
    at: int = 0

    def peek(self) -> str | None:
        return self.frames[self.at].type if self.at < len(self.frames) else None

    def take(self, kind: str) -> Frame:
        here = self.peek()
        assert here == kind, (
            f"R5: event {self.at} is {here!r} where {kind} is due; the stream: "
            f"{[f.type for f in self.frames]}"
        )
        self.at += 1
        return self.frames[self.at - 1]

    def take_all(self, kind: str) -> list[Frame]:
        taken = []
        while self.peek() == kind:
            taken.append(self.take(kind))
        return taken


def _at(frame: Frame, item_id: str, index: int, **more: int) -> None:
    """R5: an event about part of an output item names the item and its place."""
    where = {"item_id": item_id, "output_index": index, **more}
    got = {name: frame.data.get(name) for name in where}
    assert got == where, (f"R5: {frame.type} at seq {frame.seq}", got, where)


def assemble(frames: Iterable[Frame]) -> dict[str, Any]:
    """R5: a whole stream, held to OpenAI's event order and shapes, put together; returns
    the response of its ``response.completed``, checked to be what the events built.

    ``response.created`` (with the id at ``data.id`` and the response at
    ``data.response``), ``response.in_progress``, then for each output item in turn
    ``response.output_item.added``, its parts (text: ``content_part.added``,
    ``output_text.delta``…, ``output_text.done``, ``content_part.done``; a call:
    ``function_call_arguments.delta``…, ``.done``; reasoning: the summary's
    ``reasoning_summary_text.delta``…, ``.done``), ``response.output_item.done``; and
    last ``response.completed``. Every event repeats its type in ``data.type``."""
    walk = _Walk(list(frames))
    for frame in walk.frames:
        assert frame.data.get("type") == frame.type, (
            f"R5: data.type of seq {frame.seq}",
            frame.data,
        )
    created = walk.take("response.created")
    rid = created.data.get("id")
    start = created.data.get("response")
    assert isinstance(start, dict), ("R5: response.created without data.response", created.data)
    assert isinstance(rid, str), ("R5: response.created without data.id", created.data)
    assert start.get("id") == rid, ("R5: data.id is not data.response.id", rid, start.get("id"))
    assert (start.get("object"), start.get("status")) == ("response", "in_progress"), start
    progress = walk.take("response.in_progress").data.get("response")
    assert isinstance(progress, dict), progress
    assert progress.get("id") == rid, progress
    built: list[dict[str, Any]] = []
    while walk.peek() == "response.output_item.added":
        built.append(_item(walk, len(built)))
    completed = walk.take("response.completed")
    assert walk.peek() is None, f"R5: events after response.completed: {walk.frames[walk.at :]}"
    final = completed.data.get("response")
    assert isinstance(final, dict), completed.data
    assert final.get("id") == rid, final
    assert final.get("output") == built, (
        "R5: the completed response's output is not what the stream's items built",
        final.get("output"),
        built,
    )
    return final


def _item(walk: _Walk, index: int) -> dict[str, Any]:
    added = walk.take("response.output_item.added")
    assert added.data.get("output_index") == index, added.data
    item = added.data.get("item")
    assert isinstance(item, dict), added.data
    assert isinstance(item.get("id"), str), added.data
    kind, item_id = item.get("type"), item["id"]
    if kind == "message":
        assert item.get("role") == "assistant", item
        assert item.get("status") == "in_progress", item
        built: dict[str, Any] = {"content": _text_parts(walk, item_id, index)}
    elif kind == "function_call":
        deltas = walk.take_all("response.function_call_arguments.delta")
        for frame in deltas:
            _at(frame, item_id, index)
        done = walk.take("response.function_call_arguments.done")
        _at(done, item_id, index)
        arguments = "".join(str(frame.data.get("delta")) for frame in deltas)
        assert done.data.get("arguments") == arguments, (done.data, arguments)
        built = {"arguments": arguments, "name": item.get("name"), "call_id": item.get("call_id")}
    elif kind == "reasoning":
        built = {"summary": _summary(walk, item_id, index)}
    else:
        raise AssertionError(f"R5: an output item of unknown type {kind!r}: {item}")
    done_item = walk.take("response.output_item.done")
    assert done_item.data.get("output_index") == index, done_item.data
    final = done_item.data.get("item")
    assert isinstance(final, dict), done_item.data
    assert (final.get("id"), final.get("type")) == (item_id, kind), (item, final)
    got = {name: final.get(name) for name in built}
    assert got == built, (f"R5: the {kind} item done is not what its events built", got, built)
    return final


def _text_parts(walk: _Walk, item_id: str, index: int) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = []
    while walk.peek() == "response.content_part.added":
        where = {"content_index": len(parts)}
        added = walk.take("response.content_part.added")
        _at(added, item_id, index, **where)
        part = added.data.get("part") or {}
        assert (part.get("type"), part.get("text")) == ("output_text", ""), added.data
        deltas = walk.take_all("response.output_text.delta")
        for frame in deltas:
            _at(frame, item_id, index, **where)
            assert isinstance(frame.data.get("delta"), str), frame.data
        text = "".join(frame.data["delta"] for frame in deltas)
        done = walk.take("response.output_text.done")
        _at(done, item_id, index, **where)
        assert done.data.get("text") == text, (done.data, text)
        part_done = walk.take("response.content_part.done")
        _at(part_done, item_id, index, **where)
        final = part_done.data.get("part") or {}
        assert (final.get("type"), final.get("text")) == ("output_text", text), part_done.data
        parts.append(final)
    assert parts, f"R5: a message item (output {index}) without a content part"
    return parts


def _summary(walk: _Walk, item_id: str, index: int) -> list[dict[str, Any]]:
    summary: list[dict[str, Any]] = []
    kinds = ("response.reasoning_summary_part.added", "response.reasoning_summary_text.delta")
    while walk.peek() in kinds:
        where = {"summary_index": len(summary)}
        framed = walk.peek() == "response.reasoning_summary_part.added"
        if framed:
            _at(walk.take("response.reasoning_summary_part.added"), item_id, index, **where)
        deltas = walk.take_all("response.reasoning_summary_text.delta")
        for frame in deltas:
            _at(frame, item_id, index, **where)
        text = "".join(str(frame.data.get("delta")) for frame in deltas)
        done = walk.take("response.reasoning_summary_text.done")
        _at(done, item_id, index, **where)
        assert done.data.get("text") == text, (done.data, text)
        if framed:
            _at(walk.take("response.reasoning_summary_part.done"), item_id, index, **where)
        summary.append({"type": "summary_text", "text": text})
    return summary


# -- R7: the tenant's buckets ---------------------------------------------------------


@dataclass(frozen=True)
class Counts:
    """One bucket's hour window: calls (turns) and tokens."""

    calls: int
    tokens: int


def buckets(api: httpx.Client) -> dict[str, Counts]:
    """U1: the hour window of each bucket (``response``, ``session_turn``)."""
    response = api.get("/v1/usage")
    assert response.status_code == 200, response.text
    found = {}
    for name, bucket in response.json()["rate_limit"]["buckets"].items():
        hour = next(w for w in bucket["windows"] if w["name"] == "hour")
        found[name] = Counts(hour["turns"], hour["tokens"])
    return found


def balance(api: httpx.Client) -> float:
    value = api.get("/v1/usage").json()["credits"]["balance"]
    assert isinstance(value, int | float), value
    return float(value)
