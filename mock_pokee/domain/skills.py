"""A tenant's skills (contract K1–K4): installed bundles, kept beside its workspace.

On disk, under the workspace root, beside the tenants' folders (so no files path can name
a skill and F9 never counts one):

    .skills/<tenant>/<name>                  a symbolic link to the installed version
    .skills/<tenant>/.versions/<name>.<hex>/ the files of one version
    .staging/<tenant>.skills/<hex>/          an install under way: its zip, then its files

An install receives the zip into a staging folder of its own, unpacks it there in a worker
thread (`bundles.unpack`, which treats it as hostile), then, on the event loop and without
awaiting in between, moves the unpacked folder under ``.versions`` and replaces the link
with one rename (K2): whoever looks sees the old version or the new one, whole, and a
refused bundle never gets past its staging folder. Two installs of one name race safely:
each unpacks in its own folder, and the one that swaps last is installed, whole; the
version it replaced is removed after the swap. Files of the old version that the new one
lacks go with it (a replace, not a merge).

A session keeps the skills it saw when it was created (K4). The installed skills are one
mapping that is never changed once made (an install or delete makes a new one), so a
snapshot is that mapping itself, taken at no cost.

Skills outlive restarts like files do: a server started on a workspace folder that holds
some finds them at its first look (a version no link leads to, left by a stop at the
wrong moment, is removed then).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import re
import secrets
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from mock_pokee.domain.bundles import (
    SKILL_FILE,
    Bundle,
    first_line_of,
    unpack,
)
from mock_pokee.domain.errors import InvalidRequest, NotFound, PayloadTooLarge
from mock_pokee.domain.paths import quoted
from mock_pokee.domain.workspace import STAGING_FOLDER, out_of_descriptors
from mock_pokee.limits import MAX_BUNDLE_BYTES, MAX_SKILL_NAME, MAX_SKILLS

SKILLS_FOLDER = ".skills"  # beside the tenants' folders: no tenant name starts with a dot
VERSIONS = ".versions"  # inside a tenant's skills folder: no skill name starts with a dot
RESERVED_PREFIX = "custom-"  # K1: reserved

SKILL_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_NOT_A_NAME_CHARACTER = re.compile(r"[^a-z0-9_-]")

SkillAction = Literal["install", "replace", "delete"]


def check_skill_name(name: str) -> str:
    """K1: ``name`` if it is a skill name, else `InvalidRequest` naming the rule it breaks."""
    shown = quoted(name, limit=80)
    if not name:
        raise InvalidRequest(f"skill name: empty; a name is 1 to {MAX_SKILL_NAME} characters")
    if len(name) > MAX_SKILL_NAME:
        raise InvalidRequest(
            f"skill name {shown}: {len(name)} characters; "
            f"a name is 1 to {MAX_SKILL_NAME} characters"
        )
    bad = _NOT_A_NAME_CHARACTER.search(name)
    if bad is not None:
        raise InvalidRequest(
            f"skill name {shown}: {bad.group()!r} is not allowed; only lowercase letters, "
            "digits, '_' and '-' ([a-z0-9_-])"
        )
    if name[0] in "_-":
        raise InvalidRequest(
            f"skill name {shown}: must start with a lowercase letter or a digit ([a-z0-9])"
        )
    if name.startswith(RESERVED_PREFIX):
        raise InvalidRequest(f"skill name {shown}: the prefix {RESERVED_PREFIX!r} is reserved")
    return name


@dataclass(frozen=True, slots=True)
class SkillVersion:
    """One installed version of a skill. ``version`` counts the tenant's installs, so a
    reinstalled name is a new version (what a session saw, K4, is told apart)."""

    name: str
    version: int
    bundle: Bundle
    modified: float  # clock time of the install
    folder: str  # under .versions

    def installed(self) -> dict[str, Any]:
        """K1's answer."""
        return {
            "name": self.name,
            "files": list(self.bundle.files),
            "total_bytes": self.bundle.total_bytes,
            "skill_md_size": self.bundle.skill_md_size,
        }

    def listed(self) -> dict[str, Any]:
        """K3's entry."""
        return {
            "name": self.name,
            "skill_md_size": self.bundle.skill_md_size,
            "modified": self.modified,
        }


