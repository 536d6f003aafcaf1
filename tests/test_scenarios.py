"""Scenario files (D): loading and refusing them, choosing one (C6), and what the built-in
ones produce (a real deck, a report where the message asks for it)."""

from __future__ import annotations

import asyncio
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from pptx import Presentation

from mock_pokee.clock import Clock
from mock_pokee.domain.sessions import SessionSpec
from mock_pokee.domain.tenants import Tenant, TenantRules
from mock_pokee.domain.workspace import Workspace
from mock_pokee.scenarios.loader import ScenarioBook, ScenarioFileError, load_file
from mock_pokee.scenarios.runner import ScenarioRun, Template

T0 = 1_800_000_000.0


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("name: x\nsteps:\n  - shout: hi\n", "step 1 (shout): unknown step kind"),
        ("name: x\nsteps:\n  - text: hi\n  - pause: soon\n", "step 2 (pause)"),
        ("name: x\nsteps:\n  - text: 'hi {name}'\n", "step 1 (text): unknown template field"),
        ("name: x\nsteps:\n  - write: {path: a.txt}\n", "step 1 (write)"),
        ("name: x\nsteps:\n  - text: hi\n    pause: 1\n", "step 1 (?)"),
        ("name: x\nmatch: '('\nsteps:\n  - text: hi\n", "match"),
        ("name: Bad Name\nsteps:\n  - text: hi\n", "name"),
        ("name: x\nsteps: []\n", "steps"),
        ("- just a list\n", "a mapping"),
        ("name: x\nsteps: [\n", "YAML"),
    ],
)
def test_a_bad_file_is_refused_with_its_name_the_step_and_the_reason(
    tmp_path: Path, text: str, complaint: str
) -> None:
    path = write(tmp_path, "bad.yaml", text)
    with pytest.raises(ScenarioFileError) as refused:
        load_file(path)
    assert str(path) in str(refused.value)
    assert complaint in str(refused.value)


def test_user_scenarios_come_first_and_replace_built_ins(tmp_path: Path) -> None:
    write(tmp_path, "mine.yaml", "name: mine\nmatch: '\\bhello\\b'\nsteps:\n  - text: hey\n")
    write(tmp_path, "quick.yaml", "name: quick-answer\nsteps:\n  - text: my default\n")
    book = ScenarioBook.load([tmp_path])
    assert book.choose("hello there").name == "mine"
    assert book.choose("a deck please").name == "presentation"
    assert book.choose("nothing special").steps[0].text.content == "my default"  # type: ignore[union-attr]
    assert book.choose("x", forced="report").name == "report"
    assert "nope" not in book
    assert book.names().startswith("mine, quick-answer, ")


