"""Skills (K1–K4) driven without HTTP: bundles unpacked as hostile input, the atomic swap,
snapshots, reset, what a restart finds, and the scenario step. The contract tests
(contract_tests/test_skills.py) check the same over sockets; tests/test_hostile.py has
the attacks that need a server (a bomb beside another tenant's reads, racing uploads)."""

from __future__ import annotations

import asyncio
import io
import os
import struct
import threading
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pydantic import ValidationError

from contract_tests.bundles import Entry, bundle, simple, skill_md
from mock_pokee.domain import bundles
from mock_pokee.domain.bundles import unpack
from mock_pokee.domain.errors import InvalidRequest, NotFound, PayloadTooLarge
from mock_pokee.domain.journal import JournalQuery
from mock_pokee.domain.sessions import SessionSpec
from mock_pokee.domain.skills import Skills, check_skill_name
from mock_pokee.domain.tenants import TenantRegistry, TenantRules
from mock_pokee.limits import MAX_CENTRAL_DIRECTORY, MAX_FILE_BYTES, MAX_SKILLS, MAX_TOTAL_BYTES
from mock_pokee.scenarios.schema import Scenario

T = 1_700_000_000.0


async def chunks(data: bytes, size: int = 1 << 16) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def everything(folder: Path) -> list[str]:
    """Every path under ``folder`` (links shown, not followed)."""
    if not folder.exists():
        return []
    return sorted(path.relative_to(folder).as_posix() for path in folder.rglob("*"))


@pytest.fixture
def skills(tmp_path: Path) -> Skills:
    return Skills.beside(tmp_path / "acme")


def install(skills: Skills, name: str, data: bytes, now: float = T) -> dict[str, object]:
    async def go() -> dict[str, object]:
        return (await skills.install(name, chunks(data), lambda: now)).installed()

    return asyncio.run(go())


def on_disk(skills: Skills, name: str) -> dict[str, bytes]:
    """The files of the installed version of ``name``, through its link."""
    folder = skills.root / name
    return {
        path: (folder / path).read_bytes()
        for path in everything(folder)
        if (folder / path).is_file()
    }


