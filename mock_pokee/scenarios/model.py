"""What the fake model answers when no scenario scripts a response (contract R8).

Its answer is written as scenario steps, so that a script and the model are run alike
(`mock_pokee.scenarios.responder`): with reasoning asked for (``low``, ``medium``,
``high``), a reasoning step first; then one function call when the request calls for
one, else text quoting the tool outputs the input ends with, else text answering the last
user message. A call is made when there are tools and ``tool_choice`` is not ``none``:
always for ``required`` or a named function, otherwise when the last item is a user
message. The tool is the named one, else the first whose name or description shares a
word with the message, else the first; its arguments are made from its schema as the
``client-tool`` scenario makes them. Everything here is deterministic.
"""

from __future__ import annotations

from mock_pokee.domain.response_input import ResponseRequest
from mock_pokee.domain.tools import ClientTool
from mock_pokee.scenarios.asked import asked_tool
from mock_pokee.scenarios.schema import (
    ClientCall,
    ClientToolStep,
    Step,
    Streamed,
    TextStep,
    ThinkStep,
)

MODEL_ANSWER = "model-answer"  # the name its responses are journaled and matched by (C4, C5)
THINKING_EFFORTS = frozenset({"low", "medium", "high"})
CHUNK = 8  # characters a text delta carries, as the quick-answer scenario streams


def tool_to_call(request: ResponseRequest) -> ClientTool | None:
    """The tool the model calls, if it calls one."""
    tools = request.tools
    if not tools or request.tool_choice == "none":
        return None
    if request.forced_tool is not None:
        return next(tool for tool in tools if tool.name == request.forced_tool)
    if request.tool_choice != "required" and not request.ends_with_user_message:
        return None
    return asked_tool(tools, request.last_user_message, descriptions=True) or tools[0]


def answer_steps(request: ResponseRequest) -> list[Step]:
    """The model's answer to ``request``, as steps (templates and all)."""
    tool = tool_to_call(request)
    if tool is not None:
        plan, answer = f"The {tool.name} tool can answer it.", _call(tool)
    elif request.tool_outputs:
        plan, answer = (
            "The tool has answered.",
            _text("Here is what your tool returned: {tool_output}"),
        )
    else:
        plan, answer = (
            "I can answer it directly.",
            _text("Here is a quick answer from mock-pokee to: {message}"),
        )
    steps: list[Step] = []
    if request.effort in THINKING_EFFORTS:
        steps.append(ThinkStep(think=Streamed(content=f"The request is about {{topic}}. {plan}")))
    steps.append(answer)
    return steps


def _call(tool: ClientTool) -> Step:
    return ClientToolStep(client_tool=[ClientCall(tool=tool.name)])


def _text(template: str) -> Step:
    return TextStep(text=Streamed(content=template, chunk=CHUNK))
