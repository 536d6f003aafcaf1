"""The scenario forms ``mock-pokee record`` writes (D): given deltas, arguments as JSON
text, fixtures, generated sizes, quiet writes and raw events; what each sends and writes,
and every refusal at load, naming the step and the reason. No HTTP and no sleeping: turns
and responses run on a virtual clock the tests move."""

from __future__ import annotations

import asyncio
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from pptx import Presentation
from pydantic import ValidationError

from mock_pokee.clock import Clock
from mock_pokee.domain.models import ModelCatalog
from mock_pokee.domain.response_input import parse_request
from mock_pokee.domain.responses import ResponseRun
from mock_pokee.domain.sessions import SessionSpec
from mock_pokee.domain.tenants import Tenant, TenantRules
from mock_pokee.domain.toolcalls import ToolResult
from mock_pokee.domain.workspace import Workspace
from mock_pokee.limits import MAX_GENERATED_FILE
from mock_pokee.scenarios import filler
from mock_pokee.scenarios.documents import pptx_deck
from mock_pokee.scenarios.loader import ScenarioFileError, load_file
from mock_pokee.scenarios.responder import ResponseScript
from mock_pokee.scenarios.runner import ScenarioRun
from mock_pokee.scenarios.schema import Scenario

T0 = 1_800_000_000.0
WEATHER: dict[str, Any] = {
    "type": "function",
    "name": "get_weather",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
}


def scenario_file(folder: Path, steps: str, surface: str = "turn") -> Path:
    """A scenario file of ``steps`` (YAML lines, each indented two spaces) in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "recorded.yaml"
    path.write_text(f"name: recorded\nsurface: {surface}\nsteps:\n{steps}")
    return path


def load(folder: Path, steps: str, surface: str = "turn") -> Scenario:
    return load_file(scenario_file(folder, steps, surface))


def refusal(folder: Path, steps: str, surface: str = "turn") -> str:
    path = scenario_file(folder, steps, surface)
    with pytest.raises(ScenarioFileError) as refused:
        load_file(path)
    message = str(refused.value)
    assert str(path) in message
    return message


class Turned:
    """A turn run to its end: its events (type and data, ``sequence_number`` left out)
    and the workspace it wrote to."""

    def __init__(self, events: list[tuple[str, dict[str, Any]]], root: Path):
        self.events = events
        self.root = root
        self.types = [type_ for type_, _ in events]

    def files(self) -> list[str]:
        return sorted(
            p.relative_to(self.root).as_posix() for p in self.root.rglob("*") if p.is_file()
        )


def run_turn(
    scenario: Scenario,
    root: Path,
    message: str = "hi",
    *,
    answers: list[str] | None = None,
    workspace_limit: int | None = None,
) -> Turned:
    """Run ``scenario`` as a turn on a virtual clock, answering client tool calls with
    ``answers``, until it ends."""
    workspace = Workspace(root) if workspace_limit is None else Workspace(root, workspace_limit)
    tenant = Tenant("t", Clock("virtual", now=T0), TenantRules(), workspace)

    async def go() -> list[tuple[str, dict[str, Any]]]:
        session = tenant.create_session(SessionSpec(persistent=True, tools=[WEATHER]))
        start = tenant.start_turn(
            session.id, message, scenario.name, lambda effects: ScenarioRun(scenario, effects)
        )
        turn = start.run
        assert turn is not None
        for _ in range(100):
            await tenant.clock.advance(0)
            if not turn.running:
                break
            if turn.tool_calls.pending and answers is not None:
                calls = [json.loads(e.data) for e in turn.log.events]
                ids = [c["call_id"] for c in calls if "call_id" in c]
                tenant.answer_tool_calls(
                    session.id, [ToolResult(i, a) for i, a in zip(ids, answers, strict=True)]
                )
        assert not turn.running
        return [(e.type, _without_seq(json.loads(e.data))) for e in turn.log.events]

    return Turned(asyncio.run(go()), root)


def _without_seq(data: dict[str, Any]) -> dict[str, Any]:
    data.pop("sequence_number")
    return data


def run_response(scenario: Scenario, body: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Run ``scenario``'s steps as one response to ``body``, to its end."""

    ended: list[ResponseRun] = []

    async def go() -> list[tuple[str, dict[str, Any]]]:
        request = parse_request(body, ModelCatalog())
        clock = Clock("virtual", now=T0)
        run = ResponseRun(request=request, scenario=scenario.name, clock=clock, on_end=ended.append)
        run.start(ResponseScript(scenario.steps))
        await asyncio.wait_for(run.log.until_closed(), 5)
        return [(e.type, json.loads(e.data)) for e in run.log.events]

    return asyncio.run(go())