# -- names (K1) ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["a", "0", "a-b_c", "x" * 64, "custom", "customer-x"])
def test_k1_names_that_follow_the_rules(name: str) -> None:
    assert check_skill_name(name) == name


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("", "1 to 64"),
        ("x" * 65, "1 to 64"),
        ("Abc", "[a-z0-9_-]"),
        ("a/b", "[a-z0-9_-]"),
        ("a b", "[a-z0-9_-]"),
        ("é", "[a-z0-9_-]"),
        ("_a", "[a-z0-9]"),
        ("-a", "[a-z0-9]"),
        ("custom-a", "'custom-' is reserved"),
    ],
)
def test_k1_each_broken_rule_is_named(name: str, rule: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        check_skill_name(name)
    assert rule in refused.value.message


# -- unpacking (K1, K2) -------------------------------------------------------------------


def unpacked(tmp_path: Path, data: bytes) -> tuple[bundles.Bundle, Path]:
    source = tmp_path / "bundle.zip"
    source.write_bytes(data)
    return unpack(source, tmp_path / "out"), tmp_path / "out"


def test_k1_a_wrapper_folder_is_stripped_and_files_sorted(tmp_path: Path) -> None:
    data = bundle(
        Entry("w/", mode=0o40755),
        ("w/b.txt", b"b"),
        ("w/SKILL.md", b"# Title\r\nbody"),
        ("w/a/deep.txt", b"deep"),
        Entry("w/empty/", mode=0o40755),
    )
    result, out = unpacked(tmp_path, data)
    assert result.files == ("SKILL.md", "a/deep.txt", "b.txt")
    assert result.total_bytes == len(b"# Title\r\nbody") + 1 + 4
    assert result.skill_md_size == len(b"# Title\r\nbody")
    assert result.first_line == "# Title"
    assert everything(out) == ["SKILL.md", "a", "a/deep.txt", "b.txt", "empty"]


@pytest.mark.parametrize(
    ("entries", "mention"),
    [
        ([Entry("../escape.txt", b"x")], "traversal"),
        ([Entry("a/../../escape.txt", b"x")], "traversal"),
        ([Entry("/etc/passwd", b"x")], "absolute"),
        ([Entry("a\\b.txt", b"x")], "backslash"),
        ([Entry("C:/x.txt", b"x")], "drive letter"),
        ([Entry("c:x.txt", b"x")], "drive letter"),
        ([Entry("l", b"/etc/passwd", mode=0o120777)], "symbolic link"),
        ([Entry("d", mode=0o20644)], "device"),
        ([Entry("p", mode=0o10644)], "device, FIFO"),
        ([Entry("s", mode=0o140644)], "socket"),
        ([Entry("x.txt", b"x", flags=0x1)], "encrypted"),
        ([Entry("x.txt", b"x", flags=0x40)], "encrypted"),
        ([Entry("a.txt", b"1"), Entry("a.txt", b"2")], "two entries"),
        ([Entry("a", b"1"), Entry("a/b", b"2")], "is a file and also the folder"),
        ([Entry("a", b"1"), Entry("a/", mode=0o40755)], "two entries"),
        ([Entry("a\x01b", b"x")], "control characters"),
        ([Entry("a//b", b"x")], "empty"),
        ([Entry("./a", b"x")], "'.'"),
        ([Entry("x" * 256, b"x")], "255 bytes"),
    ],
)
def test_k2_a_hostile_entry_is_refused_before_anything_is_written(
    tmp_path: Path, entries: list[Entry], mention: str
) -> None:
    data = bundle(("SKILL.md", skill_md("Hostile")), *entries)
    with pytest.raises(InvalidRequest) as refused:
        unpacked(tmp_path, data)
    assert mention in refused.value.message
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("data", "mention"),
    [
        (b"", "not a zip"),
        (b"PK\x05\x06" + bytes(18), "SKILL.md"),  # an empty zip
        (b"not a zip at all", "not a zip"),
        (bundle(("readme.md", b"x")), "no SKILL.md"),
        (bundle(("skill.md", b"x")), "no SKILL.md"),
        (bundle(("a/SKILL.md", b"x"), ("b/x", b"x")), "'a', 'b'"),
        (bundle(("a/b/SKILL.md", b"x")), "no SKILL.md"),
        (bundle(("SKILL.md/", b"")), "no SKILL.md"),
    ],
)
def test_k2_what_is_no_skill_bundle_is_400(tmp_path: Path, data: bytes, mention: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        unpacked(tmp_path, data)
    assert mention in refused.value.message


def test_k2_a_zip_bomb_writes_no_byte_past_the_file_limit(tmp_path: Path) -> None:
    """60 MB of zeros in 60 KB: 413 naming the 25 MB limit, and at most that many bytes
    were ever on disk (the refusal leaves the rest to the caller, who removes the folder)."""
    data = bundle(("SKILL.md", skill_md("Bomb")), Entry("zeros.bin", zeros=60 * 10**6))
    assert len(data) < 100_000
    with pytest.raises(PayloadTooLarge) as refused:
        unpacked(tmp_path, data)
    assert "25,000,000 bytes (25 MB) a file" in refused.value.message
    assert (tmp_path / "out" / "zeros.bin").stat().st_size <= MAX_FILE_BYTES


def test_k2_files_together_stop_at_the_total_limit(tmp_path: Path) -> None:
    parts = [Entry(f"z{n}.bin", zeros=20 * 10**6) for n in range(3)]
    with pytest.raises(PayloadTooLarge) as refused:
        unpacked(tmp_path, bundle(("SKILL.md", skill_md("Bombs")), *parts))
    assert "50,000,000 bytes (50 MB) in all" in refused.value.message
    total = sum(p.stat().st_size for p in (tmp_path / "out").iterdir())
    assert total <= MAX_TOTAL_BYTES


def test_k2_sizes_in_the_headers_are_not_trusted(tmp_path: Path) -> None:
    """A header that declares a small size for a large file: the decompressed bytes are
    what count, and a lie is a corrupt entry (400), never more bytes than declared."""
    data = bytearray(bundle(("SKILL.md", skill_md("Liar")), Entry("big.bin", zeros=10**6)))
    archive = zipfile.ZipFile(io.BytesIO(bytes(data)))
    info = archive.getinfo("big.bin")
    central = bytes(data).rindex(b"PK\x01\x02")  # the last entry's central header
    struct.pack_into("<L", data, central + 24, 10)  # its uncompressed size: 10 bytes
    struct.pack_into("<L", data, info.header_offset + 22, 10)
    with pytest.raises(InvalidRequest) as refused:
        unpacked(tmp_path, bytes(data))
    assert "big.bin" in refused.value.message
    assert (tmp_path / "out" / "big.bin").stat().st_size <= 10


def test_k2_one_entry_too_many_is_413(tmp_path: Path) -> None:
    many = [(f"f{n}", b"") for n in range(1_000)]
    with pytest.raises(PayloadTooLarge, match="1001 entries, more than the limit of 1,000"):
        unpacked(tmp_path, bundle(("SKILL.md", b"x"), *many))
    assert not (tmp_path / "out").exists()
    result, _ = unpacked(tmp_path, bundle(("SKILL.md", b"x"), *many[:999]))
    assert len(result.files) == 1_000


def test_k2_a_huge_central_directory_is_refused_before_zipfile_reads_it(tmp_path: Path) -> None:
    """zipfile keeps an object per listed entry: a directory past what 1,000 entries need
    is refused from its end record, before it is parsed."""
    names = [(f"{n:0>200}", b"") for n in range(MAX_CENTRAL_DIRECTORY // 240)]
    data = bundle(("SKILL.md", b"x"), *names)
    with pytest.raises(PayloadTooLarge, match="central directory"):
        unpacked(tmp_path, data)
    with_comment = io.BytesIO()
    with zipfile.ZipFile(with_comment, "w") as archive:  # the end record found past a comment
        for name, content in names:
            archive.writestr(name, content)
        archive.comment = b"PK" * 1000
    with pytest.raises(PayloadTooLarge, match="central directory"):
        unpacked(tmp_path, with_comment.getvalue())


@pytest.mark.parametrize("method", [zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA])
def test_k2_only_stored_and_deflated_entries_are_read(tmp_path: Path, method: int) -> None:
    """zipfile decompresses a bzip2 or LZMA chunk with no bound on its output."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("SKILL.md", b"# ok")
        archive.writestr("data.bin", bytes(1000), compress_type=method)
    with pytest.raises(InvalidRequest, match="stored or deflated"):
        unpacked(tmp_path, buffer.getvalue())


def test_k2_a_stored_bundle_and_a_zip64_one_unpack(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("SKILL.md", b"# stored")
        with archive.open("big.bin", "w", force_zip64=True) as out:
            out.write(b"b" * 1000)
    result, _ = unpacked(tmp_path, buffer.getvalue())
    assert result.files == ("SKILL.md", "big.bin")
    assert result.total_bytes == 1008


# -- installing (K1–K3) ----------------------------------------------------------------------


def test_k2_a_replace_is_whole_and_the_old_version_is_gone(skills: Skills) -> None:
    install(skills, "tool", simple("One", **{"old.txt": b"old", "keep.txt": b"1"}))
    first_folder = (skills.root / "tool").resolve()
    install(skills, "tool", simple("Two", **{"keep.txt": b"2"}))
    assert on_disk(skills, "tool") == {"SKILL.md": skill_md("Two"), "keep.txt": b"2"}
    assert not first_folder.exists()
    assert everything(skills.staging) == []
    assert [r.name for r in skills.listing()] == ["tool"]


def test_k2_a_refused_bundle_leaves_the_installed_version_and_no_staging(skills: Skills) -> None:
    install(skills, "tool", simple("Kept"))
    before = everything(skills.root)
    for hostile in (
        bundle(("SKILL.md", b"x"), Entry("zeros.bin", zeros=30 * 10**6)),
        bundle(("SKILL.md", b"x"), Entry("../x", b"x")),
        b"garbage",
    ):
        with pytest.raises((InvalidRequest, PayloadTooLarge)):
            install(skills, "tool", hostile)
        assert everything(skills.root) == before
        assert everything(skills.staging) == []
    assert on_disk(skills, "tool") == {"SKILL.md": skill_md("Kept")}


def test_k2_a_body_past_the_bundle_limit_is_refused_while_read(
    skills: Skills, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("mock_pokee.domain.skills.MAX_BUNDLE_BYTES", 1_000)
    with pytest.raises(PayloadTooLarge, match="1,000 bytes for a skill bundle"):
        install(skills, "tool", simple("Big", **{"noise.bin": os.urandom(2_000)}))
    assert skills.listing() == []
    assert everything(skills.staging) == []


def test_k2_racing_installs_of_one_name_each_swap_in_whole(skills: Skills) -> None:
    """Both unpack at once, each in its own folder; whichever swaps last is installed,
    whole, and the other's folder is gone."""
    first = simple("First", **{f"a{n}.txt": b"a" for n in range(200)})
    second = simple("Second", **{f"b{n}.txt": b"b" for n in range(200)})

    async def race() -> None:
        await asyncio.gather(
            skills.install("tool", chunks(first), lambda: T),
            skills.install("tool", chunks(second), lambda: T),
        )

    asyncio.run(race())
    files = set(on_disk(skills, "tool"))
    assert files in (
        {"SKILL.md", *(f"a{n}.txt" for n in range(200))},
        {
            "SKILL.md",
            *(f"b{n}.txt" for n in range(200)),
        },
    )
    assert len(os.listdir(skills.root / ".versions")) == 1
    assert everything(skills.staging) == []


def test_k3_delete_and_the_tenant_limit(skills: Skills, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("mock_pokee.domain.skills.MAX_SKILLS", 2)
    install(skills, "a", simple())
    install(skills, "b", simple())
    install(skills, "b", simple("Replacing needs no room"))
    with pytest.raises(PayloadTooLarge, match="the limit; delete one first"):
        install(skills, "c", simple())
    asyncio.run(skills.delete("a"))
    install(skills, "c", simple())
    with pytest.raises(NotFound):
        asyncio.run(skills.delete("a"))
    assert [r.name for r in skills.listing()] == ["b", "c"]
    assert len(os.listdir(skills.root / ".versions")) == 2
    assert MAX_SKILLS == 1_000


def test_a_reset_during_an_install_installs_nothing(skills: Skills) -> None:
    async def go() -> None:
        release = asyncio.Event()

        async def slow() -> AsyncIterator[bytes]:
            yield simple("Late")
            await release.wait()

        installing = asyncio.create_task(skills.install("tool", slow(), lambda: T))
        await asyncio.sleep(0.01)
        skills.clear()
        release.set()
        with pytest.raises(NotFound, match="reset"):
            await installing

    asyncio.run(go())
    assert skills.listing() == []
    assert everything(skills.root) == []
    assert everything(skills.staging) == []


def test_a_restart_finds_the_installed_skills_and_drops_leftovers(tmp_path: Path) -> None:
    skills = Skills.beside(tmp_path / "acme")
    install(skills, "tool", simple("Persisted", **{"a.txt": b"a"}), now=T)
    (skills.root / ".versions" / "tool.cut-short").mkdir()  # a stop between rename and link
    (skills.root / "not-a-link").mkdir()
    again = Skills.beside(tmp_path / "acme")
    (found,) = again.listing()
    assert (found.name, found.modified) == ("tool", T)
    assert found.bundle.files == ("SKILL.md", "a.txt")
    assert found.bundle.first_line == "# Persisted"
    assert not (skills.root / ".versions" / "tool.cut-short").exists()


# -- sessions and scenarios (K4), journal (C4), state (C3) -------------------------------------


def test_k4_sessions_keep_the_skills_they_saw_and_the_state_shows_them(tmp_path: Path) -> None:
    registry = TenantRegistry(TenantRules(), clock_mode="virtual", workspace_root=tmp_path)
    tenant = registry.get("acme")

    async def go() -> None:
        await tenant.install_skill("alpha", chunks(simple("Alpha one")))
        early = tenant.create_session(SessionSpec())
        await tenant.install_skill("alpha", chunks(simple("Alpha two")))
        await tenant.install_skill("beta", chunks(simple("Beta")))
        late = tenant.create_session(SessionSpec())
        await tenant.delete_skill("alpha")
        assert early.skills["alpha"].bundle.first_line == "# Alpha one"
        assert set(early.skills) == {"alpha"}
        assert late.skills["alpha"].bundle.first_line == "# Alpha two"
        state = tenant.state()
        by_id = {s["id"]: s["skills"] for s in state["sessions"]}
        assert by_id[early.id] == {"alpha": 1}
        assert by_id[late.id] == {"alpha": 2, "beta": 3}
        assert [s["name"] for s in state["skills"]] == ["beta"]
        entries = tenant.journal.read(JournalQuery.parse({"kind": "skill"}))["entries"]
        assert [(e["action"], e["name"], e["version"]) for e in entries] == [
            ("install", "alpha", 1),
            ("replace", "alpha", 2),
            ("install", "beta", 3),
            ("delete", "alpha", 2),
        ]

    asyncio.run(go())
    assert not tenant.holds_nothing(registry.clock)
    tenant.reset()
    assert tenant.skills.listing() == []
    registry.close()


def test_d_a_skill_step_names_a_skill_or_a_template() -> None:
    Scenario.model_validate({"name": "s", "steps": [{"skill": "pdf-tools"}]})
    Scenario.model_validate({"name": "s", "steps": [{"skill": "{message}"}]})
    with pytest.raises(ValidationError, match=r"step 1 \(skill\).*not a skill name"):
        Scenario.model_validate({"name": "s", "steps": [{"skill": "PDF Tools"}]})


def test_k2_unpacking_runs_off_the_event_loop(
    skills: Skills, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Up to 50 MB are decompressed and written: never on the thread of the event loop."""
    threads: list[int] = []

    def watched(source: Path, into: Path) -> bundles.Bundle:
        threads.append(threading.get_ident())
        return unpack(source, into)

    monkeypatch.setattr("mock_pokee.domain.skills.unpack", watched)  # `_unpack` calls it

    async def go() -> int:
        await skills.install("tool", chunks(simple()), lambda: T)
        return threading.get_ident()

    loop_thread = asyncio.run(go())
    assert threads
    assert loop_thread not in threads
