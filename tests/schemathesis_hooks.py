"""Schemathesis hooks for `tests/test_openapi.py`: the one rule of the API that JSON
Schema cannot say.

S1b: tool names are unique within a session. A schema can require each name to match
``^[A-Za-z0-9_-]{1,64}$`` but not that no two are equal, so generated "valid" sessions
would often repeat a short name and be refused, as the contract says they must be. This
renames repeats just before each request is sent; every other part of the body is left as
generated, so negative cases stay negative.
"""

from __future__ import annotations

from typing import Any

import schemathesis


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    """Every phase's requests (the coverage phase's boundary cases included)."""
    if (case.operation.method.upper(), case.operation.path) != ("POST", "/v1/sessions"):
        return
    tools = case.body.get("tools") if isinstance(case.body, dict) else None
    if not isinstance(tools, list):
        return
    seen: set[str] = set()
    for tool in tools:
        if not isinstance(tool, dict) or not isinstance(tool.get("name"), str):
            continue
        name, repeat = tool["name"], 0
        while name in seen:  # at most 58 + 1 + 5 characters: still a valid name
            repeat += 1
            name = f"{tool['name'][:58]}_{repeat}"
        seen.add(name)
        tool["name"] = name  # in place: the request's JSON is this same object
