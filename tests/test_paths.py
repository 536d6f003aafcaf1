"""F2 as a property: whatever the path string, what it resolves to is inside the tenant's
root, or the request is refused, symbolic links included; and the spelling rules that
paths and F8 scope entries share (`mock_pokee.domain.paths`)."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mock_pokee.domain.errors import ForbiddenPath
from mock_pokee.domain.paths import (
    check_raw_path,
    check_relative_path,
    entry_segments,
    path_problem,
    quoted,
    scope_entry_problem,
)
from mock_pokee.domain.text import shown
from mock_pokee.domain.workspace import Workspace

# Characters that matter to paths, plus anything at all.
PIECES = [*"./\\%2eEfF5cC0a\x00\x01\x7f\x85 :~", "..", "escape", "inside"]
PATHY = st.lists(st.sampled_from(PIECES), max_size=12).map("".join)
PATHS = st.one_of(PATHY, st.text(), st.builds("/".join, st.lists(PATHY | st.just("inside"))))


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """A tenant root holding ``inside/escape``, a link that points out of the root."""
    base = tmp_path_factory.mktemp("paths")
    root = base / "tenant"
    (root / "inside").mkdir(parents=True)
    (base / "outside").mkdir()
    os.symlink(base / "outside", root / "inside" / "escape")
    return Workspace(root)


def resolve(workspace: Workspace, raw: str) -> Path:
    """What a files route does with the tail of a request path."""
    check_raw_path(raw)
    return workspace.locate(check_relative_path(unquote(raw, errors="strict")))


@settings(max_examples=1500, deadline=None)
@given(raw=PATHS)
def test_any_path_resolves_inside_the_root_or_is_refused(workspace: Workspace, raw: str) -> None:
    try:
        target = resolve(workspace, raw)
    except (ForbiddenPath, UnicodeDecodeError):
        return
    root = workspace.root.resolve()
    assert target == root or target.is_relative_to(root), (raw, target)


@pytest.mark.parametrize(
    "raw", ["inside/escape", "inside/escape/secret.txt", "..", "%2e%2e", "inside/..%2f..", "/"]
)
def test_known_escapes_are_refused(workspace: Workspace, raw: str) -> None:
    with pytest.raises(ForbiddenPath):
        resolve(workspace, raw)


def test_ordinary_paths_resolve(workspace: Workspace) -> None:
    expected = workspace.root.resolve() / "inside" / "report final.md"
    assert resolve(workspace, "inside/report%20final.md") == expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("a\x00b", "control"),
        ("a\x1fb", "control"),
        ("a\x7fb", "control"),  # DEL (issue 10)
        ("a\x85b", "control"),  # U+0085, NEL: a C1 control (issue 9, 13)
        ("a\x9fb", "control"),
        ("a\ud800b", "surrogates"),
        ("a" * 256, "255 bytes"),
        ("é" * 128, "255 bytes"),  # 256 bytes of UTF-8 in 128 characters
        ("/".join(["a" * 200] * 6), "1024 bytes"),
        ("a//b", "segments"),
        ("a/./b", "segments"),
        ("a/", "segments"),
        ("/a", "relative"),
        ("a\\b", "backslashes"),
    ],
)
def test_unsafe_spellings_are_named(text: str, problem: str) -> None:
    """F2 (issue 9, 5 and 13): what no path may hold, and why, in the message."""
    found = path_problem(text)
    assert found is not None
    assert problem in found
    with pytest.raises(ForbiddenPath, match=problem):
        check_relative_path(text)


@pytest.mark.parametrize(
    "text", ["", "a", "a" * 255, "é" * 127, "/".join(["a" * 200] * 5), "x\u200by", ".hidden"]
)
def test_safe_spellings_pass(text: str) -> None:
    """The limits are inclusive; other characters (a zero-width space) are names."""
    assert path_problem(text) is None


@pytest.mark.parametrize(
    ("entry", "segments"),
    [("", ()), ("out", ("out",)), ("out/", ("out",)), ("projects/acme/", ("projects", "acme"))],
)
def test_scope_entries_allow_one_trailing_slash(entry: str, segments: tuple[str, ...]) -> None:
    """F8 [C]: ``out/`` = ``out``; ``""`` is the whole workspace (no segments)."""
    assert scope_entry_problem(entry) is None
    assert entry_segments(entry) == segments


@pytest.mark.parametrize("entry", ["/", "/out", "out//", "../x", "a/../b", "a\\b", "a\x85"])
def test_scope_entries_are_spelled_like_paths(entry: str) -> None:
    """F8 [C]: a leading slash, ``..``, a backslash or a control character is refused."""
    assert scope_entry_problem(entry) is not None


@settings(max_examples=500, deadline=None)
@given(st.text())
def test_any_text_gets_an_answer_not_an_exception(text: str) -> None:
    """Whatever a body or a URL holds (lone surrogates too), the rules answer."""
    assert path_problem(text) is None or isinstance(path_problem(text), str)
    assert scope_entry_problem(text) is None or isinstance(scope_entry_problem(text), str)


def test_f8_a_scope_entry_from_the_root_says_to_be_relative() -> None:
    assert scope_entry_problem("/out") == "must be relative to the workspace root (no leading '/')"


def test_shown_names_a_huge_number_by_its_digits() -> None:
    assert shown(10**80) == "a number of 81 digits"
    assert shown(10**79) == repr(10**79)


def test_messages_quote_long_text_cut_short() -> None:
    assert quoted("x" * 300) == repr("x" * 200) + "…"
    assert quoted("x" * 200) == repr("x" * 200)
    assert path_problem("/etc") == "must be relative to the workspace root (no leading '/')"
