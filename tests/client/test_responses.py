"""The stateless responses surface (R) on the wire: what the client sends for each call and
how it reads what comes back, through httpx's MockTransport, with both clients (their
flows are shared; what each passes to them is not). Scripted answers, exact and instant;
the client's waits go to a recording sleeper. Breaks in a stream are in
`tests.client.test_responses_hostile`, over real sockets."""

from __future__ import annotations

import asyncio
import inspect
import json
import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import httpx
import pytest

from pokee_client import (
    AsyncPokeeClient,
    AsyncResponses,
    AsyncResponseStream,
    FunctionCall,
    InternalServerError,
    InvalidRequestError,
    Limits,
    NotFoundError,
    OutputMessage,
    PokeeClient,
    ProtocolError,
    Reasoning,
    Response,
    ResponseCompleted,
    ResponseCreated,
    ResponseOptions,
    ResponseOutputItemDone,
    Responses,
    ResponseStream,
    ResponseTextDelta,
    ResponseUsage,
    RetryPolicy,
    TransportError,
    UnknownEvent,
    UnknownItem,
)
from pokee_client.base import ClientCore
from pokee_client.events import parse_event
from pokee_client.response_events import RESPONSE_EVENT_CLASSES, parse_response_event
from pokee_client.resumable import _check_deadline as check_deadline
from tests.client.flaky import frame
from tests.client.helpers import Sleeper
from tests.client.response_log import (
    MODEL,
    RESPONSE_ID,
    WEATHER,
    function_call,
    message,
    reasoning,
    response_log,
    response_object,
    usage,
)

URL = "http://pokee.test"
POLICY = RetryPolicy(jitter=lambda: 0.5)
KINDS = ["sync", "async"]
Answer = httpx.Response | Exception


class Script:
    """Answers in order, one per request (the last one again once they run out); keeps
    the requests."""

    def __init__(self, *answers: Answer):
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    def bodies(self) -> list[Any]:
        return [json.loads(request.content) for request in self.requests]


