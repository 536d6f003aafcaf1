"""A scenario's ``expect:`` section (what a turn of it must leave behind, held up by the
contract tests' scenario matrix): loaded and checked with the file, shown by
``GET /_mock/scenarios``, declared by every built-in."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from mock_pokee.scenarios.loader import ScenarioBook, ScenarioFileError, load_file
from mock_pokee.server import ThreadedServer
from mock_pokee.settings import Settings

STEPS = "steps:\n  - text: hi\n"


def scenario(tmp_path: Path, expect: str) -> Path:
    path = tmp_path / "x.yaml"
    path.write_text(f"name: x\n{STEPS}expect:\n{expect}")
    return path


def test_an_expectation_is_loaded_with_its_defaults(tmp_path: Path) -> None:
    loaded = load_file(scenario(tmp_path, "  files: ['out/{session_id}.txt']\n  duration: 1m30s\n"))
    assert loaded.expect is not None
    assert loaded.expect.model_dump() == {
        "message": "hello",
        "terminal": "message.completed",
        "error": None,
        "metadata": None,
        "files": ["out/{session_id}.txt"],
        "duration": 90.0,
    }


@pytest.mark.parametrize(
    ("expect", "complaint"),
    [
        ("  terminal: message.done\n", "expect.terminal"),
        ("  error: boom\n", "only expected with terminal: message.error"),
        ("  files: ['{slug}.pptx']\n", "unknown template field(s) ['slug']"),
        ("  metadata: {a: '{topic}'}\n", "unknown template field(s) ['topic']"),
        ("  duration: soon\n", "expect.duration"),
        ("  messages: hi\n", "expect.messages"),
        ("  message: ''\n", "expect.message"),
    ],
)
def test_a_bad_expectation_is_refused_at_load_time(
    tmp_path: Path, expect: str, complaint: str
) -> None:
    path = scenario(tmp_path, expect)
    with pytest.raises(ScenarioFileError) as refused:
        load_file(path)
    assert complaint in str(refused.value)
    assert str(path) in str(refused.value)


def test_every_built_in_declares_what_its_turn_leaves_behind() -> None:
    for loaded in ScenarioBook.load():
        assert loaded.expect is not None, loaded.name
        assert loaded.expect.duration is not None, loaded.name


def test_the_control_plane_lists_each_scenarios_expectation(tmp_path: Path) -> None:
    (tmp_path / "plain.yaml").write_text(f"name: plain\ndescription: says hi\n{STEPS}")
    with ThreadedServer(Settings(port=0, scenario_folders=(tmp_path,))) as server:
        listed = httpx.get(f"{server.url}/_mock/scenarios").json()["scenarios"]
    by_name = {s["name"]: s["expect"] for s in listed}
    assert {s["name"]: (s["description"], s["steps"]) for s in listed}["plain"] == ("says hi", 1)
    assert by_name["plain"] is None
    assert by_name["turn-error"]["terminal"] == "message.error"
    assert by_name["turn-error"]["error"] == "upstream_model_error"
    assert by_name["presentation"]["duration"] == 210.0
