"""Differential mode (contract_tests/diff.py): two equal targets answer alike once ids,
times and texts are normalised; a target that drifts is reported at the step where it
answered differently, with both answers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from contract_tests.diff import Normaliser, client, compare, main, plan
from mock_pokee.server import ThreadedServer
from mock_pokee.settings import Settings


@pytest.fixture(scope="module")
def twins() -> Iterator[tuple[str, str, str]]:
    """Two mocks as they ship, and one whose upload limit is 10 bytes (F3 says 100 MiB)."""
    settings = Settings(port=0, clock_mode="virtual")
    with (
        ThreadedServer(settings) as a,
        ThreadedServer(settings) as b,
        ThreadedServer(Settings(port=0, clock_mode="virtual", upload_limit=10)) as small,
    ):
        yield a.url, b.url, small.url


def test_the_plan_depends_on_the_seed_alone() -> None:
    assert plan(7, 30) == plan(7, 30)
    assert plan(7, 30) != plan(8, 30)
    kinds = {op.kind for seed in range(5) for op in plan(seed, 40)}
    assert {"create", "send", "resume", "upload", "download", "delete"} <= kinds


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_two_equal_targets_have_no_differences(twins: tuple[str, str, str], seed: int) -> None:
    url_a, url_b, _ = twins
    with client(url_a, "pk_diffa_x") as a, client(url_b, "pk_diffb_x") as b:
        assert compare(a, b, seed, 40) == []


def test_a_drifted_target_is_reported_where_it_answers_differently(
    twins: tuple[str, str, str],
) -> None:
    url_a, _, small = twins
    with client(url_a, "pk_diffc_x") as a, client(small, "pk_diffc_x") as b:
        report = compare(a, b, 1, 40)
    first = next(i for i, line in enumerate(report) if line.startswith("step "))
    assert "upload" in report[first]
    assert "  status: 201 | 413" in report[first : first + 8]
    assert '  body.error: "<absent>" | "payload_too_large"' in report


def test_the_command_exits_1_and_prints_the_differences(
    twins: tuple[str, str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    url_a, url_b, small = twins
    assert main([url_a, url_b, "--key-a", "pk_diffd_x", "--steps", "20"]) == 0
    assert "no differences in 20 steps (seed 1)" in capsys.readouterr().out
    assert main([url_a, small, "--key-a", "pk_diffe_x"]) == 1
    assert "status: 201 | 413" in capsys.readouterr().out


def test_ids_are_numbered_per_target_in_order_of_appearance() -> None:
    normalise = Normaliser("ct-1/")
    body = {
        "id": "sess_0123456789ab",
        "other": ["sess_ffffffffffff", "sess_0123456789ab"],
        "path": "ct-1/a.txt",
        "created_at": 1.5,
        "message": "anything",
    }
    assert normalise(body) == {
        "created_at": "<time>",
        "id": "<sess 1>",
        "message": "<text>",
        "other": ["<sess 2>", "<sess 1>"],
        "path": "<folder>/a.txt",
    }
