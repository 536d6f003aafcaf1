"""D: generated documents look like what was asked for, downloaded over real sockets.

The documents come from the mock's scenarios (a real agent writes its own), so these
tests are ``mock_only``.
"""

from __future__ import annotations

import io
import re

import httpx
import pytest
from pptx import Presentation

from .checks import create, freeze, run_to_end
from .sse import send


def run(api: httpx.Client, control: httpx.Client, message: str) -> str:
    """Run one turn to its end on the virtual clock; returns the session id."""
    freeze(control)
    sid = str(create(api, persistent=True)["id"])
    send(api, sid, message, stop_after=0)
    run_to_end(api, control, sid)
    return sid


def download(api: httpx.Client, sid: str, path: str) -> bytes:
    response = api.get(f"/v1/sessions/{sid}/files/{path}")
    assert response.status_code == 200, response.text
    return response.content


@pytest.mark.mock_only
@pytest.mark.parametrize(("asked", "slides"), [("a 10-slide", 10), ("a", 8), ("a 1-slide", 1)])
def test_d_a_deck_has_the_slides_asked_for(
    api: httpx.Client, control: httpx.Client, asked: str, slides: int
) -> None:
    """D: N slides (default 8, the title slide counted), a title slide carrying the topic
    without the instructions, and every other slide a heading and text about it."""
    message = f"Build {asked} deck on coral reef recovery and save it to output/"
    sid = run(api, control, message)
    deck = Presentation(io.BytesIO(download(api, sid, "output/coral-reef-recovery.pptx")))
    assert len(deck.slides) == slides
    assert deck.slides[0].shapes.title.text == "coral reef recovery"
    headings = set()
    for slide in list(deck.slides)[1:]:
        headings.add(slide.shapes.title.text)
        assert "coral reef recovery" in slide.placeholders[1].text_frame.text
    assert len(headings) == slides - 1


@pytest.mark.mock_only
def test_d_a_report_has_the_pages_asked_for_at_the_path_asked_for(
    api: httpx.Client, control: httpx.Client
) -> None:
    """D: "… on Q3 NVIDIA performance and write it to /opt/sandbox/workspace/report.md"
    → report.md titled with the topic alone, one ## section per page asked for."""
    message = (
        "Write a 3-page report on Q3 NVIDIA performance and write it to "
        "/opt/sandbox/workspace/report.md"
    )
    sid = run(api, control, message)
    text = download(api, sid, "report.md").decode()
    assert text.startswith("# Report: Q3 NVIDIA performance\n")
    sections = re.findall(r"^## (.+)$", text, re.MULTILINE)
    assert len(sections) == len(set(sections)) == 3
    for body in text.split("\n## ")[1:]:
        assert "Q3 NVIDIA performance" in body
