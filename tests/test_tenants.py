"""The tenant registry (A3, C2) driven without HTTP: folder names that never collide, and
tenants that hold nothing forgotten once many keys have come and gone."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

import pytest

from mock_pokee.domain.faults import RuleSpec
from mock_pokee.domain.journal import RequestRecord
from mock_pokee.domain.keys import tenant_of
from mock_pokee.domain.sessions import SessionSpec
from mock_pokee.domain.tenants import TenantRegistry, TenantRules, workspace_folder

FORGET_FROM = 10


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[TenantRegistry]:
    tenants = TenantRegistry(
        TenantRules(), clock_mode="virtual", workspace_root=tmp_path, forget_from=FORGET_FROM
    )
    yield tenants
    tenants.close()


def request(registry: TenantRegistry, tenant_id: str) -> None:
    """What one answered request leaves: the tenant, and its journal entry."""
    tenant = registry.get(tenant_id)
    record = RequestRecord("GET", "/v1/sessions", [])
    tenant.journal.record_lazy(tenant.clock.now(), "request", None, record)


def test_workspace_folders_are_distinct_even_where_case_is_not() -> None:
    """F1/A4: lower-case names are their own folder; others get a hash, so no two tenants
    share a folder on a case-insensitive disk, hashed key names included."""
    names = ["acme", "Acme", "ACME", "aCme", tenant_of("anything"), "key", "KEY", "a" * 64]
    folders = [workspace_folder(name).lower() for name in names]
    assert len(set(folders)) == len(names)
    assert workspace_folder("acme") == "acme"
    assert workspace_folder("Acme").startswith("acme_")  # reads as its tenant on disk
    assert all(len(folder) < 100 for folder in folders)


def test_a3_tenants_holding_nothing_are_forgotten_and_the_rest_kept(
    registry: TenantRegistry,
) -> None:
    """A3: many keys that only read leave a bounded number of tenants; a tenant with a
    session, a fault rule, a moved clock, or a file is never forgotten, nor one that
    came back recently."""
    with_session = registry.get("holder")
    with_session.create_session(SessionSpec())
    registry.get("ruler").faults.add(RuleSpec.model_validate({"fault": {"type": "drop"}}))
    moved = registry.get("mover")
    moved.set_clock(now=moved.clock.now() + 5)
    filer = registry.get("filer")
    filer.workspace.root.mkdir()
    for n in range(20 * FORGET_FROM):
        request(registry, f"reader{n}")
        request(registry, "regular")  # comes back all the time
    ids = {tenant.id for tenant in registry}
    assert {"holder", "ruler", "mover", "filer", "regular"} <= ids
    assert len(ids) <= 3 * FORGET_FROM
    assert "reader0" not in ids
    assert registry.get("reader0").journal.last_seq == 0  # back, as a fresh tenant


def test_a3_a_tenant_is_kept_through_at_least_one_whole_round(registry: TenantRegistry) -> None:
    """A tenant made just before a round (its first request still running, so nothing
    journaled yet) survives it, while older quiet ones go."""
    for n in range(FORGET_FROM):
        request(registry, f"early{n}")
    for n in range(FORGET_FROM - 1):  # the first of these starts the first round
        request(registry, f"late{n}")
    registry.get("just-made")
    request(registry, "trigger")  # the second round
    ids = {tenant.id for tenant in registry}
    assert "just-made" in ids
    assert not any(tenant_id.startswith("early") for tenant_id in ids)


def test_a_scaled_start_gives_the_server_and_every_tenant_that_scale(tmp_path: Path) -> None:
    scaled = TenantRegistry(TenantRules(), clock_mode="scaled", scale=10.0, workspace_root=tmp_path)
    try:
        assert scaled.clock.describe()["scale"] == 10.0
        assert scaled.get("acme").clock.describe()["scale"] == 10.0
    finally:
        scaled.close()


def test_closing_twice_or_after_the_temporary_folder_went_is_quiet() -> None:
    registry = TenantRegistry(TenantRules())  # its own temporary workspace root
    registry.get("acme").workspace.write(PurePosixPath("a.txt"), b"a", 0.0)
    root = registry.get("acme").workspace.root.parent
    shutil.rmtree(root)  # a temp cleaner got there first
    registry.close()
    registry.close()
    assert not root.exists()


def test_u2_keyless_credit_terms_reach_tenants_to_come(registry: TenantRegistry) -> None:
    registry.set_credits(enabled=False, balance=5.0)
    terms = registry.get("newcomer").credits.terms
    assert (terms.enabled, terms.balance) == (False, 5.0)


def test_c2_a_keyless_clock_change_reaches_every_tenants_mode_and_scale(
    registry: TenantRegistry,
) -> None:
    tenant = registry.get("acme")
    registry.set_clocks(mode="scaled", scale=10.0)
    assert (tenant.clock.describe()["mode"], tenant.clock.describe()["scale"]) == ("scaled", 10.0)
    assert registry.get("newcomer").clock.describe()["scale"] == 10.0


def test_c3_the_keyless_state_counts_every_journals_entries(registry: TenantRegistry) -> None:
    """What a long run's memory grows with until each journal is full, for leak hunting."""
    assert registry.journal_entries() == 0
    for tenant_id in ("a", "b", "b"):
        request(registry, tenant_id)
    registry.journal.record_lazy(0.0, "request", None, RequestRecord("GET", "/health", []))
    assert registry.journal_entries() == 4


def test_c3_a_dropped_tenant_is_gone_with_everything_it_held(registry: TenantRegistry) -> None:
    """The plugin's teardown: the tenant and its entries go; a drop of an unknown one is
    nothing."""
    request(registry, "a")
    registry.get("a").create_session(SessionSpec())
    registry.drop("a")
    registry.drop("never-seen")
    assert registry.find("a") is None
    assert registry.journal_entries() == 0
