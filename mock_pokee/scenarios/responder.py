"""Running a scenario's steps, or the fake model's (R8), as one response.

The steps a response can run (`schema.RESPONSE_STEPS`) become its output items: ``text``
a message, ``think`` a reasoning item (each streamed in its ``deltas`` when it gives
them), each call of a ``client_tool`` step a function call for the client to run with
the arguments the step gives (an object, or JSON text sent as it is) or ones made from
the tool's schema. ``pause``, ``fail``, ``drop`` and ``usage`` act as in a turn; the pacing
of streamed text is the turn's (C1).

A turn waits at a ``client_tool`` step for the results; a response cannot, since the
client sends them in its next request (R4). So a script is a conversation over several
calls: a response runs the steps up to and including the next ``client_tool`` step
whose calls the input has not made yet (`script_for`), and the next call, carrying
those calls and their outputs, runs on from there, ``{tool_output}`` quoting them.
"""

from __future__ import annotations

from collections.abc import Sequence

from mock_pokee.domain.errors import InvalidRequest, ScenarioFailure
from mock_pokee.domain.response_input import ResponseRequest
from mock_pokee.domain.responses import ResponseRun
from mock_pokee.scenarios.model import MODEL_ANSWER, answer_steps
from mock_pokee.scenarios.runner import (
    Template,
    call_arguments,
    chunks,
    paced,
    pick_tool,
    streamed,
)
from mock_pokee.scenarios.schema import (
    ClientToolStep,
    DropStep,
    FailStep,
    PauseStep,
    Scenario,
    Step,
    TextStep,
    ThinkStep,
    UsageStep,
    response_problem,
)

ARGUMENT_CHUNK = 32  # characters of a call's arguments a delta carries


def plan(scenario: Scenario | None, request: ResponseRequest) -> tuple[str, Sequence[Step]]:
    """The name a response runs under (journal, fault rules) and its steps: the scenario's
    part for this request (`script_for`), else, with no scenario or none of it left, the
    fake model's answer (R8). A forced scenario whose steps need a session is refused."""
    if scenario is None:
        return MODEL_ANSWER, answer_steps(request)
    problem = response_problem(scenario.steps)
    if problem is not None:
        raise InvalidRequest(
            f"X-Mock-Scenario: scenario {scenario.name!r} cannot script a response: {problem}"
        )
    return scenario.name, script_for(scenario.steps, request) or answer_steps(request)


def script_for(steps: Sequence[Step], request: ResponseRequest) -> Sequence[Step]:
    """The part of a script this request runs: past every ``client_tool`` step whose
    calls the input already made since its last user message, up to and including the
    next one. Empty when the script has nothing left to say."""
    made = request.calls_since_user
    start = 0
    for index, step in enumerate(steps):
        if isinstance(step, ClientToolStep):
            if made < len(step.client_tool):
                return steps[start : index + 1]
            made -= len(step.client_tool)
            start = index + 1
    return steps[start:]


class ResponseScript:
    """Runs ``steps`` for one response; the response calls it as its step runner."""

    def __init__(self, steps: Sequence[Step]):
        self.steps = steps

    async def __call__(self, run: ResponseRun) -> None:
        template = Template.for_response(run)
        clock = run.clock
        for step in self.steps:
            if isinstance(step, TextStep):
                await run.write_text(streamed(clock, step.text, template))
            elif isinstance(step, ThinkStep):
                await run.write_reasoning(streamed(clock, step.think, template))
            elif isinstance(step, ClientToolStep):
                await self._calls(run, step, template)
            elif isinstance(step, PauseStep):
                await clock.sleep(step.pause)
            elif isinstance(step, FailStep):
                raise ScenarioFailure(template.render(step.fail))
            elif isinstance(step, DropStep):
                run.log.mark_drop()
            elif isinstance(step, UsageStep):
                run.given_usage = step.usage.model_dump(exclude_none=True)
            else:  # the scenario was checked when chosen; reaching here is a mock bug
                raise TypeError(f"a response cannot run a {type(step).__name__}")

    async def _calls(self, run: ResponseRun, step: ClientToolStep, template: Template) -> None:
        request = run.request
        for call in step.client_tool:
            tool = pick_tool(request.tools, call.tool, request.last_user_message, "the request")
            text = call_arguments(call, tool, template)
            await run.call_function(tool.name, paced(run.clock, chunks(text, ARGUMENT_CHUNK), 0.0))
