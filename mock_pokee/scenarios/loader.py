"""Loading scenario files: the built-ins and any user folders (C6, D).

The built-ins ship inside the package (``mock_pokee/scenarios/builtin``) and are read
through `importlib.resources`, so an installed wheel has them as a clone does. A bad file
stops the server with the file's name, the step and the reason. User scenarios are tried
before the built-ins when matching a message, and replace a built-in of the same name. A
file's ``fixture`` writes name files in its folder, so a scenario is validated knowing it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

import yaml
from pydantic import ValidationError

from mock_pokee.domain.errors import InvalidRequest, ScenarioError
from mock_pokee.domain.inputs import check_value
from mock_pokee.domain.tools import ClientTool
from mock_pokee.scenarios.schema import SCENARIO_FOLDER, Scenario, StepError

DEFAULT_SCENARIO = "quick-answer"
SUFFIXES = (".yaml", ".yml")


def builtin_folder() -> Traversable:
    return resources.files("mock_pokee.scenarios").joinpath("builtin")


class ScenarioFileError(ScenarioError):
    """A scenario file that cannot be used: the file, and what is wrong (step included)."""


def load_file(path: Path | Traversable) -> Scenario:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ScenarioFileError(path, f"cannot read it as YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ScenarioFileError(path, "a scenario file is a mapping (name, match, steps)")
    try:  # what a turn stores (metadata, text) must be servable, as for request bodies
        check_value(raw, "body")  # names fields as in a body: steps.0.metadata.status
    except InvalidRequest as exc:
        raise ScenarioFileError(path, exc.message) from None
    folder = path.parent if isinstance(path, Path) else None  # a packaged file may have none
    try:
        return Scenario.model_validate(raw, context={SCENARIO_FOLDER: folder})
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
            raise ScenarioError("scenarios", f"the default scenario {default!r} is not loaded")
        self.default = default

    @classmethod
    def load(cls, user_folders: Iterable[Path] = ()) -> ScenarioBook:
        """User folders first (their scenarios win), then the built-ins."""
        folders: list[Path | Traversable] = [*user_folders, builtin_folder()]
        scenarios: list[Scenario] = []
        for folder in folders:
            if not folder.is_dir():
                raise ScenarioFileError(folder, "not a folder of scenario files")
            files = sorted(
                (entry for entry in folder.iterdir() if entry.name.endswith(SUFFIXES)),
                key=lambda entry: entry.name,
            )
            scenarios += [load_file(path) for path in files]
        return cls(scenarios)

    def __iter__(self) -> Iterator[Scenario]:
        return iter(self._by_name.values())

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def names(self) -> str:
        """For messages: the loaded scenarios, in matching order."""
        return ", ".join(self._by_name)

    def choose(
        self, message: str, forced: str | None = None, tools: Sequence[ClientTool] = ()
    ) -> Scenario:
        """C6: the forced one, else the first turn scenario that matches (its pattern, or
        a session tool the message asks for), else the default.

        A forced name must be one of the loaded scenarios (`names`): the caller checks,
        since only it knows where the name came from."""
        if forced is not None:
            return self._by_name[forced]
        return self._first_match("turn", message, tools) or self._by_name[self.default]

    def choose_response(
        self, message: str, forced: str | None = None, tools: Sequence[ClientTool] = ()
    ) -> Scenario | None:
        """R8 with C6: the forced one, else the first response scenario that matches
        (the last user message, or a tool of the request it asks for); None when none
        does, and the fake model answers. The caller checks a forced name as for `choose`,
        and that its steps can run as a response."""
        if forced is not None:
            return self._by_name[forced]
        return self._first_match("response", message, tools)

    def _first_match(
        self, surface: str, message: str, tools: Sequence[ClientTool]
    ) -> Scenario | None:
        for scenario in self._by_name.values():
            if scenario.surface == surface and scenario.matches(message, tools):
                return scenario
        return None