def of(events: list[tuple[str, dict[str, Any]]], type_: str) -> list[dict[str, Any]]:
    return [data for seen, data in events if seen == type_]


# -- text and think with given deltas ------------------------------------------------------


def test_a_turn_streams_given_deltas_one_event_each_in_order(tmp_path: Path) -> None:
    scenario = load(
        tmp_path / "s",
        '  - think: {deltas: ["ab", "c"], pace: 2}\n'
        '  - text: {deltas: ["Hel", "lo {message}", "!{{x}}"]}\n',
    )
    turned = run_turn(scenario, tmp_path / "ws", message="you")
    assert turned.types[1:-1] == [
        "thinking.start",
        "thinking.delta",
        "thinking.delta",
        "thinking.stop",
        "text.start",
        "text.delta",
        "text.delta",
        "text.delta",
        "text.stop",
    ]
    assert [d["content"] for d in of(turned.events, "thinking.delta")] == ["ab", "c"]
    assert [d["content"] for d in of(turned.events, "text.delta")] == ["Hel", "lo you", "!{x}"]
    # usage counts what was sent: 3 + 3 + 6 + 4 = 16 characters, 4 tokens
    (completed,) = of(turned.events, "message.completed")
    assert completed["usage"] == {"input_tokens": 1, "output_tokens": 4}


def test_a_long_list_of_deltas_is_sent_whole_and_in_order(tmp_path: Path) -> None:
    deltas = [f"d{i} " for i in range(1_000)]
    scenario = load(tmp_path / "s", f"  - text: {{deltas: {json.dumps(deltas)}}}\n")
    turned = run_turn(scenario, tmp_path / "ws")
    assert [d["content"] for d in of(turned.events, "text.delta")] == deltas


def test_a_response_streams_given_deltas_one_event_each_in_order(tmp_path: Path) -> None:
    scenario = load(
        tmp_path / "s",
        '  - think: {deltas: ["Plan", " it"]}\n  - text: {deltas: ["Sun", "ny in {message}"]}\n',
        surface="response",
    )
    events = run_response(scenario, {"input": "Oslo"})
    summary = [d["delta"] for d in of(events, "response.reasoning_summary_text.delta")]
    assert summary == ["Plan", " it"]
    assert [d["delta"] for d in of(events, "response.output_text.delta")] == ["Sun", "ny in Oslo"]
    (completed,) = of(events, "response.completed")
    reasoning, message = completed["response"]["output"]
    assert reasoning["summary"][0]["text"] == "Plan it"
    assert message["content"][0]["text"] == "Sunny in Oslo"
    # output: 13 characters of text (3 tokens) and 7 of reasoning (1 token)
    assert completed["response"]["usage"]["output_tokens"] == 4


@pytest.mark.parametrize(
    ("step", "reason"),
    [
        ('text: {content: hi, deltas: ["hi"]}', "give exactly one of content or deltas"),
        ("text: {pace: 1}", "give exactly one of content or deltas"),
        ('think: {deltas: ["a"], chunk: 4}', "deltas are streamed as given, so give no chunk"),
        ("text: {deltas: []}", "deltas: List should have at least 1 item"),
        ('text: {deltas: ["a", ""]}', "deltas.1: String should have at least 1 character"),
    ],
)
def test_bad_deltas_are_refused_naming_the_step(tmp_path: Path, step: str, reason: str) -> None:
    message = refusal(tmp_path, f"  - pause: 1\n  - {step}\n")
    kind = step.split(":")[0]
    assert f"step 2 ({kind}): " in message
    assert reason in message


# -- client tool arguments as JSON text ------------------------------------------------------

ARGUMENTS = '\'{{"city":  "Lisbon", "note": "{message}", "n": [1.50, {{}}]}}\''


