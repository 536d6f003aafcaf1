"""Schemathesis hooks for `tests/test_openapi.py`: the one rule of the API that JSON
Schema cannot say, and the one body it cannot describe.

S1b: tool names are unique within a session. A schema can require each name to match
``^[A-Za-z0-9_-]{1,64}$`` but not that no two are equal, so generated "valid" sessions
would often repeat a short name and be refused, as the contract says they must be. This
renames repeats just before each request is sent; every other part of the body is left as
generated, so negative cases stay negative.

R1, R2: a stateless call (`POST /v1/responses`) has the same tool rule, and three more
that a schema cannot say: `tool_choice` names one of the request's tools (and
``"required"`` needs some), a `function_call_output` answers a `function_call` earlier in
the same `input`, and `input` holds something besides reasoning items. The hook makes a
generated body keep them where it already keeps the schema (a choice of a tool that is not
there becomes the first tool, or ``"auto"``; an output's call id becomes that of the call
before it, or a call is put before it; a user message is added to reasoning alone; a
malformed Idempotency-Key goes on a streamed call, the only kind that reads one), and
leaves every part the schema refuses as it is.
"""

from __future__ import annotations

import io
import zipfile
from typing import Any

import schemathesis


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    """Every phase's requests (the coverage phase's boundary cases included)."""
    operation = (case.operation.method.upper(), case.operation.path)
    if operation not in (("POST", "/v1/sessions"), ("POST", "/v1/responses")):
        return
    body = case.body
    if not isinstance(body, dict):
        return
    names = _unique_tool_names(body.get("tools"))
    if operation == ("POST", "/v1/responses"):
        _choose_a_tool_there_is(body, names)
        if isinstance(body.get("input"), list):
            _answer_only_calls_made(body["input"])
        _read_the_key(case, body)


def _read_the_key(case: Any, body: dict[str, Any]) -> None:
    """R1 [C]: the server reads an Idempotency-Key only on a streamed call, so a key the
    schema refuses goes with ``stream: true``, where it must be refused."""
    headers = case.headers or {}
    key = headers.get("Idempotency-Key")
    malformed = isinstance(key, str) and (not key.strip() or len(key) > 255)
    if malformed and isinstance(body.get("stream", False), bool):
        body["stream"] = True


def _unique_tool_names(tools: object) -> list[str]:
    """S1b: repeated names renamed, in place (the request's JSON is this same object);
    the names, in order."""
    if not isinstance(tools, list):
        return []
    seen: dict[str, None] = {}
    for tool in tools:
        if not isinstance(tool, dict) or not isinstance(tool.get("name"), str):
            continue
        name, repeat = tool["name"], 0
        while name in seen:  # at most 58 + 1 + 5 characters: still a valid name
            repeat += 1
            name = f"{tool['name'][:58]}_{repeat}"
        seen[name] = None
        tool["name"] = name
    return list(seen)


def _choose_a_tool_there_is(body: dict[str, Any], names: list[str]) -> None:
    """R1 [O]: a named function is one of the tools; "required" needs tools."""
    choice = body.get("tool_choice")
    if choice == "required" and not names:
        body["tool_choice"] = "auto"
    elif (
        isinstance(choice, dict)
        and set(choice) == {"type", "name"}
        and choice["type"] == "function"
        and isinstance(choice["name"], str)
        and choice["name"] not in names
    ):
        if names:
            choice["name"] = names[0]
        else:
            body["tool_choice"] = "auto"


def _answer_only_calls_made(items: list[Any]) -> None:
    """R2 [C]: each function_call_output after its function_call; not reasoning alone."""
    calls: list[str] = []
    index = 0
    while index < len(items):
        item = items[index]
        call_id = item.get("call_id") if isinstance(item, dict) else None
        if isinstance(call_id, str) and call_id:
            if item.get("type") == "function_call":
                calls.append(call_id)
            elif item.get("type") == "function_call_output" and call_id not in calls:
                if calls:
                    item["call_id"] = calls[-1]
                else:
                    call = {"type": "function_call", "call_id": call_id, "name": "f"}
                    items.insert(index, {**call, "arguments": "{}"})
                    calls.append(call_id)
                    index += 1
        index += 1
    reasoning = [isinstance(i, dict) and i.get("type") == "reasoning" for i in items]
    if items and all(reasoning):
        items.append({"role": "user", "content": "hi"})


@schemathesis.serializer("application/zip")
def skill_bundle(context: Any, value: Any) -> bytes:
    """K1: a skill bundle is a zip, which no schema generates. The generated bytes go out
    as they are when their count is odd (no bundle: 400), and as the SKILL.md of a
    one-file bundle when it is even, so that installs succeed too and the links from one
    (to the list, and to deleting that skill) are followed with real names."""
    data = value if isinstance(value, bytes) else getattr(value, "data", str(value).encode())
    if len(data) % 2:
        return bytes(data)
    bundle = io.BytesIO()
    with zipfile.ZipFile(bundle, "w") as archive:
        archive.writestr("SKILL.md", data)
    return bundle.getvalue()
