"""``pokee respond`` (R) in this process, against a server that answers what each test
scripts (see `tests.client.hostile`): what it sends, what it prints line by line, how it
fails, and that the server's text reaches the terminal inert."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pokee_client.cli.output import Output
from tests.client.flaky import frame
from tests.client.helpers import Cli
from tests.client.hostile import Hostile, Reply, Seen
from tests.client.response_log import (
    MODEL,
    RESPONSE_ID,
    WEATHER,
    function_call,
    message,
    reasoning,
    response_log,
    response_object,
)

POST = "/v1/responses"
CANCEL = r"/v1/responses/[^/]+/cancel"
EVIL = "\x1b]0;PWNED\x07\x1b[2J\x9b31m\u202e"
CALL = function_call()


@pytest.fixture
def hostile() -> Iterator[Hostile]:
    with Hostile().serving() as server:
        yield server


@pytest.fixture
def pokee(
    hostile: Hostile, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Cli:
    monkeypatch.setenv("POKEE_API", hostile.url)
    monkeypatch.setenv("POKEE_KEY", "pk_cli_key")
    monkeypatch.setenv("COLUMNS", "200")
    return Cli(capsys)


def whole(body: dict[str, Any]) -> Any:
    return lambda seen, reply: reply.json(200, body, [("X-Response-Id", RESPONSE_ID)])


def streaming(log: list[tuple[str, dict[str, Any]]]) -> Any:
    def handler(seen: Seen, reply: Reply) -> None:
        reply.events_head(RESPONSE_ID)
        reply.send(b"".join(frame(seq, t, d) for seq, (t, d) in enumerate(log)))

    return handler


def sent(hostile: Hostile) -> list[Any]:
    return [json.loads(request.body) for request in hostile.seen("POST", POST)]


def test_the_help_says_what_respond_does(pokee: Cli) -> None:
    done = pokee("respond", "--help")
    flat = " ".join(done.out.split())
    assert done.status == 0
    for said in (
        "usage: pokee respond [-h] [--api API] [--key KEY] [--json] [--tools FILE] [--stream]",
        "Send MESSAGE to the stateless responses endpoint (one call of the model, no session,",
        "--tools FILE a JSON file listing the function tools the model may ask for",
        "--stream print the answer as it comes",
        "--reasoning {minimal,low,medium,high} how hard the model thinks first",
    ):
        assert said in flat, said
    assert "respond ask the model once, without a session" in " ".join(pokee("--help").out.split())


def test_r3_the_answer_its_reasoning_and_its_calls_each_readable(
    pokee: Cli, hostile: Hostile, tmp_path: Path
) -> None:
    """R1 from the options; R3 printed: reasoning, text, then one line per call."""
    output = [reasoning("Paris, so the tool."), message("Let me look."), CALL]
    hostile.route("POST", POST, whole(response_object(output)))
    tools = tmp_path / "tools.json"
    tools.write_text(json.dumps([WEATHER]))
    done = pokee(
        "respond", "Weather in Paris?", "--tools", str(tools), "--model", MODEL,
        "--reasoning", "low", "--scenario", "weather",
    )  # fmt: skip
    assert (done.status, done.err) == (0, "")
    assert done.out.splitlines() == [
        "reasoning: Paris, so the tool.",
        "Let me look.",
        f'function call get_weather {{"city": "Paris"}}  (call_id {CALL["call_id"]})',
    ]
    assert sent(hostile) == [
        {
            "input": "Weather in Paris?",
            "tools": [WEATHER],
            "model": MODEL,
            "reasoning": {"effort": "low"},
        }
    ]
    (request,) = hostile.seen("POST", POST)
    assert request.headers["x-mock-scenario"] == "weather"
    assert "idempotency-key" not in request.headers


def test_r3_json_is_the_response_object_as_sent(pokee: Cli, hostile: Hostile) -> None:
    body = response_object(service_tier="default")
    hostile.route("POST", POST, whole(body))
    done = pokee("respond", "hi", "--json")
    assert (done.status, json.loads(done.out)) == (0, body)


def test_r5_stream_prints_the_text_as_it_comes(pokee: Cli, hostile: Hostile) -> None:
    hostile.route("POST", POST, streaming(response_log(("Hel", "lo\n", "there."))))
    done = pokee("respond", "hi", "--stream")
    assert (done.status, done.out, done.err) == (0, "Hello\nthere.\n", "")
    assert sent(hostile) == [{"input": "hi", "stream": True}]
    assert hostile.seen("POST", POST)[0].headers["idempotency-key"].startswith("pokee-")


def test_r5_stream_shows_reasoning_then_text_then_calls_on_lines_of_their_own(
    pokee: Cli, hostile: Hostile
) -> None:
    log = response_log(("Let me look.",))
    at = {"item_id": "rs_1", "output_index": 0, "summary_index": 0}
    thinking = [
        ("response.reasoning_summary_text.delta", {**at, "delta": "Paris, "}),
        ("response.reasoning_summary_text.delta", {**at, "delta": "so the tool."}),
        ("response.reasoning_summary_text.done", {**at, "text": "Paris, so the tool."}),
    ]
    called = [("response.output_item.done", {"output_index": 1, "item": CALL})]
    hostile.route("POST", POST, streaming([*log[:2], *thinking, *log[2:-1], *called, log[-1]]))
    done = pokee("respond", "hi", "--stream")
    assert done.out.splitlines() == [
        "reasoning: Paris, so the tool.",
        "Let me look.",
        f'function call get_weather {{"city": "Paris"}}  (call_id {CALL["call_id"]})',
    ]


def test_r5_stream_json_is_one_line_per_event(pokee: Cli, hostile: Hostile) -> None:
    hostile.route("POST", POST, streaming(response_log()))
    done = pokee("respond", "hi", "--stream", "--json")
    lines = [json.loads(line) for line in done.out.splitlines()]
    assert [(line["seq"], line["type"]) for line in lines] == [
        (seq, type_) for seq, (type_, _) in enumerate(response_log())
    ]
    assert lines[-1]["data"]["response"]["output"][0]["content"][0]["text"] == "Hello there."


@pytest.mark.parametrize("stream", [[], ["--stream"]], ids=["whole", "stream"])
@pytest.mark.parametrize(
    ("error", "said"),
    [
        (
            {"code": "server_error", "message": "the model fell over"},
            "server_error: the model fell over",
        ),
        ({"code": "internal_error", "message": "internal_error: boom"}, "internal_error: boom"),
        (None, "no reason given"),
        ({"type": "overloaded"}, '{"type": "overloaded"}'),
    ],
)
def test_r5_a_failed_response_is_one_line_and_exit_1(
    pokee: Cli, hostile: Hostile, stream: list[str], error: Any, said: str
) -> None:
    failed = response_object([], status="failed", error=error)
    log = [
        *response_log()[:2],
        ("response.failed", {"type": "response.failed", "response": failed}),
    ]
    hostile.route("POST", POST, streaming(log) if stream else whole(failed))
    done = pokee("respond", "hi", *stream)
    assert (done.status, done.out) == (1, "")
    assert done.err == f"pokee: error: the response failed: {said}\n"


@pytest.mark.parametrize(
    ("status", "said"), [("cancelled", "was cancelled"), ("incomplete", "ended incomplete")]
)
def test_r6_a_response_that_did_not_complete_is_one_line_and_exit_1(
    pokee: Cli, hostile: Hostile, status: str, said: str
) -> None:
    ended = response_object([], status=status)
    log = [
        *response_log()[:2],
        ("response.cancelled", {"type": "response.cancelled", "response": ended}),
    ]
    hostile.route("POST", POST, streaming(log))
    done = pokee("respond", "hi", "--stream")
    assert (done.status, done.out, done.err) == (1, "", f"pokee: error: the response {said}\n")


def test_r6_interrupted_while_streaming_it_cancels_the_response(
    pokee: Cli, hostile: Hostile, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C: the response would run on (and be billed) for nobody, so it is cancelled
    first; then the command exits 130."""
    hostile.route("POST", POST, streaming(response_log()))
    hostile.route("POST", CANCEL, lambda seen, reply: reply.json(202, {"status": "cancelling"}))

    def interrupted(self: Output, text: str) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(Output, "part", interrupted)
    done = pokee("respond", "hi", "--stream")
    assert done.status == 130
    assert done.err == f"pokee: cancelled {RESPONSE_ID}\npokee: interrupted\n"
    (cancel,) = hostile.seen("POST", CANCEL)
    assert cancel.path == f"/v1/responses/{RESPONSE_ID}/cancel"


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (None, "No such file or directory"),
        ("[{", "not JSON"),
        ('{"type": "function"}', "expected a JSON list of tools"),
        ('[{"type": "function"}, "get_weather"]', "expected a JSON list of tools"),
    ],
)
def test_a_bad_tools_file_is_one_line_exit_2_and_nothing_sent(
    pokee: Cli, hostile: Hostile, tmp_path: Path, content: str | None, said: str
) -> None:
    tools = tmp_path / "tools.json"
    if content is not None:
        tools.write_text(content)
    done = pokee("respond", "hi", "--tools", str(tools))
    assert (done.status, done.out) == (2, "")
    (line,) = done.err.splitlines()
    assert line.startswith(f"pokee: error: --tools {tools}: {said}")
    assert hostile.requests == []


@pytest.mark.parametrize("stream", [[], ["--stream"]], ids=["whole", "stream"])
def test_the_servers_text_reaches_the_terminal_inert(
    pokee: Cli, hostile: Hostile, stream: list[str]
) -> None:
    evil_call = {**CALL, "name": EVIL, "arguments": json.dumps({"city": EVIL})}
    evil = response_object([message(f"Hi {EVIL}\n"), evil_call])
    log = response_log((f"Hi {EVIL}\n",))
    called = [("response.output_item.done", {"output_index": 1, "item": evil_call})]
    hostile.route("POST", POST, streaming([*log[:-1], *called, log[-1]]) if stream else whole(evil))
    done = pokee("respond", "hi", *stream)
    assert done.status == 0
    for character in "\x1b\x07\x9b\u202e":
        assert character not in done.out
    assert done.out.splitlines()[0] == "Hi \\x1b]0;PWNED\\x07\\x1b[2J\\x9b31m\\u202e"
    assert done.out.splitlines()[1].startswith("function call \\x1b]0;PWNED")
    if not stream:
        as_json = pokee("respond", "hi", "--json").out
        assert "\x1b" not in as_json
        assert json.loads(as_json) == evil