def test_a_turn_sends_arguments_text_verbatim_its_fields_json_escaped(tmp_path: Path) -> None:
    scenario = load(
        tmp_path / "s",
        f"  - client_tool: {{tool: get_weather, arguments: {ARGUMENTS}}}\n"
        "  - text: 'got {tool_output}'\n",
    )
    turned = run_turn(scenario, tmp_path / "ws", message='say "hi"\\', answers=["sunny"])
    (call,) = of(turned.events, "tool_call.requested")
    assert call["name"] == "get_weather"
    assert call["arguments"] == '{"city":  "Lisbon", "note": "say \\"hi\\"\\\\", "n": [1.50, {}]}'
    assert json.loads(call["arguments"])["note"] == 'say "hi"\\'
    assert turned.types[-1] == "message.completed"


def test_a_response_sends_arguments_text_verbatim(tmp_path: Path) -> None:
    scenario = load(
        tmp_path / "s",
        f"  - client_tool: {{tool: get_weather, arguments: {ARGUMENTS}}}\n",
        surface="response",
    )
    events = run_response(scenario, {"input": "x", "tools": [WEATHER]})
    sent = '{"city":  "Lisbon", "note": "x", "n": [1.50, {}]}'
    assert "".join(d["delta"] for d in of(events, "response.function_call_arguments.delta")) == sent
    (done,) = of(events, "response.function_call_arguments.done")
    assert done["arguments"] == sent
    (completed,) = of(events, "response.completed")
    (item,) = completed["response"]["output"]
    assert (item["type"], item["name"], item["arguments"]) == ("function_call", "get_weather", sent)


@pytest.mark.parametrize(
    ("arguments", "reason"),
    [
        ("'{{\"city\": }}'", "must be JSON text of an object"),
        ("'[1, 2]'", "must be JSON text of an object"),
        ("'\"Lisbon\"'", "must be JSON text of an object"),
        ("'{{\"n\": NaN}}'", "NaN is not JSON"),
        ("'{{\"n\": {message}}}'", "its fields inside strings"),
        ('\'{{"n": "\\{message}"}}\'', "its fields inside strings"),  # after a backslash
        ('\'{{"n": "{message!r}"}}\'', "takes no format spec or conversion"),
    ],
)
def test_arguments_text_that_may_not_be_a_json_object_is_refused(
    tmp_path: Path, arguments: str, reason: str
) -> None:
    message = refusal(tmp_path, f"  - client_tool: {{tool: $first, arguments: {arguments}}}\n")
    assert "step 1 (client_tool): 0.arguments" in message
    assert reason in message


# -- writes: fixtures -------------------------------------------------------------------------

FIXTURE_BYTES = bytes(range(256)) * 3 + b"{message}"


def test_a_fixture_is_written_byte_for_byte(tmp_path: Path) -> None:
    folder = tmp_path / "s"
    (folder / "fixtures").mkdir(parents=True)
    (folder / "fixtures" / "q3 deck.bin").write_bytes(FIXTURE_BYTES)
    scenario = load(folder, "  - write: {path: out/deck.bin, fixture: 'fixtures/q3 deck.bin'}\n")
    turned = run_turn(scenario, tmp_path / "ws")
    assert (tmp_path / "ws" / "out/deck.bin").read_bytes() == FIXTURE_BYTES
    (result,) = of(turned.events, "tool_result")
    assert result["content"] == f"wrote out/deck.bin ({len(FIXTURE_BYTES)} bytes)"
    assert of(turned.events, "tool_use.executing")[0]["input"] == {"path": "out/deck.bin"}


def test_a_fixture_gone_after_loading_ends_the_turn_with_an_error(tmp_path: Path) -> None:
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / "a.bin").write_bytes(b"x")
    scenario = load(folder, "  - write: {path: a.bin, fixture: a.bin}\n")
    (folder / "a.bin").unlink()
    turned = run_turn(scenario, tmp_path / "ws")
    (error,) = of(turned.events, "message.error")
    assert error["error"] == "scenario_error: fixture 'a.bin': No such file or directory"


