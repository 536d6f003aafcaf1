"""Hostile bodies for the stateless surface (`POST /v1/responses`, contract R1, R2), over
real sockets: 10,000 input items, content nested 50,000 deep, 1 MiB strings in every
place a string goes, unknown item and part types, 128 tools with 16 KiB descriptions,
lone surrogates, NaN and numbers past any range.

Every case gets either a valid answer (R3, R5) or an A5 error naming the place at fault,
never a 5xx; while it is sent, read and answered, another tenant is served within a
client timeout of 1 s, request after request (the loop is never held); and a refused
call leaves the tenant's state as it was.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from mock_pokee.limits import MAX_QUOTED, MAX_RESPONSE_BODY
from mock_pokee.server import ThreadedServer
from mock_pokee.settings import Settings
from mock_pokee.testing import new_key

MIB = 1 << 20
DEEP = 50_000
BYSTANDER_TIMEOUT = 1.0  # seconds another tenant's request may take while a case runs


def tool(name: str, description: str = "A tool") -> dict[str, Any]:
    parameters = {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]}
    return {"type": "function", "name": name, "description": description, "parameters": parameters}


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "content": text}


def body(**fields: Any) -> bytes:
    return json.dumps(fields).encode()


def pairs(count: int, output: str = "ok") -> list[dict[str, Any]]:
    """A question, then ``count`` function calls each followed by its output."""
    items: list[dict[str, Any]] = [user("look it up")]
    for n in range(count):
        call_id = f"call_{n}"
        items.append(
            {"type": "function_call", "call_id": call_id, "name": "lookup", "arguments": "{}"}
        )
        items.append({"type": "function_call_output", "call_id": call_id, "output": output})
    return items


@dataclass(frozen=True)
class Case:
    name: str
    sent: bytes
    status: int
    mention: str = ""  # what the A5 message names (refusals)
    check: Callable[[dict[str, Any]], None] | None = None  # what an answer must hold


def answers_in_text(answer: dict[str, Any]) -> None:
    (message,) = [item for item in answer["output"] if item["type"] == "message"]
    text = message["content"][0]["text"]
    assert text  # the model said something…
    assert len(text) <= MAX_QUOTED + 200  # …and quoted at most its bound of the input


def calls_a_tool(answer: dict[str, Any]) -> None:
    (call,) = [item for item in answer["output"] if item["type"] == "function_call"]
    assert isinstance(json.loads(call["arguments"]), dict)


ITEMS = [user(f"item {n}: " + "x" * 80) for n in range(10_000)]
BIG_TOOLS = [tool(f"tool_{n:03d}", "d" * 16 * 1024) for n in range(128)]
NESTED = '{"input": [{"role": "user", "content": ' + "[" * DEEP + "]" * DEEP + "}]}"

CASES = [
    Case("10,000 input items", body(input=ITEMS), 200, check=answers_in_text),
    Case("5,000 calls and their outputs", body(input=pairs(5_000)), 200, check=answers_in_text),
    Case("a 1 MiB input string", body(input="y" * MIB), 200, check=answers_in_text),
    Case("1 MiB instructions", body(input="hi", instructions="z" * MIB), 200),
    Case("a 1 MiB tool output", body(input=pairs(1, "o" * MIB)), 200, check=answers_in_text),
    Case(
        "128 tools with 16 KiB descriptions",
        body(input="use tool_007", tools=BIG_TOOLS),
        200,
        check=calls_a_tool,
    ),
    Case("129 tools", body(input="hi", tools=[tool(f"t{n}") for n in range(129)]), 400, "tools"),
    Case("a 1 MiB tool description", body(input="hi", tools=[tool("t", "d" * MIB)]), 400, "tools"),
    Case("a 1 MiB metadata value", body(input="hi", metadata={"k": "v" * MIB}), 400, "metadata"),
    Case("content nested 50,000 deep", NESTED.encode(), 400, "nested"),
    Case("input nested 50,000 deep", b'{"input": ' + b"[" * DEEP, 400, "nested"),
    Case("an unknown item type", body(input=[{"type": "computer_call"}]), 400, "input[0].type"),
    Case(
        "10,000 items, the last of an unknown type",
        body(input=[*ITEMS[:9_999], {"type": "bogus", "x": 1}]),
        400,
        "input[9999].type",
    ),
    Case(
        "an unknown part type",
        body(input=[{"role": "user", "content": [{"type": "input_image", "image_url": "x"}]}]),
        400,
        "input[0].content[0].type",
    ),
    Case("an item that is not an object", body(input=[user("hi"), 7]), 400, "input[1]"),
    Case(
        "an output before its call",
        body(input=[user("hi"), {"type": "function_call_output", "call_id": "c", "output": ""}]),
        400,
        "input[1].call_id",
    ),
    Case("a role no message has", body(input=[{"role": "tool", "content": "x"}]), 400, "role"),
    Case("10,000 bad tools", body(input="hi", tools=[7] * 10_000), 400, "tools"),
    Case("a lone surrogate in the input", b'{"input": "\\ud800"}', 400, "lone surrogate"),
    Case(
        "a lone surrogate in a part",
        b'{"input": [{"role": "user", "content": [{"type": "input_text", "text": "\\udfff"}]}]}',
        400,
        "lone surrogate",
    ),
    Case("a lone surrogate in a key", b'{"input": "hi", "\\ud800": 1}', 400, "lone surrogate"),
    Case("NaN", b'{"input": "hi", "temperature": NaN}', 400),
    Case("Infinity", b'{"input": "hi", "top_p": Infinity}', 400),
    Case("1e999", b'{"input": "hi", "temperature": 1e999}', 400, "out of range"),
    Case("5,000 digits", b'{"input": "hi", "max_output_tokens": ' + b"9" * 5_000 + b"}", 400),
    Case("a huge temperature", b'{"input": "hi", "temperature": 1e300}', 400, "temperature"),
    Case("earlier state asked for", body(input="hi", previous_response_id="resp_x"), 400),
    Case("a body past the bound", body(input="w" * (MAX_RESPONSE_BODY + 10)), 413),
]


@pytest.fixture(scope="module")
def server() -> Iterator[ThreadedServer]:
    with ThreadedServer(Settings(port=0, clock_mode="virtual")) as running:
        yield running
        assert running.errors == []


@pytest.fixture
def api(server: ThreadedServer) -> Iterator[httpx.Client]:
    """A fresh tenant."""
    headers = {"Authorization": f"Bearer {new_key('hostile')}"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as client:
        yield client


def while_served(url: str, send: Callable[[], httpx.Response]) -> httpx.Response:
    """``send()`` in a thread while another tenant lists its sessions again and again,
    each request within `BYSTANDER_TIMEOUT` (an httpx timeout, not a timing assertion)."""
    answers: list[httpx.Response] = []
    failures: list[BaseException] = []

    def sender() -> None:
        try:
            answers.append(send())
        except BaseException as exc:  # shown by the test
            failures.append(exc)

    thread = threading.Thread(target=sender)
    headers = {"Authorization": f"Bearer {new_key('bystander')}"}
    served = 0
    with httpx.Client(base_url=url, headers=headers, timeout=BYSTANDER_TIMEOUT) as bystander:
        thread.start()
        while thread.is_alive() or not served:
            assert bystander.get("/v1/sessions").json() == []
            served += 1
            time.sleep(0.01)
    thread.join()
    assert not failures, failures
    return answers[0]


def check_answer(answer: httpx.Response, case: Case) -> None:
    assert answer.status_code == case.status, answer.text[:500]
    assert answer.headers["content-type"].startswith("application/json")
    data = answer.json()
    if case.status >= 400:
        assert set(data) == {"error", "message"}, data
        assert case.mention in data["message"], data
        return
    assert answer.headers["x-response-id"] == data["id"]
    assert data["object"] == "response"
    assert data["status"] == "completed"
    assert data["usage"]["total_tokens"] > 0
    if case.check is not None:
        case.check(data)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_r1_r2_a_hostile_body_gets_an_answer_or_an_a5_error_while_others_are_served(
    server: ThreadedServer, api: httpx.Client, case: Case
) -> None:
    before = api.get("/_mock/state").json()
    answer = while_served(server.url, lambda: api.post("/v1/responses", content=case.sent))
    check_answer(answer, case)
    if case.status >= 400:
        assert api.get("/_mock/state").json() == before


def read_events(response: httpx.Response) -> list[tuple[str, dict[str, Any]]]:
    events = []
    kind = ""
    for line in response.iter_lines():
        if line.startswith("event: "):
            kind = line[7:]
        elif line.startswith("data: "):
            events.append((kind, json.loads(line[6:])))
    return events


@pytest.mark.parametrize(
    "sent",
    [
        {"input": ITEMS},
        {"input": "y" * MIB},
        {"input": "use tool_007", "tools": BIG_TOOLS},
        {"input": pairs(1, "o" * MIB), "reasoning": {"effort": "high"}},
    ],
    ids=["10,000 items", "a 1 MiB input", "128 big tools", "a 1 MiB output, reasoning"],
)
def test_r5_a_huge_request_streams_to_its_one_terminal_event_while_others_are_served(
    server: ThreadedServer, api: httpx.Client, sent: dict[str, Any]
) -> None:
    """R5: the streamed answer to a huge request ends with exactly one terminal event, its
    seqs one by one from 0, and holds the same object the JSON answer would."""
    streamed: list[tuple[str, dict[str, Any]]] = []

    def send() -> httpx.Response:
        with api.stream("POST", "/v1/responses", json={**sent, "stream": True}) as answer:
            streamed.extend(read_events(answer))
            return answer

    answer = while_served(server.url, send)
    assert answer.status_code == 200
    kinds = [kind for kind, _ in streamed]
    assert kinds[0] == "response.created"
    assert kinds[-1] == "response.completed"
    terminal = ("response.completed", "response.failed", "response.cancelled")
    assert sum(kind in terminal for kind in kinds) == 1
    assert [data["sequence_number"] for _, data in streamed] == list(range(len(streamed)))
    final = streamed[-1][1]["response"]
    plain = api.post("/v1/responses", json=sent).json()
    assert [item["type"] for item in final["output"]] == [item["type"] for item in plain["output"]]
    assert final["usage"] == plain["usage"]


def test_r1_many_hostile_calls_at_once_leave_the_loop_responsive(
    server: ThreadedServer, api: httpx.Client
) -> None:
    """Eight of the heaviest accepted and refused bodies sent together: every one answered
    as alone, another tenant served within 1 s throughout."""
    heavy = [c for c in CASES if c.name.startswith(("10,000", "128 tools", "content nested"))]
    results: dict[str, httpx.Response] = {}

    def send_all() -> httpx.Response:
        threads = [
            threading.Thread(
                target=lambda case=case: results.__setitem__(
                    case.name, api.post("/v1/responses", content=case.sent)
                )
            )
            for case in heavy * 2
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return httpx.Response(200)

    while_served(server.url, send_all)
    assert set(results) == {case.name for case in heavy}
    for case in heavy:
        check_answer(results[case.name], case)