def events(
    log: list[tuple[str, dict[str, Any]]] | None = None,
    after: int = -1,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """The events of ``log`` (default `response_log`) after seq ``after``."""
    whole = enumerate(log or response_log())
    body = b"".join(frame(seq, t, d) for seq, (t, d) in whole if seq > after)
    answer_headers = {"content-type": "text/event-stream", "x-response-id": RESPONSE_ID}
    return httpx.Response(200, content=body, headers={**answer_headers, **(headers or {})})


def error(status: int, short: str, retry_after: int | None = None) -> httpx.Response:
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
    return httpx.Response(status, json={"error": short, "message": "scripted"}, headers=headers)


def run(kind: str, script: Script, action: Callable[[Any], Any], sleeper: Sleeper) -> Any:
    """``action(client)`` with a `PokeeClient` or an `AsyncPokeeClient` over ``script``,
    awaiting what it returns; a stream it returns comes back as (its events, it)."""
    if kind == "sync":
        transport = httpx.MockTransport(script)
        with PokeeClient(URL, "pk_t_key", sleep=sleeper, retry=POLICY, transport=transport) as c:
            result = action(c)
            return (list(result), result) if isinstance(result, ResponseStream) else result

    async def handler(request: httpx.Request) -> httpx.Response:
        return script(request)

    async def nap(seconds: float) -> None:
        sleeper(seconds)

    async def go() -> Any:
        transport = httpx.MockTransport(handler)
        async with AsyncPokeeClient(
            URL, "pk_t_key", sleep=nap, retry=POLICY, transport=transport
        ) as pokee:
            result = action(pokee)
            if isinstance(result, AsyncResponseStream):
                return [event async for event in result], result
            return await result if inspect.isawaitable(result) else result

    return asyncio.run(go())


# -- R1, R3: one call, answered whole ------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_r1_create_sends_the_input_and_only_the_settings_given(kind: str) -> None:
    """R1: a string input is sent as it is; no ``stream`` field, no ``Idempotency-Key``
    (R1 ignores one on a call answered whole); the answer is the typed R3 object."""
    script = Script(httpx.Response(200, json=response_object()))
    answer = run(kind, script, lambda c: c.responses.create("hello"), Sleeper())
    (sent,) = script.requests
    assert (sent.method, str(sent.url)) == ("POST", f"{URL}/v1/responses")
    assert json.loads(sent.content) == {"input": "hello"}
    assert "idempotency-key" not in sent.headers
    assert "x-mock-scenario" not in sent.headers
    assert sent.headers["content-type"] == "application/json"
    assert isinstance(answer, Response)
    assert (answer.id, answer.status, answer.model, answer.text) == (
        RESPONSE_ID,
        "completed",
        MODEL,
        "Hello there.",
    )
    assert answer.created_at == 1_700_000_000
    assert answer.usage == ResponseUsage(12, 2, 5, 1, 17)
    assert answer.data == response_object()


@pytest.mark.parametrize("kind", KINDS)
def test_r1_every_setting_goes_into_the_body_as_json(kind: str) -> None:
    """R1 and R2: items, tools and settings given as any mapping or sequence are sent as
    JSON objects and arrays; a setting given as None is left out."""
    history = (
        {"role": "user", "content": "Weather in Paris?"},
        {"type": "function_call", "call_id": "call_1", "name": "get_weather", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "call_1", "output": "Sunny"},
    )
    settings: ResponseOptions = {
        "model": MODEL,
        "instructions": "Be brief.",
        "tools": (WEATHER,),
        "tool_choice": {"type": "function", "name": "get_weather"},
        "parallel_tool_calls": False,
        "reasoning": {"effort": "low"},
        "max_output_tokens": 100,
        "temperature": 0.5,
        "top_p": 0.9,
        "metadata": {"job": "ci"},
        "store": False,
        "user": "u-1",
    }
    unset: dict[str, Any] = {"user": None}
    script = Script(httpx.Response(200, json=response_object()))
    run(kind, script, lambda c: c.responses.create(history, scenario="w", **settings), Sleeper())
    run(kind, script, lambda c: c.responses.create("hi", **unset), Sleeper())
    script.answers = [events()]
    run(kind, script, lambda c: c.responses.stream(history, **settings), Sleeper())
    run(kind, script, lambda c: c.responses.stream("hi", **unset), Sleeper())
    first, second, streamed, bare = script.requests
    everything = {"input": list(history), **settings, "tools": [WEATHER]}
    assert json.loads(first.content) == everything
    assert first.headers["x-mock-scenario"] == "w"
    assert json.loads(second.content) == {"input": "hi"}
    assert json.loads(streamed.content) == {**everything, "stream": True}
    assert json.loads(bare.content) == {"input": "hi", "stream": True}


def test_r1_the_settings_are_the_ones_r1_names_and_each_call_takes_them_by_name() -> None:
    """The settings are keyword arguments of their own (help() and editors show them),
    the same for both clients, each None by default, so nothing is sent unless given."""
    settings = {
        "model", "instructions", "tools", "tool_choice", "parallel_tool_calls", "reasoning",
        "max_output_tokens", "temperature", "top_p", "metadata", "store", "user",
    }  # fmt: skip
    assert set(ResponseOptions.__annotations__) == settings
    extra = {"create": {"scenario"}, "stream": {"scenario", "idempotency_key"}}
    for name, more in extra.items():
        sync_call = inspect.signature(Responses.__dict__[name])
        async_call = inspect.signature(AsyncResponses.__dict__[name])
        for signature in (sync_call, async_call):
            (first, *rest) = list(signature.parameters.values())[1:]
            assert first.name == "input"
            assert all(p.kind is p.KEYWORD_ONLY and p.default is None for p in rest)
            assert {p.name for p in rest} == settings | more
        assert list(sync_call.parameters) == list(async_call.parameters)


@pytest.mark.parametrize("kind", KINDS)
def test_a7_a_call_answered_whole_is_repeated_only_when_it_was_not_processed(kind: str) -> None:
    """429 and 503 were not processed: repeated after exactly ``Retry-After``. A 500 or
    an answer lost after sending may have been: a repeat would be a second call, billed,
    so it is reported."""
    sleeper = Sleeper()
    script = Script(
        error(503, "service_unavailable", 3), httpx.Response(200, json=response_object())
    )
    assert run(kind, script, lambda c: c.responses.create("hi"), sleeper).id == RESPONSE_ID
    assert (len(script.requests), sleeper.calls) == (2, [3.0])
    script = Script(error(500, "internal_error"))
    with pytest.raises(InternalServerError):
        run(kind, script, lambda c: c.responses.create("hi"), sleeper)
    lost = httpx.ReadError("Server disconnected without sending a response.")
    script = Script(lost)
    with pytest.raises(TransportError, match=re.escape("POST http://pokee.test/v1/responses")):
        run(kind, script, lambda c: c.responses.create("hi"), sleeper)
    assert len(script.requests) == 1
    assert sleeper.calls == [3.0]


def test_a5_a_refusal_is_its_error_class() -> None:
    script = Script(error(400, "invalid_request"))
    with pytest.raises(InvalidRequestError, match="scripted"):
        run("sync", script, lambda c: c.responses.create(""), Sleeper())


# -- R3: the response object -------------------------------------------------------------------


def test_r3_output_items_are_typed_and_go_back_as_input_in_r2s_shapes() -> None:
    """R3's three item kinds; R2/R4: ``as_input`` gives the history back with only the
    fields R2 names (the server refuses any other, A8), reasoning left out; ``answer``
    is the output item that gives a call its result."""
    body = response_object(
        [
            reasoning("Paris, so the tool."),
            message("Let me look."),
            function_call(),
            {"type": "web", "id": "w"},
        ]
    )
    answer = Response.from_json(body)
    thought, said, call, other = answer.output
    assert thought == Reasoning("rs_" + "34" * 12, ("Paris, so the tool.",))
    assert isinstance(said, OutputMessage)
    assert (said.role, said.status, said.text) == ("assistant", "completed", "Let me look.")
    assert isinstance(call, FunctionCall)
    assert (call.name, call.arguments, call.call_id) == (
        "get_weather",
        '{"city": "Paris"}',
        "call_" + "12" * 12,
    )
    assert other == UnknownItem("web", {"type": "web", "id": "w"})
    assert answer.function_calls == (call,)
    assert answer.reasoning_summary == "Paris, so the tool."
    assert answer.text == "Let me look."
    assert answer.as_input() == [
        {
            "type": "message",
            "role": "assistant",
            "content": [{"type": "output_text", "text": "Let me look."}],
        },
        {
            "type": "function_call",
            "call_id": call.call_id,
            "name": "get_weather",
            "arguments": '{"city": "Paris"}',
        },
    ]
    assert call.answer("Sunny, 21 °C") == {
        "type": "function_call_output",
        "call_id": call.call_id,
        "output": "Sunny, 21 °C",
    }


def test_r3_a_message_keeps_only_its_text_parts() -> None:
    item = message("Hello")
    item["content"] += [{"type": "refusal", "refusal": "no"}, {"type": "output_text", "text": "!"}]
    said = Response.from_json(response_object([item])).output[0]
    assert isinstance(said, OutputMessage)
    assert said.parts == ("Hello", "!")


@pytest.mark.parametrize(
    ("change", "mention"),
    [
        ({"id": 7}, "field 'id' is 7, expected str"),
        ({"output": {}}, "field 'output'"),
        ({"usage": {"input_tokens": 1}}, "input_tokens_details"),
        ({"error": "boom"}, "field 'error' is 'boom', expected an object"),
        ({"output": [{"type": "function_call", "id": "fc"}]}, "output item 'fc': field 'call_id'"),
        ({"output": [{"type": "message", "id": "m", "content": [3]}]}, "expected a JSON object"),
        ({"output": [{"type": "reasoning", "id": "r", "summary": [{}]}]}, "field 'text'"),
        ({"output": [{"type": "reasoning", "id": "r", "summary": 3}]}, "item 'r': field 'summary'"),
        ({"output": [3]}, "output item: expected a JSON object, got int"),
        (
            {"output": [{**message("hi"), "status": 1}]},
            f"item {message('')['id']!r}: field 'status'",
        ),
        (
            {"output": [{**function_call(), "status": None}]},
            "item 'fc_efefefefefefefefefefefef': field 'status'",
        ),
        (
            {"usage": {**usage(), "input_tokens_details": {}}},
            "usage: field 'cached_tokens' is None",
        ),
        ({"created_at": "now"}, f"response {RESPONSE_ID!r}: field 'created_at'"),
        ({"usage": {**usage(), "output_tokens": "5"}}, "usage: field 'output_tokens'"),
        (
            {"usage": {**usage(), "output_tokens_details": 3}},
            "usage output_tokens_details: expected a JSON object",
        ),
    ],
)
def test_r3_an_object_out_of_shape_says_what_is_wrong(change: dict[str, Any], mention: str) -> None:
    with pytest.raises(ProtocolError, match=re.escape(mention)):
        Response.from_json(response_object(**change))


def test_a8_unknown_fields_are_ignored() -> None:
    answer = Response.from_json(response_object(background=False, service_tier="default"))
    assert answer == Response.from_json(response_object())
    assert answer.data["service_tier"] == "default"


# -- R5: the stream ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_r5_a_stream_sends_stream_true_with_a_fresh_key_each_time_unless_given(kind: str) -> None:
    script = Script(events())

    def three(client: Any) -> Any:
        made = [
            client.responses.stream("one"),
            client.responses.stream("two", idempotency_key="mine"),
        ]
        made.append(client.responses.stream("three", scenario="slow"))
        if kind == "sync":
            return [list(stream) for stream in made]

        async def drain() -> Any:
            return [[event async for event in stream] for stream in made]

        return drain()

    run(kind, script, three, Sleeper())
    assert script.bodies() == [
        {"input": "one", "stream": True},
        {"input": "two", "stream": True},
        {"input": "three", "stream": True},
    ]
    keys = [r.headers["idempotency-key"] for r in script.requests]
    assert re.fullmatch("pokee-[0-9a-f]{32}", keys[0])
    assert keys[1] == "mine"
    assert len(set(keys)) == 3
    assert {r.headers["accept"] for r in script.requests} == {"text/event-stream"}
    assert script.requests[2].headers["x-mock-scenario"] == "slow"
    assert "x-mock-scenario" not in script.requests[0].headers


@pytest.mark.parametrize("kind", KINDS)
def test_r5_events_are_typed_and_the_final_response_is_the_completed_object(kind: str) -> None:
    script = Script(events())
    received, stream = run(kind, script, lambda c: c.responses.stream("hi"), Sleeper())
    assert [(e.seq, e.type) for e in received] == [
        (seq, t) for seq, (t, _) in enumerate(response_log())
    ]
    assert isinstance(received[0], ResponseCreated)
    assert received[0].response_id == RESPONSE_ID == stream.response_id
    deltas = [e for e in received if isinstance(e, ResponseTextDelta)]
    assert [(d.delta, d.item_id) for d in deltas] == [
        (p, "msg_" + "cd" * 12) for p in ("Hello", " there", ".")
    ]
    assert isinstance(received[-2], ResponseOutputItemDone)
    assert received[-2].item == OutputMessage(
        "msg_" + "cd" * 12, "assistant", "completed", ("Hello there.",)
    )
    assert isinstance(received[-1], ResponseCompleted)
    assert stream.response == received[-1].response
    assert (stream.response.text, stream.response.usage.total_tokens, stream.resumes) == (
        "Hello there.",
        17,
        0,
    )


def test_r5_final_response_reads_the_rest_and_iterating_after_it_yields_nothing() -> None:
    script = Script(events())
    transport = httpx.MockTransport(script)
    with PokeeClient(URL, "pk_t_key", transport=transport) as pokee:
        stream = pokee.responses.stream("hi")
        assert stream.response is None
        first = next(stream)
        assert first.type == "response.created"
        assert stream.final_response().text == "Hello there."
        assert list(stream) == []
        assert stream.final_response() == stream.response


def test_r5_async_final_response_reads_the_rest_and_cancel_needs_a_name() -> None:
    script = Script(events(), httpx.Response(202, json={"status": "cancelling"}))

    async def handler(request: httpx.Request) -> httpx.Response:
        return script(request)

    async def go() -> None:
        transport = httpx.MockTransport(handler)
        async with AsyncPokeeClient(URL, "pk_t_key", transport=transport) as pokee:
            stream = pokee.responses.stream("hi")
            assert (stream.response, stream.response_id) == (None, None)
            with pytest.raises(RuntimeError, match=r"^no response id yet: read the stream's fi"):
                await stream.cancel()
            first = await anext(stream)
            assert first.type == "response.created"
            final = await stream.final_response()
            assert (final.text, stream.response, stream.resumes) == ("Hello there.", final, 0)
            assert [event async for event in stream] == []
            assert await stream.cancel() == "cancelling"

    asyncio.run(go())
    assert script.requests[-1].url.path == f"/v1/responses/{RESPONSE_ID}/cancel"


def test_r5_the_two_vocabularies_are_kept_apart() -> None:
    """A turn's terminal event is no end of a response, nor a response's of a turn."""
    completed = parse_response_event(3, "message.completed", {"sequence_number": 3})
    assert type(completed) is UnknownEvent
    assert not completed.terminal
    assert type(parse_event(3, "response.completed", {})) is UnknownEvent
    terminal = {t for t, cls in RESPONSE_EVENT_CLASSES.items() if cls.terminal}
    assert terminal == {"response.completed", "response.failed", "response.cancelled"}
    assert set(RESPONSE_EVENT_CLASSES) == {
        "response.created", "response.in_progress", "response.output_item.added",
        "response.content_part.added", "response.output_text.delta", "response.output_text.done",
        "response.content_part.done", "response.function_call_arguments.delta",
        "response.function_call_arguments.done", "response.reasoning_summary_text.delta",
        "response.reasoning_summary_text.done", "response.output_item.done",
        "response.completed", "response.failed", "response.cancelled",
    }  # fmt: skip


def ended(type_: str, data: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The first three events of `response_log`, then ``type_`` with ``data``."""
    return [*response_log()[:3], (type_, {"type": type_, **data})]


def final_of(log: list[tuple[str, dict[str, Any]]]) -> Any:
    return run(
        "sync", Script(events(log)), lambda c: c.responses.stream("hi").final_response(), Sleeper()
    )


def test_r5_a_failed_stream_ends_with_its_object_and_its_error() -> None:
    error = {"code": "server_error", "message": "the model fell over"}
    failed = final_of(
        ended("response.failed", {"response": response_object([], status="failed", error=error)})
    )
    assert (failed.status, failed.error, failed.output) == ("failed", error, ())


@pytest.mark.parametrize("type_", ["response.cancelled", "response.failed"])
def test_r5_an_ending_without_an_object_ends_the_last_object_carried(type_: str) -> None:
    """R5 fixes no shape for these: the final response is the one ``response.created``
    carried, with the status of the ending."""
    final = final_of(ended(type_, {"id": RESPONSE_ID}))
    assert (final.id, final.status, final.usage) == (RESPONSE_ID, type_.split(".")[1], None)


def test_r5_a_completed_stream_must_carry_its_answer() -> None:
    with pytest.raises(
        ProtocolError,
        match=re.escape("ended with response.completed but carried no response object"),
    ):
        final_of(ended("response.completed", {"id": RESPONSE_ID}))


def test_r5_an_unknown_event_is_delivered_and_does_not_end_the_stream() -> None:
    log = response_log()
    log.insert(
        4, ("response.web_search_call.searching", {"type": "response.web_search_call.searching"})
    )
    script = Script(events(log))
    received, stream = run("sync", script, lambda c: c.responses.stream("hi"), Sleeper())
    assert type(received[4]) is UnknownEvent
    assert received[-1].type == "response.completed"
    assert stream.response.text == "Hello there."


# -- R6: resume and cancel ----------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_r6_resume_asks_for_the_events_after_the_one_given(kind: str) -> None:
    log, named = response_log(), {"x-response-id": "resp/1"}
    script = Script(events(log, 4, named), events(log, headers=named))

    def both(client: Any) -> Any:
        later, whole = client.responses.resume("resp/1", after=4), client.responses.resume("resp/1")
        if kind == "sync":
            return [e.seq for e in later], [e.seq for e in whole], whole.response

        async def drain() -> Any:
            return [e.seq async for e in later], [e.seq async for e in whole], whole.response

        return drain()

    later, whole, final = run(kind, script, both, Sleeper())
    assert later == list(range(5, len(log)))
    assert whole == list(range(len(log)))
    assert final.text == "Hello there."
    first, second = script.requests
    assert (first.method, first.url.raw_path.decode()) == ("GET", "/v1/responses/resp%2F1/events")
    assert (first.headers["last-event-id"], first.headers["accept"]) == ("4", "text/event-stream")
    assert "last-event-id" not in second.headers


@pytest.mark.parametrize("kind", KINDS)
def test_r6_cancel_posts_to_the_response_and_returns_the_status(kind: str) -> None:
    script = Script(httpx.Response(202, json={"response_id": "resp_1", "status": "cancelling"}))
    assert run(kind, script, lambda c: c.responses.cancel("resp_1"), Sleeper()) == "cancelling"
    (sent,) = script.requests
    assert (sent.method, sent.url.path) == ("POST", "/v1/responses/resp_1/cancel")
    script = Script(httpx.Response(200, json={"response": "resp_1"}))
    with pytest.raises(ProtocolError, match="cancel: the answer has no status"):
        run(kind, script, lambda c: c.responses.cancel("resp_1"), Sleeper())


def test_r6_a_stream_cancels_its_own_response_once_it_is_named() -> None:
    script = Script(events(), httpx.Response(200, json={"status": "already_complete"}))
    transport = httpx.MockTransport(script)
    with PokeeClient(URL, "pk_t_key", transport=transport) as pokee:
        stream = pokee.responses.stream("hi")
        with pytest.raises(RuntimeError, match=r"^no response id yet: read the stream's first"):
            stream.cancel()
        next(stream)
        assert stream.cancel() == "already_complete"
    assert script.requests[-1].url.path == f"/v1/responses/{RESPONSE_ID}/cancel"


@pytest.mark.parametrize("kind", KINDS)
def test_r6_a_stream_whose_answer_was_lost_is_sent_again_with_the_same_key(kind: str) -> None:
    """A lost answer or a 500 may have started the response: the repeat carries the same
    ``Idempotency-Key`` and so replays that response instead of paying for a second."""
    lost = httpx.RemoteProtocolError("Server disconnected without sending a response.")
    script = Script(lost, error(500, "internal_error"), events())
    sleeper = Sleeper()
    received, stream = run(kind, script, lambda c: c.responses.stream("hi"), sleeper)
    assert [e.seq for e in received] == list(range(len(response_log())))
    assert len({r.headers["idempotency-key"] for r in script.requests}) == 1
    assert script.bodies() == [{"input": "hi", "stream": True}] * 3
    assert sleeper.calls == [POLICY.backoff_delay(0), POLICY.backoff_delay(1)]
    assert stream.response.text == "Hello there."


def test_r5_r6_streams_wait_stream_read_timeout_and_whole_answers_timeout() -> None:
    """The stream and its resume wait ``stream_read_timeout`` for a read (a stream may be
    quiet between pings); a whole answer and a cancel wait ``timeout``."""
    script = Script(events())
    transport = httpx.MockTransport(script)
    with PokeeClient(URL, "k", transport=transport, timeout=7, stream_read_timeout=40) as pokee:
        list(pokee.responses.stream("hi"))
        list(pokee.responses.resume(RESPONSE_ID, after=2))
        script.answers = [httpx.Response(200, json=response_object())]
        pokee.responses.create("hi")
        script.answers = [httpx.Response(200, json={"status": "already_complete"})]
        pokee.responses.cancel(RESPONSE_ID)
    reads = [request.extensions["timeout"]["read"] for request in script.requests]
    assert reads == [40, 40, 7, 7]


def test_r6_a_stream_never_named_says_so_when_it_gives_up() -> None:
    """Every answer to the request ends before the server named the response (no
    ``X-Response-Id``, no event): after ``resumes`` tries the caller is told so."""
    script = Script(httpx.Response(200, headers={"content-type": "text/event-stream"}))
    with pytest.raises(TransportError) as raised:
        run("sync", script, lambda c: c.responses.stream("hi"), Sleeper())
    assert "the stream of the response broke after 0 events" in str(raised.value)
    assert len(script.requests) == POLICY.resumes


def test_r6_resume_after_the_first_event_says_so() -> None:
    """``after=0`` is an event like any other: ``Last-Event-ID: 0`` (only -1, nothing
    received yet, goes without the header)."""
    script = Script(events(after=0))
    transport = httpx.MockTransport(script)
    with PokeeClient(URL, "pk_t_key", transport=transport) as pokee:
        seqs = [event.seq for event in pokee.responses.resume(RESPONSE_ID, after=0)]
    assert seqs == list(range(1, len(response_log())))
    assert script.requests[0].headers["last-event-id"] == "0"


@pytest.mark.parametrize("kind", KINDS)
def test_r1_a_stream_refused_with_404_is_that_error_not_a_broken_stream(kind: str) -> None:
    """Nothing was started (the surface is unknown to this server): the 404 itself."""
    script = Script(error(404, "not_found"))
    with pytest.raises(NotFoundError, match="scripted"):
        run(kind, script, lambda c: c.responses.stream("hi"), Sleeper())
    assert len(script.requests) == 1


def test_the_stream_deadline_is_reached_only_once_it_has_passed() -> None:
    """`stream_deadline` seconds are allowed in full (turns and responses share the check):
    at the deadline the stream goes on, a moment later it is a `TransportError`."""
    core = ClientCore.create(
        URL,
        "pk_t_key",
        timeout=1,
        stream_read_timeout=1,
        retry=None,
        poll_interval=1,
        watch_interval=1,
        headers=None,
        limits=Limits(stream_deadline=10),
    )
    request = httpx.Request("GET", f"{URL}/v1/responses/{RESPONSE_ID}/events")
    check_deadline(core, 10.0, request, now=10.0)
    check_deadline(replace(core, clock=lambda: 10.0), 10.0, request)
    said = f"GET /v1/responses/{RESPONSE_ID}/events: the stream went on for more than 10 s"
    with pytest.raises(TransportError, match=re.escape(f"{said} (stream_deadline)")):
        check_deadline(core, 10.0, request, now=10.001)
    with pytest.raises(TransportError, match="stream_deadline"):
        check_deadline(replace(core, clock=lambda: 10.001), 10.0, request)
