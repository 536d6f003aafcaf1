"""Section K: skills — install from a zip, the limits and hostile bundles, list, delete,
and what sessions see. Over real sockets.

Every skill a test installs has a name of its own (``ct-<hex>``), so on a deployment the
tenant's own skills are never replaced or removed; the ledger removes the test's skills
after it (`cleanup`), whatever its outcome. Bombs are cheap to send (zeros compress about
a thousand to one) and stop on the server at the limit."""

from __future__ import annotations

import secrets
import stat
from collections.abc import Callable
from functools import partial
from typing import Any

import httpx
import pytest

from .bundles import Entry, bundle, simple, skill_md
from .checks import assert_error, create
from .sse import send

MB = 10**6  # K2 says MB; a bundle "past a limit" here is past it in MiB too
MIB = 2**20


def unique() -> str:
    return f"ct-{secrets.token_hex(6)}"


def install(api: httpx.Client, name: str, body: bytes) -> httpx.Response:
    return api.post(f"/v1/skills/{name}", content=body, headers={"Content-Type": "application/zip"})


def installed(api: httpx.Client, name: str, body: bytes) -> dict[str, Any]:
    response = install(api, name, body)
    assert response.status_code == 201, response.text
    answer: dict[str, Any] = response.json()
    return answer


def listed(api: httpx.Client) -> dict[str, dict[str, Any]]:
    """K3: the tenant's skills by name (on a deployment, its own among them)."""
    response = api.get("/v1/skills")
    assert response.status_code == 200, response.text
    return {entry["name"]: entry for entry in response.json()}


# -- K1: installing -------------------------------------------------------------------------


def test_k1_install_answers_the_bundles_record(api: httpx.Client) -> None:
    """K1: 201 {name, files, total_bytes, skill_md_size} for a bundle with SKILL.md at its
    root."""
    name = unique()
    body = simple("Install me", **{"notes.txt": b"12345"})
    answer = installed(api, name, body)
    assert set(answer) >= {"name", "files", "total_bytes", "skill_md_size"}
    assert answer["name"] == name
    assert set(answer["files"]) == {"SKILL.md", "notes.txt"}
    assert answer["skill_md_size"] == len(skill_md("Install me"))
    assert answer["total_bytes"] == len(skill_md("Install me")) + 5


@pytest.mark.inferred
def test_k1_files_are_sorted(api: httpx.Client) -> None:
    """K1 [C]: ``files`` sorted (code-point order), folders given by their files."""
    body = bundle(
        ("b.txt", b"b"), ("SKILL.md", skill_md("Sorted")), ("a/z.txt", b"z"), ("B.txt", b"B")
    )
    answer = installed(api, unique(), body)
    assert answer["files"] == ["B.txt", "SKILL.md", "a/z.txt", "b.txt"]


def test_k1_one_wrapper_folder_is_stripped(api: httpx.Client) -> None:
    """K1: SKILL.md inside one wrapper folder counts; the folder is stripped."""
    name = unique()
    body = bundle(
        Entry("my-skill/", mode=stat.S_IFDIR | 0o755),
        ("my-skill/SKILL.md", skill_md("Wrapped")),
        ("my-skill/scripts/run.py", b"print('hi')\n"),
    )
    answer = installed(api, name, body)
    assert set(answer["files"]) == {"SKILL.md", "scripts/run.py"}
    assert answer["skill_md_size"] == len(skill_md("Wrapped"))


def test_k1_names_of_every_allowed_shape_are_accepted(api: httpx.Client) -> None:
    """K1: `[a-z0-9_-]`, 1–64 characters, starting with `[a-z0-9]` (the test's own prefix
    keeps each unique: a one-character name would be the tenant's)."""
    stem = unique()
    for name in (f"{stem}_under-dash", f"{stem}{'x' * (64 - len(stem))}", f"0{stem[1:]}"):
        assert len(name) <= 64
        installed(api, name, simple())
        assert name in listed(api)


@pytest.mark.inferred
@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("Upper", "[a-z0-9_-]"),
        ("dot.ted", "[a-z0-9_-]"),
        ("_under", "[a-z0-9]"),
        ("-dash", "[a-z0-9]"),
        ("x" * 65, "64"),
        ("custom-mine", "custom-"),
    ],
)
def test_k1_a_bad_name_is_400_naming_the_rule(api: httpx.Client, name: str, rule: str) -> None:
    """K1 [C]: a name against K1's rules (the `custom-` prefix is reserved) is 400 naming
    the rule, and nothing is installed."""
    response = install(api, name, simple())
    assert_error(response, 400, "invalid_request", rule)
    assert name not in listed(api)


