"""The inspector's page over HTTP: one page, a stylesheet and a few ES modules served from
the package, with a policy that lets only its own scripts run and only this server be
called; strict about what it is asked for (A5); announced by ``mock-pokee serve`` beside
the API (C7: only while the control plane is on). Its behaviour in a browser:
``test_inspector_browser``."""

from __future__ import annotations

import re
from collections.abc import Iterator
from importlib import resources

import httpx
import pytest

from mock_pokee.api import inspector
from mock_pokee.cli import _announce
from mock_pokee.settings import Settings
from mock_pokee.testing import MockServer

IMPORT = re.compile(r"""^\s*(?:import|export)\b[^'"]*?\bfrom\s+["']([^"']+)["']""", re.MULTILINE)
BARE_IMPORT = re.compile(r"""^\s*import\s+["']([^"']+)["']""", re.MULTILINE)


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer() as running:
        yield running


def test_the_page_and_its_assets_are_served_from_the_package(server: MockServer) -> None:
    page = httpx.get(f"{server.url}/_mock/ui", params={"key": "pk_acme_k"})
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assets = re.findall(r'(?:src|href)="(/_mock/ui/[^"]+)"', page.text)
    assert sorted(assets) == ["/_mock/ui/inspector.css", "/_mock/ui/inspector.js"]
    assert '<script type="module" src="/_mock/ui/inspector.js"></script>' in page.text
    types = {}
    for asset in assets:
        answer = httpx.get(server.url + asset)
        assert answer.status_code == 200
        assert answer.headers["x-content-type-options"] == "nosniff"
        types[asset.rsplit(".", 1)[1]] = answer.headers["content-type"]
    assert types == {"css": "text/css; charset=utf-8", "js": "text/javascript; charset=utf-8"}
    assert not re.search(r"https?://", page.text), "every asset comes from the mock itself"


def test_every_module_the_page_imports_is_served_and_nothing_else_is_shipped(
    server: MockServer,
) -> None:
    """The entry module imports the others by relative URL: each is served as JavaScript
    (a module script of another type does not run), none comes from elsewhere, and every
    file of the package's inspector folder is one the server serves."""
    seen: set[str] = set()
    waiting = ["inspector.js"]
    while waiting:
        name = waiting.pop()
        if name in seen:
            continue
        seen.add(name)
        answer = httpx.get(f"{server.url}/_mock/ui/{name}")
        assert answer.status_code == 200, name
        assert answer.headers["content-type"] == "text/javascript; charset=utf-8"
        assert answer.headers["content-security-policy"].startswith("default-src 'none'")
        for target in IMPORT.findall(answer.text) + BARE_IMPORT.findall(answer.text):
            assert re.fullmatch(r"\./[a-z]+\.js", target), f"{name} imports {target!r}"
            waiting.append(target[2:])
        assert not re.search(r"https?://", answer.text), f"{name} names another site"
    assert seen == set(inspector.MODULES)
    shipped = {f.name for f in resources.files("mock_pokee").joinpath("inspector").iterdir()}
    assert shipped == {inspector.PAGE, *inspector.ASSETS}


def test_the_page_runs_only_its_own_script_and_talks_only_to_the_mock(server: MockServer) -> None:
    headers = httpx.get(f"{server.url}/_mock/ui").headers
    policy = dict(
        part.strip().split(" ", 1) for part in headers["content-security-policy"].split(";")
    )
    assert policy["default-src"] == "'none'"
    assert policy["script-src"] == "'self'"
    assert policy["connect-src"] == "'self'"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"


def test_head_answers_like_get_without_a_body(server: MockServer) -> None:
    head = httpx.head(f"{server.url}/_mock/ui/inspector.js")
    assert head.status_code == 200
    assert head.content == b""
    assert int(head.headers["content-length"]) > 1000


@pytest.mark.parametrize(
    ("path", "status", "named"),
    [
        ("/_mock/ui/secrets.txt", 404, "inspector asset 'secrets.txt'"),
        ("/_mock/ui/..%2Fopenapi.yaml", 404, "GET /_mock/ui/../openapi.yaml: no such"),
        ("/_mock/ui?tenant=acme", 400, "tenant"),
        ("/_mock/ui/", 404, ""),  # a strict fake never redirects
    ],
)
def test_a5_what_the_inspector_does_not_serve(
    server: MockServer, path: str, status: int, named: str
) -> None:
    answer = httpx.get(server.url + path)
    assert answer.status_code == status
    assert answer.json()["message"].startswith(named)


def test_the_page_is_not_journaled_and_counts_no_fault(server: MockServer) -> None:
    with server.whole() as whole:
        whole.faults.add({"type": "status", "status": 503}, match={"path": "/_mock/**"})
        try:
            assert httpx.get(f"{server.url}/_mock/ui").status_code == 200
            assert [r["hits"] for r in whole.faults.list()] == [0]
            assert not whole.journal.requests(path="/_mock/**")
        finally:
            whole.faults.clear()


@pytest.mark.parametrize("control", [True, False])
def test_c7_serve_announces_the_inspector_beside_the_api(
    control: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    _announce("http://127.0.0.1:8000", Settings(control=control))
    printed = capsys.readouterr().out
    shown = "  inspector: http://127.0.0.1:8000/_mock/ui" in printed
    assert shown is control
    assert "export POKEE_API=http://127.0.0.1:8000" in printed


def test_a5_an_unknown_assets_long_name_is_quoted_cut_short(server: MockServer) -> None:
    message = httpx.get(f"{server.url}/_mock/ui/{'a' * 300}").json()["message"]
    assert message.startswith(f"inspector asset {'a' * 100!r}: not found; known: ")