# Told of every change, as it lands (the tenant journals it, C4).
OnChange = Callable[[SkillAction, SkillVersion], None]


class Skills:
    def __init__(self, root: Path, staging: Path):
        self.root = root
        self.staging = staging
        self.on_change: OnChange | None = None
        self._installed: Mapping[str, SkillVersion] = {}
        self._loaded = False
        self._epoch = 0  # bumped by each reset: installs begun before one are refused
        self._versions = itertools.count(1)

    @classmethod
    def beside(cls, workspace_root: Path) -> Skills:
        """The skills of the tenant whose files are in ``workspace_root``."""
        parent, folder = workspace_root.parent, workspace_root.name
        return cls(parent / SKILLS_FOLDER / folder, parent / STAGING_FOLDER / f"{folder}.skills")

    # -- reading (K3, K4) ----------------------------------------------------------------

    @property
    def installed(self) -> Mapping[str, SkillVersion]:
        """Name → version; never changed once returned (K4's snapshot)."""
        self._load()
        return self._installed

    def listing(self) -> list[SkillVersion]:
        """K3: sorted by name."""
        return [self.installed[name] for name in sorted(self.installed)]

    @property
    def empty(self) -> bool:
        return not self.installed

    # -- changing (K1, K2, K3) -----------------------------------------------------------

    def check_room(self, name: str) -> None:
        """A new name needs room under `MAX_SKILLS` (a replace does not)."""
        installed = self.installed
        if name not in installed and len(installed) >= MAX_SKILLS:
            raise PayloadTooLarge(
                f"skill {quoted(name)}: the tenant has {len(installed)} skills, the limit; "
                "delete one first"
            )

    async def install(
        self, name: str, chunks: AsyncIterator[bytes], now: Callable[[], float]
    ) -> SkillVersion:
        """K1, K2: receive the zip (at most `MAX_BUNDLE_BYTES`), unpack it off the event
        loop, and swap it in; anything refused leaves the installed version as it was."""
        check_skill_name(name)
        self.check_room(name)
        epoch = self._epoch
        self.staging.mkdir(parents=True, exist_ok=True)
        with out_of_descriptors():
            work = Path(tempfile.mkdtemp(dir=self.staging))
        unpacking: asyncio.Future[Bundle] | None = None
        try:
            zipped = work / "bundle.zip"
            await _receive(chunks, zipped, MAX_BUNDLE_BYTES)
            unpacking = asyncio.ensure_future(asyncio.to_thread(_unpack, zipped, work / "files"))
            bundle = await asyncio.shield(unpacking)  # a cancelled request waits for nothing
            record, replaced = self._swap_in(name, work / "files", bundle, epoch, now())
        finally:
            if unpacking is None or unpacking.done():
                await asyncio.to_thread(shutil.rmtree, work, ignore_errors=True)
            else:  # cancelled while the thread unpacks: clear up once it is done
                unpacking.add_done_callback(lambda _: shutil.rmtree(work, ignore_errors=True))
        if replaced is not None:
            await asyncio.to_thread(self._discard, replaced)
        return record

    def _swap_in(
        self, name: str, files: Path, bundle: Bundle, epoch: int, now: float
    ) -> tuple[SkillVersion, SkillVersion | None]:
        """The atomic part of an install: synchronous, so nothing runs in between."""
        if epoch != self._epoch:
            raise NotFound(
                f"skill {quoted(name)}: the tenant was reset while the bundle was sent; "
                "nothing was installed"
            )
        self.check_room(name)
        versions = self.root / VERSIONS
        versions.mkdir(parents=True, exist_ok=True)
        folder = f"{name}.{secrets.token_hex(8)}"
        os.utime(files, (now, now))
        os.rename(files, versions / folder)
        link = self.root / f".link-{secrets.token_hex(8)}"
        os.symlink(f"{VERSIONS}/{folder}", link)
        os.replace(link, self.root / name)
        replaced = self._installed.get(name)
        record = SkillVersion(name, next(self._versions), bundle, now, folder)
        self._installed = {**self._installed, name: record}
        if self.on_change is not None:
            self.on_change("install" if replaced is None else "replace", record)
        return record, replaced

    async def delete(self, name: str) -> None:
        """K3: uninstall; `NotFound` for a name that is not installed."""
        record = self.installed.get(name)
        if record is None:
            raise NotFound(f"skill {quoted(name, limit=80)}: not installed")
        (self.root / name).unlink(missing_ok=True)
        self._installed = {k: v for k, v in self._installed.items() if k != name}
        if self.on_change is not None:
            self.on_change("delete", record)
        await asyncio.to_thread(self._discard, record)

    def _discard(self, record: SkillVersion) -> None:
        shutil.rmtree(self.root / VERSIONS / record.folder, ignore_errors=True)

    def clear(self) -> None:
        """C3's reset: every skill goes; installs under way are not installed."""
        self._epoch += 1
        shutil.rmtree(self.root, ignore_errors=True)
        self._installed = {}
        self._loaded = True

    # -- the control plane (C3, K4) --------------------------------------------------------

    def describe(self) -> list[dict[str, Any]]:
        """``GET /_mock/state``: each skill with the files on disk (what a test checks)."""
        return [
            {
                "name": record.name,
                "version": record.version,
                "files": _files_in(self.root / VERSIONS / record.folder),
                "total_bytes": record.bundle.total_bytes,
                "skill_md_size": record.bundle.skill_md_size,
                "modified": record.modified,
            }
            for record in self.listing()
        ]

    # -- what a restart finds ----------------------------------------------------------------

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        try:
            links = [entry for entry in os.scandir(self.root) if entry.is_symlink()]
        except FileNotFoundError:
            return
        found: dict[str, SkillVersion] = {}
        for link in sorted(links, key=lambda entry: entry.name):
            target = os.readlink(link.path)
            folder = target.removeprefix(f"{VERSIONS}/")
            if not SKILL_NAME.fullmatch(link.name) or folder == target or "/" in folder:
                continue
            bundle = _bundle_in(self.root / VERSIONS / folder)
            if bundle is not None:
                modified = (self.root / VERSIONS / folder).stat().st_mtime
                found[link.name] = SkillVersion(
                    link.name, next(self._versions), bundle, modified, folder
                )
        self._installed = found
        kept = {record.folder for record in found.values()}
        versions = self.root / VERSIONS
        for entry in os.scandir(versions) if versions.is_dir() else ():
            if entry.name not in kept:
                shutil.rmtree(entry.path, ignore_errors=True)