# -- K2: limits, hostile bundles, atomic replacement -------------------------------------------


def test_k2_uploading_a_name_again_replaces_the_bundle(api: httpx.Client) -> None:
    """K2: a second upload of a name replaces the bundle: files not in the new one are
    gone."""
    name = unique()
    installed(api, name, simple("First", **{"old.txt": b"old"}))
    second = installed(api, name, simple("Second version", **{"new.txt": b"new"}))
    assert set(second["files"]) == {"SKILL.md", "new.txt"}
    assert listed(api)[name]["skill_md_size"] == len(skill_md("Second version"))


@pytest.mark.parametrize(
    "hostile",
    [
        pytest.param(Entry("../escape.txt", b"out"), id="traversal"),
        pytest.param(Entry("docs/../../escape.txt", b"out"), id="traversal-deeper"),
        pytest.param(Entry("link", b"/etc/passwd", mode=stat.S_IFLNK | 0o777), id="symlink"),
        pytest.param(Entry("dev", mode=stat.S_IFCHR | 0o644), id="device"),
        pytest.param(Entry("/tmp/absolute.txt", b"out"), id="absolute"),
    ],
)
def test_k2_traversal_links_devices_and_absolute_paths_are_refused_leaving_the_skill(
    api: httpx.Client, hostile: Entry
) -> None:
    """K2: symbolic links, devices and absolute paths are refused, path traversal with
    400; nothing is written: the installed version stays as it was."""
    name = unique()
    installed(api, name, simple("Kept"))
    before = listed(api)[name]
    response = install(api, name, bundle(("SKILL.md", skill_md("Hostile")), hostile))
    assert 400 <= response.status_code < 500, response.text
    if ".." in hostile.name:
        assert response.status_code == 400, response.text
    assert listed(api)[name] == before


@pytest.mark.inferred
@pytest.mark.parametrize(
    ("body", "mention"),
    [
        pytest.param(b"PK\x03\x04 not really a zip", "zip", id="not-a-zip"),
        pytest.param(bundle(("README.md", b"no skill here")), "SKILL.md", id="no-skill-md"),
        pytest.param(
            bundle(("one/SKILL.md", skill_md("One")), ("two/other.md", b"x")),
            "SKILL.md",
            id="two-top-folders",
        ),
        pytest.param(
            bundle(("SKILL.md", skill_md("Locked")), Entry("secret.txt", b"x", flags=0x1)),
            "encrypted",
            id="encrypted",
        ),
        pytest.param(
            bundle(("SKILL.md", skill_md("Twice")), ("a.txt", b"1"), ("a.txt", b"2")),
            "a.txt",
            id="duplicate",
        ),
        pytest.param(
            bundle(("SKILL.md", skill_md("Slashes")), ("docs\\a.txt", b"x")),
            "backslash",
            id="backslash",
        ),
        pytest.param(
            bundle(("SKILL.md", skill_md("Drive")), ("C:/a.txt", b"x")), "drive", id="drive"
        ),
        pytest.param(
            bundle(("SKILL.md", skill_md("Link")), Entry("l", b"x", mode=stat.S_IFLNK | 0o777)),
            "link",
            id="symlink",
        ),
    ],
)
def test_k2_a_bundle_that_is_no_skill_is_400_naming_why(
    api: httpx.Client, body: bytes, mention: str
) -> None:
    """K2 [C]: not a zip, no SKILL.md (at the root or in one folder holding everything),
    an encrypted entry, two entries with one name, a backslash, a drive letter, a link:
    400 naming the problem, nothing installed."""
    name = unique()
    response = install(api, name, body)
    assert_error(response, 400, "invalid_request", mention)
    assert name not in listed(api)


# The bundles past a limit are built when their test runs (`partial`), not when the
# module is collected: compressing their zeros takes about half a second of CPU, which
# every collection of the suite (`-k`, each pytest-xdist worker) would otherwise pay.
@pytest.mark.parametrize(
    "body",
    [
        pytest.param(
            partial(bundle, ("SKILL.md", skill_md("Big file")), Entry("big.bin", zeros=26 * MIB)),
            id="a-file-past-25-MB",
        ),
        pytest.param(
            partial(
                bundle,
                ("SKILL.md", skill_md("Big in all")),
                *(Entry(f"part{n}.bin", zeros=18 * MIB) for n in range(3)),
            ),
            id="all-files-past-50-MB",
        ),
        pytest.param(
            partial(
                bundle,
                ("SKILL.md", skill_md("Many")),
                *((f"f{n}.txt", b"") for n in range(1_000)),
            ),
            id="1001-entries",
        ),
    ],
)
def test_k2_a_bundle_past_a_limit_is_refused_and_the_skill_stays(
    api: httpx.Client, body: Callable[[], bytes]
) -> None:
    """K2: 1,000 entries, 25 MB a file, 50 MB in all (past each in MB and MiB alike): the
    bundle is refused and the installed version stays."""
    name = unique()
    installed(api, name, simple("Kept"))
    before = listed(api)[name]
    response = install(api, name, body())
    assert 400 <= response.status_code < 500, response.text
    assert listed(api)[name] == before


