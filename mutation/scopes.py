"""The scopes `python -m mutation` measures, each run and scored on its own.

- ``mock`` (the default): ``mock_pokee/domain/``, ``clock.py`` and ``api/``, with the
  ``[tool.mutmut]`` section of pyproject.toml, run in the project's own folder.
- ``client`` (and any other table under ``[tool.mutmut.scopes]``): that table's settings,
  run in a tree of its own, ``mutants/scope-<name>/``.

Why a tree: mutmut names a mutant after its file's path (``a/b.py`` makes ``a.b.x_f…``),
and a trampoline picks the mutant to run by the module's name, so the two must agree.
The client lives in ``client/pokee_client/`` but is imported as ``pokee_client``, so its
scope runs where ``pokee_client/`` is a link to it. Everything else at the top of the
project is linked in under its own name, and the tree's pyproject.toml is the project's
with ``[tool.mutmut]`` replaced by the scope's table. mutmut then copies and mutates the
linked sources into the tree's ``mutants/``, which its test runs put first on
``sys.path``: a test there imports the mutated ``pokee_client``, not the editable install's.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parent.parent
DEFAULT = "mock"
TREE_PREFIX = "scope-"  # mutants/scope-<name>/: a scope's tree, inside the default's mutants/
# A package that is imported under another name than its folder's: the link that makes
# the two agree in a scope's tree.
RENAMED = {"pokee_client": "client/pokee_client"}
# Not linked into a tree: what the tree replaces (pyproject.toml, client/) and what it is
# kept in (mutants/); nor hidden folders (.venv, .git, caches) and the egg-info.
NOT_LINKED = {"mutants", "client", "pyproject.toml"}
_MUTMUT_TABLE = re.compile(r"^\[tool\.mutmut(?:\.[^\]]*)?\]\s*$")
_TABLE = re.compile(r"^\[")


def _tables(pyproject: Path) -> dict[str, Any]:
    with pyproject.open("rb") as file:
        tool: dict[str, Any] = tomllib.load(file).get("tool", {})
    mutmut: dict[str, Any] = tool.get("mutmut", {})
    return mutmut


def names(pyproject: Path = PROJECT / "pyproject.toml") -> list[str]:
    """Every scope: the default, then the tables of ``[tool.mutmut.scopes]``."""
    return [DEFAULT, *sorted(_tables(pyproject).get("scopes", {}))]


@dataclass(frozen=True)
class Scope:
    name: str
    root: Path  # where mutmut runs: its mutants/, its pyproject.toml

    def enter(self) -> None:
        """Lay out the scope's tree (if it has one) and make it the working directory:
        mutmut, the mutant names and the score all read their paths from there."""
        if self.name != DEFAULT:
            _lay_out(self.name, self.root)
        os.chdir(self.root)


def scope(name: str, project: Path = PROJECT) -> Scope:
    if name == DEFAULT:
        return Scope(name, project)
    if name not in names(project / "pyproject.toml"):
        raise ValueError(f"no mutation scope {name!r}: one of {', '.join(names())}")
    return Scope(name, project / "mutants" / f"{TREE_PREFIX}{name}")


def _lay_out(name: str, root: Path, project: Path = PROJECT) -> None:
    root.mkdir(parents=True, exist_ok=True)
    links = {
        entry.name: entry
        for entry in project.iterdir()
        if not entry.name.startswith(".")
        and entry.name not in NOT_LINKED
        and not entry.name.endswith(".egg-info")
    }
    links.update({alias: project / target for alias, target in RENAMED.items()})
    for alias, target in links.items():
        link = root / alias
        if link.is_symlink() and link.readlink() == target:
            continue
        if link.is_symlink() or link.is_file():
            link.unlink()
        link.symlink_to(target)
    settings = _tables(project / "pyproject.toml")["scopes"][name]
    text = pyproject_for(settings, (project / "pyproject.toml").read_text(encoding="utf-8"))
    target_file = root / "pyproject.toml"
    if not target_file.exists() or target_file.read_text(encoding="utf-8") != text:
        target_file.write_text(text, encoding="utf-8")


def pyproject_for(settings: dict[str, Any], pyproject: str) -> str:
    """The project's pyproject.toml (pytest's settings above all) with its mutmut tables
    replaced by ``settings`` as ``[tool.mutmut]``."""
    kept: list[str] = []
    skipping = False
    for line in pyproject.splitlines():
        if _TABLE.match(line):
            skipping = bool(_MUTMUT_TABLE.match(line))
        if not skipping:
            kept.append(line)
    table = ["[tool.mutmut]", *(f"{key} = {_toml(value)}" for key, value in settings.items())]
    return "\n".join([*kept, "", *table]) + "\n"


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    raise TypeError(f"a mutmut setting of type {type(value).__name__}: {value!r}")