def _unpack(bundle: Path, into: Path) -> Bundle:
    """`unpack`, in a worker thread; a process out of file descriptors is a 503."""
    with out_of_descriptors():
        return unpack(bundle, into)


async def _receive(chunks: AsyncIterator[bytes], target: Path, limit: int) -> None:
    """The body into ``target``, refused (413) as soon as it passes ``limit`` bytes. Chunks
    are written synchronously, as uploads are (`Workspace.receive`)."""
    size = 0
    with out_of_descriptors():
        out = target.open("wb")
    with out:
        async for chunk in chunks:
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge(
                    f"body: larger than the limit of {limit:,} bytes for a skill bundle (the "
                    "zip as sent); nothing was installed"
                )
            out.write(chunk)


def _files_in(folder: Path) -> list[str]:
    found = []
    for directory, _, names in os.walk(folder):
        for name in names:
            found.append((Path(directory) / name).relative_to(folder).as_posix())
    return sorted(found)


def _bundle_in(folder: Path) -> Bundle | None:
    """A version found on disk, as `unpack` described it; None if it is no skill."""
    skill_md = folder / SKILL_FILE
    if not skill_md.is_file() or skill_md.is_symlink():
        return None
    files = _files_in(folder)
    total = sum((folder / path).lstat().st_size for path in files)
    return Bundle(tuple(files), total, skill_md.stat().st_size, first_line_of(skill_md))
