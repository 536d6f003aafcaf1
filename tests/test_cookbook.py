"""The cookbook runs unmodified against `mock-pokee serve --clock scaled --scale 100`
and saves a deck that python-pptx opens, titled with the topic."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from pptx import Presentation

from tests.processes import start_serve

COOKBOOK = Path(__file__).parent / "cookbook" / "long_running_presentation.py"


def test_the_cookbook_runs_unmodified_and_saves_a_real_deck(tmp_path: Path) -> None:
    server, url = start_serve("--clock", "scaled", "--scale", "100")
    try:
        run = subprocess.run(
            [sys.executable, str(COOKBOOK)],
            cwd=tmp_path,
            env={**os.environ, "POKEE_API": url, "POKEE_KEY": "pk_cookbook_key"},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        server.terminate()
        server.communicate(timeout=10)
    assert run.returncode == 0, run.stderr
    deck = Presentation(str(tmp_path / "q3-nvidia-performance.pptx"))
    assert deck.slides[0].shapes.title.text == "Q3 NVIDIA performance"
    # The stream ended with the turn, so its first poll found it idle and never slept its
    # 15 real seconds (it prints a status line before each sleep).
    assert "status:" not in run.stdout
