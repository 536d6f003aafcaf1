"""``pokee respond``: one stateless response (R) from a shell.

The answer's text goes to stdout as it is (as it comes, with ``--stream``); a reasoning
summary before it and each function call the model asks for on a line of its own, so the
text is easy to read and the calls easy to find. With ``--json``: the response object, or
with ``--stream`` each event as a JSON line, as ``pokee send`` prints a turn's.

Interrupted while streaming (Ctrl-C, SIGTERM), the command first cancels the response
(R6): the server would otherwise run it to its end, and bill it, for nobody.
"""

from __future__ import annotations

import argparse
import contextlib
import json
from pathlib import Path
from typing import Any

from pokee_client.cli.output import Output
from pokee_client.errors import PokeeError
from pokee_client.events import Event
from pokee_client.response_events import (
    ResponseOutputItemDone,
    ResponseReasoningDelta,
    ResponseReasoningDone,
    ResponseTextDelta,
)
from pokee_client.response_object import FunctionCall, Response
from pokee_client.responses import ResponseOptions
from pokee_client.signals import Terminated, sigterm_raises
from pokee_client.sync import PokeeClient, ResponseStream


class BadTools(Exception):
    """The ``--tools`` file cannot be what it should: a JSON list of tool objects."""


def respond(client: PokeeClient, args: argparse.Namespace, output: Output) -> int:
    try:
        options = _options(args)
    except BadTools as exc:
        return output.fail(f"--tools {args.tools}: {exc}", "invalid_tools", code=2)
    if not args.stream:
        response = client.responses.create(args.message, scenario=args.scenario, **options)
        if output.as_json:
            output.document(response.data)
        else:
            _show(response, output)
        return _verdict(response, output)
    stream = client.responses.stream(args.message, scenario=args.scenario, **options)
    with sigterm_raises(), stream:
        try:
            response = _follow(stream, output)
        except (KeyboardInterrupt, Terminated):
            _cancel(stream, output)
            raise
    return _verdict(response, output)


def _options(args: argparse.Namespace) -> ResponseOptions:
    options: ResponseOptions = {}
    if args.tools is not None:
        options["tools"] = _tools(Path(args.tools))
    if args.model is not None:
        options["model"] = args.model
    if args.reasoning is not None:
        options["reasoning"] = {"effort": args.reasoning}
    return options


def _tools(path: Path) -> list[dict[str, Any]]:
    try:
        tools = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BadTools(exc.strerror or str(exc)) from None
    except (ValueError, RecursionError) as exc:
        raise BadTools(f"not JSON ({exc})") from None
    if not isinstance(tools, list) or not all(isinstance(tool, dict) for tool in tools):
        raise BadTools('expected a JSON list of tools, [{"type": "function", "name": …}]')
    return tools


def _show(response: Response, output: Output) -> None:
    lines = _Lines(output)
    lines.reasoning(response.reasoning_summary)
    lines.text(response.text)
    for call in response.function_calls:
        lines.call(call)
    lines.end()


def _follow(stream: ResponseStream, output: Output) -> Response:
    """Print the stream's events as they come; the final response."""
    if output.as_json:
        for event in stream:
            output.document({"seq": event.seq, "type": event.type, "data": event.data})
    else:
        lines = _Lines(output)
        for event in stream:
            lines.show(event)
        lines.end()
    assert stream.response is not None
    return stream.response


class _Lines:
    """The answer on stdout: text as it comes, reasoning and calls on lines of their own."""

    def __init__(self, output: Output):
        self._output = output
        self._open = False  # a line has begun and not ended
        self._reasoning = False  # the open line is the reasoning's

    def show(self, event: Event) -> None:
        if isinstance(event, ResponseTextDelta):
            self.text(event.delta)
        elif isinstance(event, ResponseReasoningDelta):
            self.reasoning(event.delta)
        elif isinstance(event, ResponseReasoningDone):
            self.end()
        elif isinstance(event, ResponseOutputItemDone):
            item = event.item
            if isinstance(item, FunctionCall):
                self.call(item)

    def text(self, piece: str) -> None:
        if self._reasoning:
            self.end()
        self._piece(piece)

    def reasoning(self, piece: str) -> None:
        if piece and not self._reasoning:
            self.end()
            self._piece("reasoning: ")
            self._reasoning = True
        self._piece(piece)

    def call(self, call: FunctionCall) -> None:
        self.end()
        self._output.line(f"function call {call.name} {call.arguments}  (call_id {call.call_id})")

    def end(self) -> None:
        if self._open:
            self._output.line()
        self._open = self._reasoning = False

    def _piece(self, text: str) -> None:
        if text:
            self._output.part(text)
            self._open = not text.endswith("\n")


def _cancel(stream: ResponseStream, output: Output) -> None:
    """R6, on the way out; what stops it (no id yet, the network) leaves it running."""
    with contextlib.suppress(PokeeError, RuntimeError):
        stream.cancel()
        output.note(f"cancelled {stream.response_id}")


def _verdict(response: Response, output: Output) -> int:
    """0 for a completed response, else 1 with one line saying how it ended."""
    if response.status == "completed":
        return 0
    if response.status == "failed":
        output.error_line(f"the response failed: {_reason(response.error)}")
    elif response.status == "cancelled":
        output.error_line("the response was cancelled")
    else:
        output.error_line(f"the response ended {response.status}")
    return 1


def _reason(error: dict[str, Any] | None) -> str:
    """A failed response's ``error`` in words: its message, after its code unless the
    message says it already (R3 leaves the shape open)."""
    if not error:
        return "no reason given"
    code, message = error.get("code"), error.get("message")
    code = code if isinstance(code, str) else ""
    if isinstance(message, str) and message:
        return message if message.startswith(code) else f"{code}: {message}"
    return code or json.dumps(error)[:300]
