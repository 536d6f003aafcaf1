"""F2 as a property: whatever the path string, what it resolves to is inside the tenant's
root, or the request is refused. Symbolic links included."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from urllib.parse import unquote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mock_pokee.domain.errors import ForbiddenPath
from mock_pokee.domain.workspace import Workspace, check_raw_path, check_relative_path

ROOT = Path(tempfile.mkdtemp(prefix="mock-pokee-paths-")) / "tenant"
(ROOT / "inside").mkdir(parents=True)
OUTSIDE = ROOT.parent / "outside"
OUTSIDE.mkdir()
os.symlink(OUTSIDE, ROOT / "inside" / "escape")  # a link that points out of the root
WORKSPACE = Workspace(ROOT)

# Characters that matter to paths, plus anything at all.
PIECES = [*"./\\%2eEfF5cC0a\x00\x01 :~", "..", "escape", "inside"]
PATHY = st.lists(st.sampled_from(PIECES), max_size=12).map("".join)
PATHS = st.one_of(PATHY, st.text(), st.builds("/".join, st.lists(PATHY | st.just("inside"))))


def resolve(raw: str) -> Path:
    """What a files route does with the tail of a request path."""
    check_raw_path(raw)
    return WORKSPACE.locate(check_relative_path(unquote(raw, errors="strict")))


@settings(max_examples=1500, deadline=None)
@given(PATHS)
def test_any_path_resolves_inside_the_root_or_is_refused(raw: str) -> None:
    try:
        target = resolve(raw)
    except (ForbiddenPath, UnicodeDecodeError):
        return
    root = ROOT.resolve()
    assert target == root or target.is_relative_to(root), (raw, target)


@pytest.mark.parametrize(
    "raw", ["inside/escape", "inside/escape/secret.txt", "..", "%2e%2e", "inside/..%2f..", "/"]
)
def test_known_escapes_are_refused(raw: str) -> None:
    with pytest.raises(ForbiddenPath):
        resolve(raw)


def test_ordinary_paths_resolve() -> None:
    assert resolve("inside/report%20final.md") == ROOT.resolve() / "inside" / "report final.md"