def test_fixtures_that_are_not_files_in_the_scenarios_folder_are_refused(tmp_path: Path) -> None:
    folder = tmp_path / "s"
    (folder / "sub").mkdir(parents=True)
    outside = tmp_path / "secret.txt"
    outside.write_text("not yours")
    (folder / "link.txt").symlink_to(outside)
    (folder / "loop").symlink_to(folder / "loop")
    refused = {
        "../secret.txt": "must be a path relative to the scenario's folder",
        "sub/../../secret.txt": "must be a path relative to the scenario's folder",
        str(outside): "must be a path relative to the scenario's folder",
        "sub\\\\x.txt": "must be a path relative to the scenario's folder",
        "link.txt": "leads outside the scenario's folder",
        "missing.bin": "no such file in",
        "sub": "not a regular file",
        "loop": "cannot be resolved",
        "{slug}.bin": "a fixture's path cannot use template fields",
        "": "String should have at least 1 character",
    }
    for name, reason in refused.items():
        message = refusal(folder, f'  - text: hi\n  - write: {{path: a, fixture: "{name}"}}\n')
        assert "step 2 (write): " in message, name
        assert reason in message, (name, message)


def test_a_scenario_without_a_folder_cannot_have_fixtures() -> None:
    raw = {"name": "x", "steps": [{"write": {"path": "a", "fixture": "a.bin"}}]}
    with pytest.raises(ValidationError, match=re.escape("step 1 (write): ")) as refused:
        Scenario.model_validate(raw)
    assert "a fixture is a file beside the scenario file; this scenario has none" in str(
        refused.value
    )


# -- writes: generated sizes ---------------------------------------------------------------


def test_a_generated_file_of_a_size_is_written_in_a_turn(tmp_path: Path) -> None:
    scenario = load(
        tmp_path / "s",
        "  - write: {path: 'out/{slug}.pptx', size: 50000, title: 'Deck: {topic}'}\n",
    )
    turned = run_turn(scenario, tmp_path / "ws", message="a deck on tides")
    data = (tmp_path / "ws" / "out/tides.pptx").read_bytes()
    assert len(data) == 50_000
    assert Presentation(io.BytesIO(data)).slides[0].shapes.title.text == "Deck: tides"
    (result,) = of(turned.events, "tool_result")
    assert result["content"] == "wrote out/tides.pptx (50000 bytes)"


@pytest.mark.parametrize("size", [30_000, 35_500, 36_000, 110_000, 2_000_000])
def test_a_generated_deck_opens_and_has_the_size_to_the_byte(size: int) -> None:
    data = filler.generate("out/deck.PPTX", size, "Q3", "tides")
    assert len(data) == size
    deck = Presentation(io.BytesIO(data))
    assert deck.slides[0].shapes.title.text == "Q3"


def test_a_deck_smaller_than_any_deck_is_filler_of_that_size() -> None:
    size = len(pptx_deck("Q3", "tides", 1)) - 200
    data = filler.generate("deck.pptx", size, "Q3", "tides")
    assert len(data) == size
    assert data == filler.generate("deck.pptx", size, "other", "topic")  # no deck in it


@pytest.mark.parametrize("size", [0, 1, 7, 12, 100, 4097])
def test_generated_text_has_the_size_and_the_shape_of_its_type(size: int) -> None:
    markdown = filler.generate("notes.md", size, "Tidés", "tides")
    assert len(markdown) == size
    markdown.decode()  # UTF-8 throughout
    if size >= len("# Tidés\n\n\n".encode()):  # room for the heading and the last newline
        assert markdown.startswith("# Tidés\n\nThis file".encode()[: size - 1])
        assert markdown.endswith(b"\n")
    document = filler.generate("data.json", size, "T", "t")
    assert len(document) == size
    if size:
        json.loads(document)
    assert len(filler.generate("table.csv", size, "T", "t").decode()) == size


def test_generated_json_holds_text_once_it_fits() -> None:
    assert json.loads(filler.generate("a.json", 100, "T", "t"))["text"].startswith("This file")
    assert filler.generate("a.json", 5, "T", "t") == b"{   }"


