"""Skills from the client (K1–K3): install from a folder (zipped the same way every time)
or a zip, list and delete, with both clients and from the ``pokee`` command."""

from __future__ import annotations

import asyncio
import io
import json
import os
import stat
import zipfile
from pathlib import Path

import httpx
import pytest

from mock_pokee.server import ThreadedServer
from pokee_client import (
    AsyncPokeeClient,
    InstalledSkill,
    InvalidRequestError,
    NotFoundError,
    PayloadTooLargeError,
    PokeeClient,
    Skill,
)
from pokee_client.skills import FIXED_TIME, bundle_of, zip_folder
from tests.client.helpers import Shell


def skill_folder(root: Path, title: str = "Tides") -> Path:
    folder = root / "tides"
    (folder / "scripts").mkdir(parents=True)
    (folder / "empty").mkdir()
    (folder / "SKILL.md").write_text(f"# {title}\n\nHow to read a tide table.\n")
    (folder / "scripts" / "run.sh").write_text("#!/bin/sh\necho tides\n")
    (folder / "scripts" / "run.sh").chmod(0o755)
    (folder / "notes.txt").write_text("high and low")
    return folder


def test_a_folder_is_zipped_the_same_way_every_time(tmp_path: Path) -> None:
    """Sorted entries, one fixed time, permission bits but no owner or clock of the
    machine: the same folder gives the same bytes; an empty folder is kept."""
    folder = skill_folder(tmp_path)
    first = zip_folder(folder)
    os.utime(folder / "notes.txt", (1e9, 1e9))
    assert zip_folder(folder) == first
    archive = zipfile.ZipFile(io.BytesIO(first))
    names = [info.filename for info in archive.infolist()]
    assert names == ["SKILL.md", "empty/", "notes.txt", "scripts/run.sh"]
    assert {info.date_time for info in archive.infolist()} == {FIXED_TIME}
    modes = {info.filename: info.external_attr >> 16 for info in archive.infolist()}
    assert modes["scripts/run.sh"] == stat.S_IFREG | 0o755
    assert modes["notes.txt"] == stat.S_IFREG | 0o644
    assert stat.S_ISDIR(modes["empty/"])


def test_a_link_in_the_folder_is_refused_before_anything_is_sent(tmp_path: Path) -> None:
    folder = skill_folder(tmp_path)
    (folder / "secrets").symlink_to("/etc")
    with pytest.raises(ValueError, match="symbolic link"):
        bundle_of(folder)


def test_k1_k3_install_list_and_delete(client: PokeeClient, tmp_path: Path) -> None:
    folder = skill_folder(tmp_path)
    answer = client.skills.install("tides", folder)
    assert answer == InstalledSkill(
        name="tides",
        files=("SKILL.md", "notes.txt", "scripts/run.sh"),
        total_bytes=sum(
            (folder / p).stat().st_size for p in ("SKILL.md", "notes.txt", "scripts/run.sh")
        ),
        skill_md_size=(folder / "SKILL.md").stat().st_size,
    )
    zipped = tmp_path / "tides.zip"
    zipped.write_bytes(zip_folder(skill_folder(tmp_path / "again", "Tides, again")))
    assert client.skills.install("tides-zip", zipped).files == answer.files
    assert client.skills.install("tides-bytes", zipped.read_bytes()).name == "tides-bytes"
    listed = client.skills.list()
    assert [skill.name for skill in listed] == ["tides", "tides-bytes", "tides-zip"]
    assert all(isinstance(skill, Skill) for skill in listed)
    client.skills.delete("tides")
    assert [skill.name for skill in client.skills.list()] == ["tides-bytes", "tides-zip"]
    with pytest.raises(NotFoundError):
        client.skills.delete("tides")


def test_k1_k2_refusals_are_the_servers_errors(client: PokeeClient, tmp_path: Path) -> None:
    with pytest.raises(InvalidRequestError, match="custom-"):
        client.skills.install("custom-tides", skill_folder(tmp_path))
    with pytest.raises(InvalidRequestError, match=r"SKILL\.md"):
        client.skills.install("empty", tmp_path / "tides" / "scripts")
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("SKILL.md", "# Bomb")
        archive.writestr("zeros.bin", bytes(26 * 10**6))
    with pytest.raises(PayloadTooLargeError, match="25 MB"):
        client.skills.install("bomb", bomb.getvalue())
    assert client.skills.list() == []


def test_the_async_client_does_the_same(mock: ThreadedServer, key: str, tmp_path: Path) -> None:
    folder = skill_folder(tmp_path)

    async def go() -> list[str]:
        async with AsyncPokeeClient(mock.url, key) as pokee:
            answer = await pokee.skills.install("tides", folder)
            assert answer.files == ("SKILL.md", "notes.txt", "scripts/run.sh")
            names = [skill.name for skill in await pokee.skills.list()]
            await pokee.skills.delete("tides")
            with pytest.raises(NotFoundError):
                await pokee.skills.delete("tides")
            return names

    assert asyncio.run(go()) == ["tides"]


def test_pokee_skills_install_list_and_rm(
    mock: ThreadedServer, key: str, control: httpx.Client, tmp_path: Path
) -> None:
    shell = Shell(mock.url, key)
    folder = skill_folder(tmp_path)
    assert shell("skills", "list").stdout == "no skills\n"
    done = shell("skills", "install", "tides", str(folder))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("installed tides (3 files, ")
    assert shell.json("skills", "install", "tides", str(folder))["files"] == [
        "SKILL.md",
        "notes.txt",
        "scripts/run.sh",
    ]
    (listed,) = shell.json("skills", "list")
    assert (listed["name"], listed["skill_md_size"]) == (
        "tides",
        (folder / "SKILL.md").stat().st_size,
    )
    assert "tides  installed " in shell("skills", "list").stdout
    assert shell.json("skills", "rm", "tides") == {"deleted": "tides"}
    gone = shell("skills", "rm", "tides", "--json")
    assert gone.returncode == 1
    assert json.loads(gone.stdout)["error"] == "not_found"
    bad = shell("skills", "install", "Tides", str(folder))
    assert bad.returncode == 1
    assert "[a-z0-9_-]" in bad.stderr
    (folder / "link").symlink_to(folder / "notes.txt")
    linked = shell("skills", "install", "tides", str(folder))
    assert linked.returncode == 2
    assert "symbolic link" in linked.stderr
    missing = shell("skills", "install", "tides", str(tmp_path / "nowhere.zip"))
    assert missing.returncode == 1
    assert "nowhere.zip" in missing.stderr
    assert control.get("/v1/skills").json() == []
