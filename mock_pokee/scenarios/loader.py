"""Loading scenario files: the built-ins in ``scenarios/`` and any user folders (C6, D).

A bad file stops the server with the file's name, the step and the reason. User scenarios
are tried before the built-ins when matching a message, and replace a built-in of the same
name.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import yaml
from pydantic import ValidationError

from mock_pokee.domain.errors import InvalidRequest
from mock_pokee.domain.tools import ClientTool
from mock_pokee.scenarios.schema import Scenario, StepError

BUILTIN_FOLDER = Path(__file__).resolve().parents[2] / "scenarios"
DEFAULT_SCENARIO = "quick-answer"


class ScenarioFileError(Exception):
    """A scenario file that cannot be used: the file, and what is wrong (step included)."""

    def __init__(self, path: Path, reason: str):
        super().__init__(f"{path}: {reason}")


def load_file(path: Path) -> Scenario:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ScenarioFileError(path, f"cannot read it as YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ScenarioFileError(path, "a scenario file is a mapping (name, match, steps)")
    try:
        return Scenario.model_validate(raw)
    except ValidationError as exc:
        reasons = []
        for error in exc.errors():
            cause = error.get("ctx", {}).get("error")
            if isinstance(cause, StepError):
                reasons.append(str(cause))
            else:
                where = ".".join(str(p) for p in error["loc"]) or "file"
                reasons.append(f"{where}: {error['msg']}")
        raise ScenarioFileError(path, "; ".join(reasons)) from None


class ScenarioBook:
    """The loaded scenarios, in matching order."""

    def __init__(self, scenarios: Iterable[Scenario], default: str = DEFAULT_SCENARIO):
        self._by_name: dict[str, Scenario] = {}
        for scenario in scenarios:
            self._by_name.setdefault(scenario.name, scenario)
        if default not in self._by_name:
            raise ValueError(f"the default scenario {default!r} is not loaded")
        self.default = default

    @classmethod
    def load(cls, user_folders: Iterable[Path] = ()) -> ScenarioBook:
        """User folders first (their scenarios win), then the built-ins."""
        folders = [*user_folders, BUILTIN_FOLDER]
        scenarios: list[Scenario] = []
        for folder in folders:
            if not folder.is_dir():
                raise ScenarioFileError(folder, "not a folder of scenario files")
            files = sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])
            scenarios += [load_file(path) for path in files]
        return cls(scenarios)

    def __iter__(self) -> Iterator[Scenario]:
        return iter(self._by_name.values())

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def choose(
        self, message: str, forced: str | None = None, tools: Sequence[ClientTool] = ()
    ) -> Scenario:
        """C6: the forced one, else the first that matches (its pattern, or a session
        tool the message asks for), else the default."""
        if forced is not None:
            scenario = self._by_name.get(forced)
            if scenario is None:
                known = ", ".join(self._by_name)
                raise InvalidRequest(
                    f"X-Mock-Scenario: unknown scenario {forced!r}; known: {known}"
                )
            return scenario
        for scenario in self._by_name.values():
            if scenario.matches(message, tools):
                return scenario
        return self._by_name[self.default]