def test_other_bytes_are_the_same_for_the_same_path_and_size() -> None:
    first = filler.generate("out/blob.bin", 4096, "T", "t")
    assert len(first) == 4096
    assert first == filler.generate("out/blob.bin", 4096, "other", "x")
    assert first != filler.generate("out/other.bin", 4096, "T", "t")
    past_a_block = (1 << 20) + 5  # noise is made a mebibyte at a time
    assert len(filler.generate("out/blob.bin", past_a_block, "T", "t")) == past_a_block
    assert filler.generate("a.pdf", 50, "T", "t").startswith(b"%PDF-1.4\n")
    assert filler.generate("a.png", 50, "T", "t")[:8] == b"\x89PNG\r\n\x1a\n"
    assert filler.generate("a.png", 5, "T", "t") == b"\x89PNG\r"


@pytest.mark.parametrize("size", [22, 100, 70_000, 200_000])
def test_a_generated_zip_is_an_archive_of_the_size(size: int) -> None:
    import zipfile

    data = filler.generate("a.zip", size, "T", "t")
    assert len(data) == size
    assert zipfile.ZipFile(io.BytesIO(data)).testzip() is None


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        (
            f"size: {MAX_GENERATED_FILE + 1}",
            "size: Input should be less than or equal to 1073741824",
        ),
        ("size: -1", "size: Input should be greater than or equal to 0"),
        ("size: true", "size: Input should be a valid integer"),
        (
            "size: 10, content: x",
            "give exactly one of content, document, fixture, size (given: content, size)",
        ),
        ("document: pptx, size: 10", "(given: document, size)"),
        ("quiet: true", "give exactly one of content, document, fixture, size"),
    ],
)
def test_bad_write_sources_are_refused_naming_the_step(
    tmp_path: Path, source: str, reason: str
) -> None:
    message = refusal(tmp_path, f"  - write: {{path: a.bin, {source}}}\n")
    assert "step 1 (write): " in message
    assert reason in message


# -- writes: quiet ---------------------------------------------------------------------------


def test_a_quiet_write_shows_nothing_in_the_stream(tmp_path: Path) -> None:
    scenario = load(
        tmp_path / "s",
        "  - write: {path: out/a.md, content: '# {message}', quiet: true}\n"
        "  - write: {path: out/b.json, size: 64, quiet: true}\n",
    )
    turned = run_turn(scenario, tmp_path / "ws", message="hello")
    assert turned.types == ["message.created", "message.completed"]
    assert turned.files() == ["out/a.md", "out/b.json"]
    assert (tmp_path / "ws" / "out/a.md").read_text() == "# hello"


def test_a_quiet_write_past_the_workspace_limit_is_skipped(tmp_path: Path) -> None:
    scenario = load(
        tmp_path / "s",
        "  - write: {path: big.bin, size: 2000, quiet: true}\n"
        "  - write: {path: small.bin, size: 10, quiet: true}\n"
        "  - text: done\n",
    )
    turned = run_turn(scenario, tmp_path / "ws", workspace_limit=1000)
    assert turned.types == [
        "message.created",
        "text.start",
        "text.delta",
        "text.stop",
        "message.completed",
    ]
    assert turned.files() == ["small.bin"]


# -- raw events ----------------------------------------------------------------------------


def test_an_event_step_sends_its_event_with_its_data(tmp_path: Path) -> None:
    scenario = load(
        tmp_path / "s",
        "  - event: {type: agent.progress_2, data: {stage: '{message}', n: 3,"
        " deep: {k: ['{message}']}}}\n"
        "  - event: {type: tool_use.stop, data: {type_: 1, self: 2}}\n",
    )
    turned = run_turn(scenario, tmp_path / "ws", message="tides")
    assert turned.events[1:-1] == [
        ("agent.progress_2", {"stage": "tides", "n": 3, "deep": {"k": ["tides"]}}),
        ("tool_use.stop", {"type_": 1, "self": 2}),  # any key but the log's own
    ]


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        ("{type: message.completed}", "message.completed is sent by the turn itself"),
        ("{type: tool_call.requested}", "tool_call.requested is sent by the turn itself"),
        ("{type: 'has space'}", "type: String should match pattern"),
        ("{type: ''}", "type: String should match pattern"),
        (f"{{type: {'x' * 65}}}", "type: String should match pattern"),
        ("{type: x, data: {sequence_number: 1}}", "data cannot hold sequence_number"),
        ("{data: {}}", "type: Field required"),
        ("{type: x, other: 1}", "other: Extra inputs are not permitted"),
    ],
)
def test_bad_event_steps_are_refused_naming_the_step(
    tmp_path: Path, event: str, reason: str
) -> None:
    message = refusal(tmp_path, f"  - text: hi\n  - event: {event}\n")
    assert "step 2 (event): " in message
    assert reason in message


