"""The inspector (``/_mock/ui``) in a real headless browser: the system's Chromium driven
by Playwright, one browser for the module and a fresh context (so a fresh
sessionStorage) per test.

A turn started by a test streams into the page (M1, C4); a clock advanced from the page
expires a session (C1, S7); a fault rule added in the page counts its hits (C5); keyless
the page shows every tenant and a key narrows it to one (C2), a key never shown; 1,000
sessions and a 10,000-event turn keep the page windowed. Each view's screenshot is saved
under ``.artifacts/inspector/`` (git-ignored) for a reviewer to look at.

Every wait is Playwright's bounded wait for something to show in the page; the mock's
clock is virtual and moved by the tests or by the page.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mock_pokee.testing import MockServer, TenantHandle

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="Playwright for Python is not installed (make test installs it)"
)

CHROMIUM = Path(os.environ.get("MOCK_POKEE_CHROMIUM", "/usr/bin/chromium"))
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / ".artifacts" / "inspector"
WAIT_MS = 15_000  # the longest any one thing may take to show in the page

LONG_TURN = 10_000  # text deltas of the long-stream scenario


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(
            f"no Chromium at {CHROMIUM}: install it with 'apt-get install -y chromium' "
            "(.ci/run does), or point MOCK_POKEE_CHROMIUM at one"
        )
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MockServer]:
    folder = tmp_path_factory.mktemp("scenarios")
    (folder / "long-stream.yaml").write_text(
        "name: long-stream\n"
        "description: ten thousand text deltas, for the inspector's windowed lists\n"
        "steps:\n"
        f"  - text: {{content: {'x' * LONG_TURN}, chunk: 1}}\n"
    )
    with MockServer(max_sessions=1000, scenario_folders=(folder,)) as running:
        yield running


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(WAIT_MS)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    banner = opened.locator("#error")
    shown = "" if banner.is_hidden() else banner.inner_text()
    context.close()
    assert not errors, f"the page's script failed: {errors}"
    assert not shown, f"the page showed an error: {shown}"


def expect(locator: Any) -> Any:
    return sync_api.expect(locator)


def open_page(page: Any, server: MockServer, key: str | None) -> None:
    page.goto(f"{server.url}/_mock/ui" + (f"?key={key}" if key is not None else ""))
    expect(page.locator("#live")).to_have_attribute("data-state", "live", timeout=WAIT_MS)


def show(page: Any, view: str) -> None:
    page.click(f'#tabs button[data-view="{view}"]')


def screenshot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def create(tenant: TenantHandle, persistent: bool = True) -> str:
    answer = tenant.http.post("/v1/sessions", json={"persistent": persistent})
    assert answer.status_code == 201, answer.text
    session: str = answer.json()["id"]
    return session


def start_turn(tenant: TenantHandle, session: str, message: str, **headers: str) -> None:
    """Start a turn and hang up at once: the turn goes on (M5)."""
    with tenant.http.stream(
        "POST", f"/v1/sessions/{session}/messages", json={"message": message}, headers=headers
    ) as turn:
        assert turn.status_code == 200


def tenant_id(tenant: TenantHandle) -> str:
    assert tenant.key is not None
    return tenant.key.split("_")[1]


def test_m1_c4_a_turn_streams_into_the_page_as_it_happens(server: MockServer, page: Any) -> None:
    with server.tenant() as tenant:
        open_page(page, server, tenant.key)
        show(page, "turns")
        session = create(tenant)
        start_turn(tenant, session, "Write a report on tides")  # pauses on the clock
        page.locator(".turn-row").first.click()
        title = page.locator("#turn-title")
        expect(title).to_have_attribute("data-status", "in_progress")
        expect(page.locator(".event-row").first).to_contain_text("message.created")
        expect(page.locator(".event-row", has_text="tool_use.executing")).to_be_visible()
        so_far = int(title.get_attribute("data-events"))
        screenshot(page, "turn-running")

        tenant.clock.advance(3600)  # the report's tool and pauses end
        events = len(tenant.journal.entries(kind="event"))
        expect(title).to_have_attribute("data-status", "completed")
        expect(title).to_have_attribute("data-events", str(events))
        assert so_far < events
        expect(page.locator(".event-row", has_text="message.completed")).to_be_visible()
        screenshot(page, "turns")


def test_c1_s7_advancing_the_clock_from_the_page_expires_a_session(
    server: MockServer, page: Any
) -> None:
    with server.tenant() as tenant:
        idle = create(tenant, persistent=False)
        kept = create(tenant, persistent=True)
        open_page(page, server, tenant.key)
        row = page.locator(f'.session-row[data-session="{idle}"]')
        expect(row).to_have_attribute("data-status", "live")
        page.fill("#advance-by", "6m")
        page.click("#advance")
        expect(row).to_have_attribute("data-status", "expired")
        expect(row).to_contain_text("expired (idle)")
        expect(page.locator(f'.session-row[data-session="{kept}"]')).to_have_attribute(
            "data-status", "live"
        )
        assert tenant.http.get(f"/v1/sessions/{idle}").status_code == 404
        (alive,) = tenant.state()["sessions"]
        assert tenant.clock.now - alive["created_at"] == pytest.approx(360)  # "6m", parsed
        screenshot(page, "sessions")


def test_c5_a_fault_rule_added_in_the_page_shows_its_hits(server: MockServer, page: Any) -> None:
    with server.tenant() as tenant:
        open_page(page, server, tenant.key)
        show(page, "faults")
        rule = {
            "match": {"method": "GET", "path": "/v1/sessions"},
            "fault": {"type": "status", "status": 503},
            "schedule": {"times": 2},
        }
        page.fill("#fault-rule", json.dumps(rule))
        page.click("#fault-form button[type=submit]")
        row = page.locator(".fault-row")
        expect(row).to_have_count(1)
        expect(row.locator(".hits")).to_have_text("0")
        statuses = [tenant.http.get("/v1/sessions").status_code for _ in range(3)]
        assert statuses == [503, 503, 200]
        expect(row.locator(".hits")).to_have_text("2")
        expect(row.locator(".matched")).to_have_text("3")
        (added,) = tenant.faults.list()
        expect(row).to_have_attribute("data-rule", added["id"])
        screenshot(page, "faults")


def test_c2_keyless_every_tenant_a_key_narrows_to_one_and_is_never_shown(
    server: MockServer, page: Any
) -> None:
    with server.tenant() as acme, server.tenant() as umbrella:
        assert acme.key is not None
        assert umbrella.key is not None
        create(acme)
        session = create(umbrella)
        umbrella.http.put(f"/v1/sessions/{session}/files/notes/tides.md", content=b"# Tides\n")
        start_turn(umbrella, session, "Hello there")  # completes at once: usage counts it
        open_page(page, server, None)
        for tenant in (acme, umbrella):
            expect(page.locator(f'[data-tenant="{tenant_id(tenant)}"]')).to_be_visible()
        expect(page.locator("#scope")).to_have_text("all tenants")
        page.click(f'[data-tenant="{tenant_id(acme)}"]')
        show(page, "journal")
        page.check("#journal-everyone")
        expect(page.locator(".journal-row", has_text=tenant_id(umbrella)).first).to_be_visible()
        places = [int(n) for n in page.locator(".journal-row .place").all_inner_texts()]
        # Each entry once, in the order things happened: an event's place is the stream's
        # id, not its `seq` (its number within its turn).
        assert places == sorted(set(places))
        assert len(places) > 5
        screenshot(page, "tenants")

        page.fill("#key", umbrella.key)
        page.click("#key-form button[type=submit]")
        expect(page.locator("[data-tenant]")).to_have_count(1)
        expect(page.locator(f'[data-tenant="{tenant_id(umbrella)}"]')).to_be_visible()
        show(page, "files")
        expect(page.locator(".file-row", has_text="notes/tides.md")).to_be_visible()
        screenshot(page, "files")
        show(page, "usage")
        expect(page.locator("#usage")).to_contain_text("session_turn")
        expect(page.locator("#usage")).to_contain_text("credits")
        screenshot(page, "usage")
        show(page, "journal")
        expect(page.locator(".journal-row", has_text="PUT").first).to_be_visible()
        screenshot(page, "journal")
        assert umbrella.key not in page.content()

        open_page(page, server, acme.key)  # a key in the address is taken out of it
        expect(page.locator("[data-tenant]")).to_have_count(1)
        expect(page.locator(f'[data-tenant="{tenant_id(acme)}"]')).to_be_visible()
        assert "key=" not in page.url
        assert acme.key not in page.content()


def test_a2_a_malformed_key_typed_into_the_page_shows_the_mocks_answer(
    server: MockServer, page: Any
) -> None:
    open_page(page, server, None)
    page.fill("#key", "not one key")
    page.click("#key-form button[type=submit]")
    expect(page.locator("#live")).to_have_attribute("data-state", "error")
    expect(page.locator("#error")).to_contain_text("Authorization: malformed")
    page.click("#key-clear")  # back to every tenant: the error goes
    expect(page.locator("#live")).to_have_attribute("data-state", "live")
    expect(page.locator("#error")).to_be_hidden()


def test_1000_sessions_and_a_10000_event_turn_stay_windowed(
    server: MockServer, page: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """The page is open first, so all of it arrives live; only the rows in view exist."""
    with server.tenant() as tenant:
        open_page(page, server, tenant.key)
        began = time.perf_counter()
        sessions = [create(tenant) for _ in range(1000)]
        created = time.perf_counter()
        start_turn(tenant, sessions[0], "go", **{"X-Mock-Scenario": "long-stream"})
        tenant.clock.advance(0)  # a long text yields to other requests; this waits it out
        (turn,) = tenant.state()["turns"]
        assert turn["events"] == LONG_TURN + 4  # created, start, the deltas, stop, completed

        expect(page.locator("#axis-count")).to_contain_text("1000 live")
        assert page.locator(".session-row").count() < 80
        page.eval_on_selector("#session-list", "box => { box.scrollTop = box.scrollHeight; }")
        expect(page.locator(f'.session-row[data-session="{sessions[-1]}"]')).to_be_visible()
        screenshot(page, "sessions-1000")

        show(page, "turns")
        page.locator(".turn-row").first.click()
        expect(page.locator("#turn-title")).to_have_attribute("data-events", str(turn["events"]))
        shown = time.perf_counter()
        assert page.locator(".event-row").count() < 80
        page.eval_on_selector("#event-list", "box => { box.scrollTop = box.scrollHeight; }")
        last = page.locator(f'.event-row[data-seq="{turn["events"] - 1}"]')
        expect(last).to_contain_text("message.completed")
        repaint_ms = page.evaluate(
            """async () => {
                const box = document.querySelector('#event-list');
                const start = performance.now();
                box.scrollTop = box.scrollHeight / 2;
                await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
                return performance.now() - start;
            }"""
        )
        assert page.locator(".event-row").count() < 80
        screenshot(page, "turn-10000-events")
    with capsys.disabled():
        print(
            f"\ninspector: 1,000 sessions created in {created - began:.1f}s; the "
            f"{turn['events']:,}-event turn shown {shown - created:.1f}s after; "
            f"a scroll repainted in {repaint_ms:.0f} ms"
        )
    assert repaint_ms < 1000
