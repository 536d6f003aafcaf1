"""Differential mode: ``pytest contract_tests --diff-against URL`` runs one seeded
sequence of operations (`contract_tests.diff`) against this run's target and URL, and
fails listing every answer that differs. Without the option there is nothing to compare
with, and the test says so."""

from __future__ import annotations

import os

import httpx
import pytest

from .diff import compare
from .target import Target, client_for, tls

DIFF_KEY_ENV = "POKEE_DIFF_KEY"  # URL's key; this run's key if unset


def test_a_seeded_sequence_answers_alike_on_both_targets(
    target: Target, key: str, request: pytest.FixtureRequest
) -> None:
    """The second target gets the same requests; statuses, fields and event order must
    match once ids, times and texts are normalised."""
    url = request.config.getoption("--diff-against")
    if not url:
        pytest.skip("differential mode: give --diff-against URL")
    seed = request.config.getoption("--diff-seed")
    other_key = os.environ.get(DIFF_KEY_ENV) or key
    headers = {"Authorization": f"Bearer {other_key}"}
    with (
        client_for(target, key) as here,
        httpx.Client(base_url=url, headers=headers, timeout=30, verify=tls()) as there,
    ):
        report = compare(here, there, seed, steps=40)
    assert not report, f"{target.url} | {url} (seed {seed}):\n" + "\n".join(report)