@pytest.mark.inferred
@pytest.mark.parametrize(  # each bundle built as its test runs, as above
    ("body", "mention"),
    [
        pytest.param(
            partial(bundle, ("SKILL.md", skill_md("Bomb")), Entry("zeros.bin", zeros=60 * MB)),
            "25,000,000",
            id="bomb-one-file",
        ),
        pytest.param(
            partial(
                bundle,
                ("SKILL.md", skill_md("Bombs")),
                *(Entry(f"zeros{n}.bin", zeros=20 * MB) for n in range(3)),
            ),
            "50,000,000",
            id="bomb-in-all",
        ),
        pytest.param(
            partial(
                bundle,
                ("SKILL.md", skill_md("Many")),
                *((f"f{n}.txt", b"") for n in range(1_000)),
            ),
            "1,000",
            id="1001-entries",
        ),
        pytest.param(
            partial(bundle, ("SKILL.md", skill_md("A byte")), Entry("big.bin", zeros=25 * MB + 1)),
            "25,000,000",
            id="a-byte-past-25-MB",
        ),
    ],
)
def test_k2_past_a_limit_is_413_naming_it(
    api: httpx.Client, body: Callable[[], bytes], mention: str
) -> None:
    """K2 [C]: 413 payload_too_large naming the limit passed (MB are 10^6 bytes); sizes
    are counted while decompressing, so a zip bomb (60 MB of zeros in 60 KB) stops at the
    limit, and nothing is installed."""
    name = unique()
    response = install(api, name, body())
    assert_error(response, 413, "payload_too_large", mention)
    assert name not in listed(api)


@pytest.mark.inferred
def test_k2_exactly_at_the_limits_is_installed(api: httpx.Client) -> None:
    """K2 [C]: 1,000 entries, and a file of exactly 25,000,000 bytes, are within the
    limits."""
    many = bundle(("SKILL.md", skill_md("Many")), *((f"f{n}.txt", b"") for n in range(999)))
    assert len(installed(api, unique(), many)["files"]) == 1_000
    big = bundle(("SKILL.md", skill_md("Big")), Entry("big.bin", zeros=25 * MB))
    assert installed(api, unique(), big)["total_bytes"] == 25 * MB + len(skill_md("Big"))


@pytest.mark.mock_only
@pytest.mark.inferred
def test_k2_on_disk_a_replace_is_whole_and_a_refusal_writes_nothing(api: httpx.Client) -> None:
    """K2 [C], seen in the mock's state (C3): the files on disk are the new bundle's and
    no others; a bomb, a traversal or a link leaves them exactly as they were."""
    name = unique()
    installed(api, name, simple("First", **{"old.txt": b"old", "keep.txt": b"1"}))
    installed(api, name, simple("Second", **{"keep.txt": b"2", "new.txt": b"new"}))
    (skill,) = api.get("/_mock/state").json()["skills"]
    assert skill["files"] == ["SKILL.md", "keep.txt", "new.txt"]
    for hostile in (
        Entry("zeros.bin", zeros=60 * MB),
        Entry("../escape.txt", b"out"),
        Entry("link", b"/etc", mode=stat.S_IFLNK | 0o777),
    ):
        refused = install(api, name, bundle(("SKILL.md", skill_md("Hostile")), hostile))
        assert refused.status_code in (400, 413), refused.text
        assert api.get("/_mock/state").json()["skills"] == [skill]


# -- K3: listing and uninstalling ---------------------------------------------------------------


def test_k3_list_and_uninstall(api: httpx.Client) -> None:
    """K3: GET /v1/skills lists {name, skill_md_size, modified}; DELETE uninstalls."""
    first, second = unique(), unique()
    installed(api, first, simple("First"))
    installed(api, second, simple("The second one"))
    skills = listed(api)
    assert set(skills[first]) >= {"name", "skill_md_size", "modified"}
    assert skills[first]["skill_md_size"] == len(skill_md("First"))
    assert skills[second]["skill_md_size"] == len(skill_md("The second one"))
    assert isinstance(skills[second]["modified"], int | float)
    api.delete(f"/v1/skills/{first}")
    skills = listed(api)
    assert first not in skills
    assert second in skills


