"""`make bench` on a fresh machine without wrk: one line saying how to get it, a non-zero
exit, no traceback. The check runs before any benchmark, so this is instant."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_bench_without_wrk_says_how_to_install_it(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--peers"],
        cwd=ROOT,
        env={**os.environ, "PATH": str(tmp_path)},  # an empty folder: no wrk on PATH
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode != 0
    assert done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        "make bench needs wrk, which is not installed here: apt-get install wrk"
    ]
