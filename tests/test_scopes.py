"""F8 without HTTP: `authorize`, the one scope check, and the turn writes that use it."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import pytest

from mock_pokee.clock import Clock
from mock_pokee.domain.errors import ForbiddenPath
from mock_pokee.domain.scopes import FULL, Grant, Need, authorize
from mock_pokee.domain.sessions import Session, SessionSpec
from mock_pokee.domain.tenants import SessionEffects, Tenant, TenantRules
from mock_pokee.domain.workspace import Workspace


def session(read: list[str], write: list[str]) -> Session:
    spec = SessionSpec.model_validate({"file_access": {"read": read, "write": write}})
    return Session.create(spec, now=0.0)


def allowed(session: Session, path: str, need: Need) -> bool:
    try:
        return authorize(session, PurePosixPath(path), need).full
    except ForbiddenPath:
        return False


ACME = session(["projects/acme"], ["projects/acme/out/"])


@pytest.mark.parametrize(
    ("path", "need", "expected"),
    [
        ("projects/acme", "read", True),  # an entry covers itself
        ("projects/acme/x/y.md", "read", True),
        ("projects/acme-corp/x", "read", False),  # segment by segment, not a prefix
        ("projects/acm", "read", False),
        ("projects", "read", False),
        ("", "read", False),
        ("projects/acme/x", "write", False),  # read does not give write
        ("projects/acme/out", "write", True),  # a trailing slash changes nothing
        ("projects/acme/out/deck.pptx", "write", True),
        ("projects/acme/outer", "write", False),
    ],
)
def test_entries_cover_segment_by_segment(path: str, need: Need, expected: bool) -> None:
    assert allowed(ACME, path, need) is expected


def test_write_implies_read_and_the_empty_entry_is_everything() -> None:
    writer = session([], ["out"])
    assert allowed(writer, "out/a.txt", "read")
    assert not allowed(writer, "in/a.txt", "read")
    everything = session([""], [""])
    assert all(allowed(everything, path, "write") for path in ("", "a", "a/b/c"))


def test_the_sessions_own_folder_is_open_to_it_alone() -> None:
    closed, other = session([], []), session([], [])
    own = f".sessions/{closed.id}"
    needs: tuple[Need, ...] = ("read", "write", "list")
    for need in needs:
        assert allowed(closed, f"{own}/notes.txt", need)
        assert not allowed(other, f"{own}/notes.txt", need)
    assert not allowed(closed, ".sessions", "write")


def test_a_folder_above_the_scope_lists_only_the_way_to_it() -> None:
    """F8 [C]: the children that are in scope (any type) or lead to it (folders only)."""
    root = authorize(ACME, PurePosixPath(), "list")
    assert root == Grant(full=False, leading=frozenset({"projects", ".sessions"}))
    assert root.shows("projects", is_directory=True)
    assert not root.shows("projects", is_directory=False)  # a file cannot lead anywhere
    assert not root.shows("top.txt", is_directory=False)
    projects = authorize(ACME, PurePosixPath("projects"), "list")
    assert projects.shows("acme", is_directory=False)  # in scope itself, whatever it is
    assert not projects.shows("acme-corp", is_directory=True)
    assert authorize(ACME, PurePosixPath("projects/acme"), "list") == FULL


@pytest.mark.parametrize("path", ["other", "projects/acme-corp", "projects/readme.md"])
def test_out_of_scope_is_the_documented_message(path: str) -> None:
    with pytest.raises(ForbiddenPath) as refused:
        authorize(ACME, PurePosixPath(path), "list")
    assert refused.value.message == f"'{path}' not in session scope"


def test_a_turn_writes_under_the_same_rules(tmp_path: Path) -> None:
    """F8: what a turn writes is authorized by the same check as an upload."""
    tenant = Tenant("t", Clock("virtual", now=1000.0), TenantRules(), Workspace(tmp_path / "t"))
    scoped = tenant.create_session(
        SessionSpec.model_validate({"file_access": {"read": [], "write": ["projects/acme"]}})
    )
    effects = SessionEffects(tenant, scoped)
    effects.write_file("projects/acme/deck.pptx", b"deck")
    effects.write_file(f".sessions/{scoped.id}/log.txt", b"log")
    with pytest.raises(ForbiddenPath, match="'projects/acme-corp/x' not in session scope"):
        effects.write_file("projects/acme-corp/x", b"no")
    with pytest.raises(ForbiddenPath, match=r"'projects/acme/deck\.pptx' is a file"):
        effects.write_file("projects/acme/deck.pptx/inner", b"no")
    assert sorted(f["path"] for f in tenant.workspace.files()) == [
        f".sessions/{scoped.id}/log.txt",
        "projects/acme/deck.pptx",
    ]
