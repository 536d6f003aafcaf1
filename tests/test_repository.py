"""Nothing of one machine in the repository: no symbolic link (a checkout elsewhere would
not have its target, as `.bench-peers` once showed), no absolute path of a user's or a
build machine's folders in any tracked text."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MACHINE_PATHS = re.compile(r"(?<![\w.])/(?:work|root|home/\w+|Users/\w+|private/var)/")


def tracked() -> list[tuple[str, str]]:
    """(mode, path) of every file git tracks (staged ones included)."""
    listed = subprocess.run(
        ["git", "ls-files", "-s", "-z"], cwd=REPO, capture_output=True, check=True
    ).stdout.decode()
    rows = []
    for row in filter(None, listed.split("\0")):
        meta, path = row.split("\t", 1)
        rows.append((meta.split()[0], path))
    return rows


def test_no_symbolic_links_are_tracked() -> None:
    links = [path for mode, path in tracked() if mode == "120000"]
    assert links == []


def test_no_tracked_text_names_a_folder_of_one_machine() -> None:
    found = []
    for _, path in tracked():
        file = REPO / path
        try:
            text = file.read_text(encoding="utf-8")
        except (UnicodeDecodeError, FileNotFoundError, IsADirectoryError):
            continue  # binary (a chart), or deleted in the work tree
        found += [f"{path}: {m.group(0)}" for m in MACHINE_PATHS.finditer(text)]
    assert found == []


def test_every_bound_in_the_limits_module_is_enforced_somewhere() -> None:
    """mock_pokee/limits.py is the server's worst case on one page: a bound that no module
    uses any more would make that page lie."""
    import re

    from mock_pokee import limits

    package = REPO / "mock_pokee"
    sources = "\n".join(
        path.read_text() for path in package.rglob("*.py") if path.name != "limits.py"
    )
    names = [name for name in vars(limits) if re.fullmatch(r"[A-Z][A-Z0-9_]+", name)]
    assert len(names) > 40
    unused = [name for name in names if not re.search(rf"\b{name}\b", sources)]
    assert unused == []