@pytest.mark.inferred
def test_k3_sorted_by_name_204_then_404(api: httpx.Client) -> None:
    """K3 [C]: the list is sorted by name; an uninstall is 204 with no body, and a name
    that is not installed (any more) is 404."""
    names = sorted(unique() for _ in range(3))
    for name in reversed(names):
        installed(api, name, simple())
    everything = [entry["name"] for entry in api.get("/v1/skills").json()]
    assert everything == sorted(everything)
    assert [n for n in everything if n in names] == names
    deleted = api.delete(f"/v1/skills/{names[0]}")
    assert (deleted.status_code, deleted.content) == (204, b"")
    again = api.delete(f"/v1/skills/{names[0]}")
    assert_error(again, 404, "not_found", names[0])
    assert_error(api.delete(f"/v1/skills/{unique()}"), 404, "not_found")


@pytest.mark.inferred
def test_k3_skills_are_not_files(api: httpx.Client) -> None:
    """K3 [C]: a skill is not visible through the files API (F4 of the root, F5 of its
    name)."""
    name = unique()
    installed(api, name, simple("Hidden", **{"marker.txt": b"x"}))
    sid = create(api, persistent=True)["id"]
    root = [entry["name"] for entry in api.get(f"/v1/sessions/{sid}/files").json()]
    assert name not in root
    assert not any(entry.startswith(".skills") for entry in root)
    assert api.get(f"/v1/sessions/{sid}/files/{name}/SKILL.md").status_code == 404


# -- K4: what sessions see -------------------------------------------------------------------------


def run_skill(api: httpx.Client, sid: object, skill: str) -> dict[str, Any]:
    """The contract tests' run-skill scenario (D): the turn runs the skill its message
    names; returns its tool_result's data."""
    stream = send(api, sid, skill, scenario="run-skill")
    assert stream.terminal.type == "message.completed", stream.types
    (start,) = [f.data for f in stream.frames if f.type == "tool_use.start"]
    assert start["name"] == skill
    (result,) = [f.data for f in stream.frames if f.type == "tool_result"]
    assert result["id"] == start["id"]
    return result


@pytest.mark.mock_only
@pytest.mark.inferred
def test_k4_a_session_sees_the_skills_present_when_it_was_created(api: httpx.Client) -> None:
    """K4: a session sees the skills installed before its creation, as they were then; one
    created after an install, a replace and a delete sees the new state. [C] GET
    /_mock/state lists each session's skills (name → version); a scenario's skill step
    runs one as a tool whose result starts with its SKILL.md's first line, and a skill the
    session does not see is a tool_result with is_error: true, the turn going on."""
    alpha, beta = unique(), unique()
    installed(api, alpha, simple("Alpha, first version"))
    early = create(api, persistent=True)["id"]
    installed(api, alpha, simple("Alpha, second version"))
    installed(api, beta, simple("Beta"))
    late = create(api, persistent=True)["id"]
    api.delete(f"/v1/skills/{alpha}")

    state = api.get("/_mock/state").json()
    seen = {s["id"]: s["skills"] for s in state["sessions"]}
    assert set(seen[early]) == {alpha}
    assert set(seen[late]) == {alpha, beta}
    assert seen[late][alpha] > seen[early][alpha]  # another version of the same name

    first = run_skill(api, early, alpha)
    assert first["is_error"] is False
    assert first["content"].startswith("# Alpha, first version")
    assert run_skill(api, late, alpha)["content"].startswith("# Alpha, second version")
    assert run_skill(api, late, beta)["content"].startswith("# Beta")
    unseen = run_skill(api, early, beta)
    assert unseen["is_error"] is True
    assert beta in unseen["content"]


@pytest.mark.mock_only
def test_c4_skill_installs_replaces_and_removals_are_journaled(api: httpx.Client) -> None:
    """C4: a ``skill`` entry for each install, replace and uninstall, naming the skill."""
    name = unique()
    installed(api, name, simple("One", **{"a.txt": b"a"}))
    installed(api, name, simple("Two"))
    install(api, name, bundle(("README.md", b"refused: no SKILL.md")))
    api.delete(f"/v1/skills/{name}")
    entries = api.get("/_mock/journal", params={"kind": "skill"}).json()["entries"]
    assert [(e["action"], e["name"]) for e in entries] == [
        ("install", name),
        ("replace", name),
        ("delete", name),
    ]
    assert [e["files"] for e in entries] == [2, 1, 1]
    assert entries[0]["version"] < entries[1]["version"] == entries[2]["version"]