def test_an_event_step_cannot_script_a_response(tmp_path: Path) -> None:
    message = refusal(tmp_path, "  - text: hi\n  - event: {type: x}\n", surface="response")
    assert "step 2 (event): sends a turn's event, and a response's events are OpenAI's" in message


def test_a_fixture_is_found_from_a_relative_scenario_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / "a.bin").write_bytes(b"abc")
    scenario_file(folder, "  - write: {path: a.bin, fixture: a.bin}\n")
    monkeypatch.chdir(tmp_path)
    scenario = load_file(Path("s/recorded.yaml"))
    monkeypatch.undo()
    write = scenario.steps[0].write  # type: ignore[union-attr]
    assert write.fixture_file == (folder / "a.bin").resolve()
    assert "fixture_file" not in write.model_dump()


def test_the_forms_in_the_readme_load(tmp_path: Path) -> None:
    """scenarios/README.md shows each form; every example of its section must load."""
    readme = (Path(__file__).parents[1] / "scenarios" / "README.md").read_text()
    section = readme.split("## Replaying a recording", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```yaml\n(.*?)\n *```", section, re.DOTALL)
    steps = [line.strip() for block in blocks for line in block.splitlines()]
    (tmp_path / "fixtures").mkdir()
    (tmp_path / "fixtures" / "q3.pptx").write_bytes(b"deck")
    scenario = load(tmp_path, "".join(f"  {step}\n" for step in steps))
    assert [type(step).__name__ for step in scenario.steps] == [
        "TextStep",
        "ClientToolStep",
        "WriteStep",
        "WriteStep",
        "EventStep",
    ]


# -- usage with reasoning tokens ----------------------------------------------------------


def test_a_responses_usage_step_may_give_its_reasoning_tokens(tmp_path: Path) -> None:
    step = "  - text: hi\n  - usage: {input_tokens: 5, output_tokens: 9, reasoning_tokens: 4}\n"
    events = run_response(load(tmp_path / "s", step, surface="response"), {"input": "x"})
    (completed,) = of(events, "response.completed")
    usage = completed["response"]["usage"]
    assert usage["output_tokens"] == 9
    assert usage["output_tokens_details"] == {"reasoning_tokens": 4}


def test_a_turns_usage_leaves_reasoning_tokens_out(tmp_path: Path) -> None:
    step = "  - text: hi\n  - usage: {input_tokens: 5, output_tokens: 9, reasoning_tokens: 4}\n"
    turned = run_turn(load(tmp_path / "s", step), tmp_path / "ws")
    (completed,) = of(turned.events, "message.completed")
    assert completed["usage"] == {"input_tokens": 5, "output_tokens": 9}


@pytest.mark.parametrize(
    ("path", "starts", "ends"),
    [
        ("table.csv", b"text\n", b""),  # cut where the size ends
        ("notes.yml", b'text: "', b'"\n'),
        ("notes.yaml", b'text: "', b'"\n'),
    ],
)
def test_generated_files_of_a_type_have_its_frame(path: str, starts: bytes, ends: bytes) -> None:
    data = filler.generate(path, 300, "T", "t")
    assert len(data) == 300
    assert data.startswith(starts)
    assert data.endswith(ends)


def test_generated_json_of_just_its_frame_holds_empty_text() -> None:
    head, tail = filler._JSON
    assert json.loads(filler.generate("a.json", len(head) + len(tail), "T", "t")) == {"text": ""}


def test_a_generated_log_is_lines_of_text() -> None:
    data = filler.generate("server.log", 500, "T", "t")
    assert len(data) == 500
    assert data.startswith(b"This file stands in")


def test_generated_xml_is_a_document_an_xml_parser_reads() -> None:
    from xml.etree import ElementTree

    data = filler.generate("feed.xml", 2_000, "T", "t")
    assert len(data) == 2_000
    assert ElementTree.fromstring(data).tag == "text"
