"""``mock-pokee contract``: the contract suite, installed with the package, run against a
deployment (or, without ``--api``, against a mock in this process) with no checkout.

The suite is ``mock_pokee.contract_tests`` (``contract_tests/`` in the repository); pytest
runs it with the configuration it ships (``contract.ini``), so nothing of the caller's
own pytest configuration applies, and no cache folder is left behind.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from importlib.resources import files
from pathlib import Path


def suite_folder() -> Path:
    return Path(str(files("mock_pokee.contract_tests")))


def pytest_arguments(
    *,
    allow_destructive: bool,
    junitxml: Path | None,
    clause_report: Path | None,
    select: str | None,
    extra: Sequence[str],
) -> list[str]:
    suite = suite_folder()
    args = [str(suite), "-c", str(suite / "contract.ini"), "--rootdir", str(suite)]
    if allow_destructive:
        args.append("--allow-destructive")
    if junitxml is not None:
        args += ["--junitxml", str(junitxml)]
    if clause_report is not None:
        args += ["--clause-report", str(clause_report)]
    if select is not None:
        args += ["-k", select]
    return [*args, *extra]


def run(api: str | None, key: str | None, arguments: list[str]) -> int:
    """Run the suite; its exit status (0: every test passed or differs only where the
    contract left a choice open)."""
    if api is not None:
        os.environ["POKEE_API"] = api
    if key is not None:
        os.environ["POKEE_KEY"] = key
    # Hypothesis keeps its files in ./.hypothesis unless told otherwise: a check of a
    # deployment leaves nothing in the folder it was started from.
    with tempfile.TemporaryDirectory(prefix="mock-pokee-contract-") as scratch:
        os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", scratch)
        import pytest  # imported late (and after the line above): `--help` stays fast

        return int(pytest.main(arguments))