def test_the_server_refuses_to_start_on_a_bad_scenario_file(tmp_path: Path) -> None:
    write(tmp_path, "broken.yaml", "name: broken\nsteps:\n  - tool: {name: t, duration: -1}\n")
    run = subprocess.run(
        [sys.executable, "-m", "mock_pokee", "serve", "--port", "0", "--scenarios", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert run.returncode == 2
    assert "broken.yaml" in run.stderr
    assert "step 1 (tool)" in run.stderr
    assert "Traceback" not in run.stderr


def test_templates_take_the_topic_slug_and_requested_path() -> None:
    class FakeTurn:
        message = "Build a Temasek-style PPT on Q3 NVIDIA performance."
        session_id = "sess_0"
        id = "msg_0"

    template = Template.for_turn(FakeTurn)  # type: ignore[arg-type]
    assert template.topic == "Q3 NVIDIA performance"
    assert template.slug == "q3-nvidia-performance"
    assert template.requested_path == ""
    FakeTurn.message = "Research solar; write it to /opt/sandbox/workspace/notes/solar.md."
    assert Template.for_turn(FakeTurn).requested_path == "notes/solar.md"  # type: ignore[arg-type]


def run_turn(tmp_path: Path, message: str, scenario: str) -> tuple[Tenant, str]:
    """Run one built-in scenario to its end on a virtual clock, without HTTP."""
    book = ScenarioBook.load()
    tenant = Tenant("t", Clock("virtual", now=T0), TenantRules(), Workspace(tmp_path))

    async def go() -> str:
        session = tenant.create_session(SessionSpec(persistent=True))
        chosen = book.choose(message, scenario)
        start = tenant.start_turn(
            session.id, message, chosen.name, lambda effects: ScenarioRun(chosen, effects)
        )
        assert start.run is not None
        for _ in range(60):
            if not start.run.running:
                break
            await tenant.clock.advance(10)
            await asyncio.sleep(0)
        return session.id

    return tenant, asyncio.run(go())


def test_the_presentation_writes_a_real_deck_titled_with_the_topic(tmp_path: Path) -> None:
    """D: python-pptx opens output/<slug>.pptx and its title slide carries the topic."""
    tenant, sid = run_turn(
        tmp_path, "Build a Temasek-style PPT on Q3 NVIDIA performance.", "presentation"
    )
    deck = Presentation(io.BytesIO((tmp_path / "output/q3-nvidia-performance.pptx").read_bytes()))
    assert deck.slides[0].shapes.title.text == "Q3 NVIDIA performance"
    assert tenant.get_session(sid).metadata["temasek_status"] == "completed"


@pytest.mark.parametrize(
    ("message", "where"),
    [
        ("Research EV batteries and write it to /opt/sandbox/workspace/report.md", "report.md"),
        ("Write a report on EV batteries", "output/report.md"),
    ],
)
def test_the_report_lands_where_the_message_asks(tmp_path: Path, message: str, where: str) -> None:
    run_turn(tmp_path, message, "report")
    assert (tmp_path / where).read_text().startswith("# Report: ")


def test_a_turn_cannot_write_outside_its_write_access(tmp_path: Path) -> None:
    """S1 file_access gates the turn's own writes: the turn ends with message.error."""
    book = ScenarioBook.load()
    tenant = Tenant("t", Clock("virtual", now=T0), TenantRules(), Workspace(tmp_path))

    async def go() -> list[str]:
        spec = SessionSpec.model_validate(
            {"persistent": True, "file_access": {"read": [""], "write": ["tmp/"]}}
        )
        session = tenant.create_session(spec)
        chosen = book.choose("", "dropped-stream")
        start = tenant.start_turn(session.id, "x", chosen.name, lambda e: ScenarioRun(chosen, e))
        assert start.run is not None
        await tenant.clock.advance(60)
        return [e.data for e in start.run.log.events]

    events = asyncio.run(go())
    refusal = "forbidden_path: 'output/dropped-stream.txt' not in session scope"  # F8
    assert json.loads(events[-1])["error"] == refusal
    assert not (tmp_path / "output").exists()


def test_the_annotated_example_in_the_readme_loads(tmp_path: Path) -> None:
    """scenarios/README.md documents the format; its example must stay valid."""
    readme = (Path(__file__).parents[1] / "scenarios" / "README.md").read_text()
    example = readme.split("```yaml\n", 1)[1].split("```", 1)[0]
    scenario = load_file(write(tmp_path, "example.yaml", example))
    assert scenario.name == "weekly-summary"
    assert [type(step).__name__ for step in scenario.steps] == [
        "MetadataStep",
        "ThinkStep",
        "ToolStep",
        "PauseStep",
        "WriteStep",
        "TextStep",
        "UsageStep",
    ]


def test_the_examples_users_copy_load_beside_the_built_ins() -> None:
    """scenarios/examples/ is a folder a user can pass to --scenarios as it is."""
    folder = Path(__file__).parents[1] / "scenarios" / "examples"
    book = ScenarioBook.load([folder])
    names = [scenario.name for scenario in book]
    assert names[:2] == ["flaky-export", "weekly-summary"]  # tried before the built-ins
    assert "presentation" in names


def test_the_recorded_examples_load_as_they_are() -> None:
    """scenarios/recorded/ (what `mock-pokee record` wrote, fixtures and all) serves."""
    folder = Path(__file__).parents[1] / "scenarios" / "recorded"
    book = ScenarioBook.load([folder])
    assert book.choose("Build a deck on tides").name == "turn-001-build-a-deck-on-tides"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ('{status: "\\ud800"}', r"steps\.0\.metadata\.status: .*surrogate"),
        ("{score: .nan}", r"steps\.0\.metadata\.score: nan is not a number JSON can hold"),
        ("{scores: [1, -.inf]}", r"steps\.0\.metadata\.scores\.1: -inf is not a number"),
        ("{1: one}", r"steps\.0\.metadata: the key 1 is not text"),
    ],
)
def test_a_scenario_that_would_store_what_cannot_be_served_is_refused(
    tmp_path: Path, value: str, reason: str
) -> None:
    """YAML spells what JSON cannot (lone surrogates, "\\ud800"; .nan; keys that are
    numbers): a turn would put it into metadata that no answer could carry, so the file is
    refused at load, naming the field."""
    write(tmp_path, "bad.yaml", f"name: bad\nsteps:\n  - metadata: {value}\n")
    with pytest.raises(ScenarioFileError, match=rf"bad.yaml: {reason}"):
        ScenarioBook.load([tmp_path])
