"""The inspector (``/_mock/ui``) in a real headless browser: the system's Chromium driven
by Playwright, one browser for the module and a fresh context (so a fresh
sessionStorage) per test.

A turn started by a test streams into the page (M1, C4); a clock advanced from the page
expires a session (C1, S7); a fault rule added in the page counts its hits (C5); keyless
the page shows every tenant and a key narrows it to one (C2), a key never shown; 1,000
sessions and a 10,000-event turn keep the page windowed; a stateless response (R) shows
beside the turns. Each view opens from its URL fragment (``#/sessions``, ``#/turns/<id>``
…) and back and forward follow the views; a session's metadata shows a deck turn's
progress; an event opens to its contents; the journal filters by method, path, session and
status; a young session fills its timeline.
Each view's screenshot is saved under ``.artifacts/inspector/`` (git-ignored) for a
reviewer to look at.

Every wait is Playwright's bounded wait for something to show in the page; the mock's
clock is virtual and moved by the tests or by the page.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

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
    # The virtual clock: these tests move time themselves (a turn whose client hangs up
    # must stay where it is until they do).
    settings: dict[str, Any] = {
        "clock_mode": "virtual",
        "max_sessions": 1000,
        "scenario_folders": (folder,),
    }
    with MockServer(**settings) as running:
        yield running


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(WAIT_MS)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    asked: list[str] = []
    opened.on("request", lambda request: asked.append(request.url))
    yield opened
    banner = opened.locator("#error")
    shown = "" if banner.is_hidden() else banner.inner_text()
    context.close()
    assert not errors, f"the page's script failed: {errors}"
    assert not shown, f"the page showed an error: {shown}"
    # The page talks to the control plane only, and only to the mock.
    places = {urlsplit(url)[:2] for url in asked if url != "about:blank"}
    assert len(places) == 1, f"the page asked more than one server: {places}"
    assert not [url for url in asked if urlsplit(url).path.startswith("/v1")]


def expect(locator: Any) -> Any:
    return sync_api.expect(locator)


def open_page(page: Any, server: MockServer, key: str | None, fragment: str = "") -> None:
    """Load the page afresh (a new document, not a jump within the old one)."""
    if page.url != "about:blank":
        page.goto("about:blank")
    page.goto(f"{server.url}/_mock/ui" + (f"?key={key}" if key is not None else "") + fragment)
    expect(page.locator("#live")).to_have_attribute("data-state", "live", timeout=WAIT_MS)


def show(page: Any, view: str) -> None:
    page.click(f'#tabs [data-view="{view}"]')


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


def test_r5_c4_a_stateless_response_shows_beside_the_turns(server: MockServer, page: Any) -> None:
    """R: a `POST /v1/responses` call is listed with the session turns, marked as a
    response; its events stream in as a turn's do, and its title says it has no session."""
    with server.tenant() as tenant:
        session = create(tenant)
        start_turn(tenant, session, "Hello there")
        open_page(page, server, tenant.key)
        show(page, "turns")
        call = {"input": "What is a spring tide?", "reasoning": {"effort": "low"}, "stream": True}
        with tenant.http.stream("POST", "/v1/responses", json=call) as answer:
            assert answer.status_code == 200
            rid = answer.headers["x-response-id"]
            answer.read()
        row = page.locator(f'.turn-row[data-turn="{rid}"]')
        expect(row).to_have_attribute("data-kind", "response")
        expect(page.locator('.turn-row[data-kind="turn"]')).to_have_count(1)
        row.click()
        title = page.locator("#turn-title")
        expect(title).to_have_attribute("data-kind", "response")
        expect(title).to_have_attribute("data-status", "completed")
        expect(title).to_contain_text("stateless response")
        expect(title.locator(".session-link")).to_have_count(0)
        sent = [e for e in tenant.journal.entries(kind="event") if e["response_id"] == rid]
        expect(title).to_have_attribute("data-events", str(len(sent)))
        expect(page.locator('.event-row[data-seq="0"]')).to_contain_text("response.created")
        page.locator("#event-list").evaluate("list => list.scrollTop = list.scrollHeight")
        expect(page.locator(".event-row", has_text="response.completed")).to_be_visible()
        screenshot(page, "response")

        open_page(page, server, tenant.key, f"#/turns/{rid}")  # its own address
        expect(page.locator("#turn-title")).to_have_attribute("data-kind", "response")


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


VIEWS = ("sessions", "turns", "files", "faults", "usage", "journal", "clock")


def shown_view(page: Any, view: str) -> None:
    """``view`` is the one shown, its tab the one marked, and the address names it."""
    expect(page.locator(f"#view-{view}")).to_be_visible()
    for other in VIEWS:
        if other != view:
            expect(page.locator(f"#view-{other}")).to_be_hidden()
    expect(page.locator(f'#tabs [data-view="{view}"]')).to_have_attribute("aria-current", "page")
    assert page.url.split("#", 1)[1].split("?")[0].startswith(f"/{view}")


RATIO = (
    "part => part.getBoundingClientRect().width"
    " / part.closest('.bar').getBoundingClientRect().width"
)


def ratio_above(page: Any, selector: str, least: float) -> float:
    """How much of its row's timeline the element ``selector`` names covers, once that is
    more than ``least`` (or after the longest wait)."""
    test = (
        "([s, least]) => { const p = document.querySelector(s);"
        f" return p && ({RATIO})(p) > least; }}"
    )
    with contextlib.suppress(sync_api.TimeoutError):
        page.wait_for_function(test, arg=[selector, least])
    found: float = page.eval_on_selector(selector, RATIO)
    return found


def test_each_view_opens_by_its_url_fragment(server: MockServer, page: Any) -> None:
    with server.tenant() as tenant:
        assert tenant.key is not None
        session = create(tenant)
        tenant.http.put(f"/v1/sessions/{session}/files/notes/tides.md", content=b"# Tides\n")
        start_turn(tenant, session, "Hello there")
        (turn,) = tenant.state()["turns"]
        tenant.faults.add({"type": "status", "status": 503}, match={"path": "/v1/nowhere"})
        tenant.clock.advance(30)  # a move the clock view lists
        marks = {
            "sessions": f'.session-row[data-session="{session}"]',
            "turns": f'.turn-row[data-turn="{turn["id"]}"]',
            "files": '.file-row:has-text("notes/tides.md")',
            "faults": ".fault-row",
            "usage": '#usage:has-text("credits")',
            "journal": '.journal-row:has-text("PUT")',
            "clock": '.clock-move:has-text("+30s")',
        }
        for view in VIEWS:
            open_page(page, server, tenant.key, f"#/{view}")
            shown_view(page, view)
            expect(page.locator(marks[view]).first).to_be_visible()
            assert "key=" not in page.url
            screenshot(page, f"view-{view}")
        expect(page.locator(f'.clock-row[data-clock="{tenant_id(tenant)}"]')).to_be_visible()

        open_page(page, server, None, f"#/sessions/{session}")  # the key kept in the tab
        shown_view(page, "sessions")
        expect(page.locator("#session-detail-title")).to_have_text(session)
        expect(page.locator(f'.session-row[data-session="{session}"]')).to_have_class(
            "session-row clickable selected row"
        )
        open_page(page, server, None, f"#/turns/{turn['id']}")
        shown_view(page, "turns")
        expect(page.locator("#turn-title")).to_have_attribute("data-status", "completed")
        expect(page.locator("#turn-title")).to_contain_text(turn["id"])
        assert tenant.key not in page.content()
        assert tenant.key not in page.url
        open_page(page, server, None, "#/nowhere")  # an unknown view: the sessions
        expect(page.locator("#view-sessions")).to_be_visible()


def test_back_and_forward_follow_the_views(server: MockServer, page: Any) -> None:
    with server.tenant() as tenant:
        session = create(tenant)
        start_turn(tenant, session, "Hello there")
        open_page(page, server, tenant.key, "#/sessions")
        show(page, "turns")
        shown_view(page, "turns")
        page.locator(".turn-row").first.click()
        expect(page.locator("#turn-title")).to_have_attribute("data-status", "completed")
        (turn,) = tenant.state()["turns"]
        assert page.url.endswith(f"#/turns/{turn['id']}")
        page.click("#turn-title .session-link")  # a turn links to its session
        shown_view(page, "sessions")
        expect(page.locator("#session-detail-title")).to_have_text(session)
        show(page, "journal")
        shown_view(page, "journal")

        page.go_back()
        shown_view(page, "sessions")
        expect(page.locator("#session-detail")).to_be_visible()
        page.go_back()
        expect(page.locator("#turn-title")).to_contain_text(turn["id"])
        page.go_back()
        shown_view(page, "turns")
        expect(page.locator("#turn-title")).to_have_text("Pick a turn.")
        page.go_back()
        shown_view(page, "sessions")
        expect(page.locator("#session-detail")).to_be_hidden()
        page.go_forward()
        shown_view(page, "turns")
        page.go_forward()
        expect(page.locator("#turn-title")).to_contain_text(turn["id"])
        assert "key=" not in page.url


def test_m6_a_sessions_metadata_follows_a_deck_turn(server: MockServer, page: Any) -> None:
    with server.tenant() as tenant:
        tenant.clock.set(mode="virtual")  # no jump while the turn's stream is read
        session = create(tenant)
        open_page(page, server, tenant.key, f"#/sessions/{session}")
        expect(page.locator("#session-detail-body")).to_contain_text("No metadata.")
        start_turn(tenant, session, "Build a deck on tides")  # waits on its 60 s search
        status = page.locator('#session-metadata [data-meta="temasek_status"]')
        expect(status).to_have_text("researching")
        expect(page.locator("#session-detail [data-field=busy]")).to_have_text("true")
        screenshot(page, "session-metadata")
        tenant.clock.advance(60)
        expect(status).to_have_text("outlining")
        tenant.clock.advance(3600)
        expect(status).to_have_text("completed")
        expect(page.locator('#session-metadata [data-meta="output"]')).to_have_text(
            "output/tides.pptx"
        )
        expect(page.locator("#session-detail .turn-links li")).to_have_count(1)
        expect(page.locator("#session-detail .turn-links li")).to_contain_text("completed")
        assert tenant.state()["sessions"][0]["metadata"]["temasek_status"] == "completed"


def test_an_events_contents_open_in_the_turn(server: MockServer, page: Any) -> None:
    with server.tenant() as tenant:
        session = create(tenant)
        start_turn(tenant, session, "Hello there")
        (turn,) = tenant.state()["turns"]
        open_page(page, server, tenant.key, f"#/turns/{turn['id']}")
        first = page.locator('.event-row[data-seq="0"]')
        expect(first).to_contain_text("message.created")
        expect(first.locator(".more")).to_have_count(0)
        first.locator(".line").click()
        contents = first.locator(".more")
        expect(contents).to_be_visible()
        shown = json.loads(contents.inner_text())  # the event's data (its journal entry has it)
        assert shown == {
            "id": turn["id"],
            "session_id": session,
            "status": "in_progress",
            "sequence_number": 0,
        }
        # The next row moves down to make room: rows do not overlap.
        second = page.locator('.event-row[data-seq="1"]')
        expect(second).to_be_visible()  # the turn's next event may still be on its way
        below = second.bounding_box()
        opened = first.bounding_box()
        assert below["y"] >= opened["y"] + opened["height"] - 1
        screenshot(page, "event-opened")
        first.locator(".line").click()
        expect(first.locator(".more")).to_have_count(0)


def test_c4_the_journal_filters_by_method_path_session_and_status(
    server: MockServer, page: Any
) -> None:
    with server.tenant() as tenant:
        one = create(tenant)
        other = create(tenant)
        assert tenant.http.get("/v1/sessions").status_code == 200
        assert tenant.http.get("/v1/sessions/sess_nope").status_code == 404
        assert tenant.http.get(f"/v1/sessions/{one}").status_code == 200
        tenant.http.put(f"/v1/sessions/{other}/files/notes/a.md", content=b"a\n")
        open_page(page, server, tenant.key, "#/journal")
        rows = page.locator(".journal-row")
        expect(rows.filter(has_text="PUT")).to_have_count(1)

        page.fill("#journal-method", "get")
        expect(rows).to_have_count(3)
        assert all("GET /v1/sessions" in text for text in rows.all_inner_texts())
        page.fill("#journal-path", "/v1/sessions/*")  # a glob, as the mock reads it
        expect(rows).to_have_count(2)
        page.fill("#journal-status", "4xx")  # filtered in the page
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text("GET /v1/sessions/sess_nope → 404")
        expect(rows.first).to_have_attribute("data-status", "404")
        fragment = page.url.split("#", 1)[1]
        assert fragment.startswith("/journal?")
        assert "method=get" in fragment
        assert "status=4xx" in fragment
        screenshot(page, "journal-filtered")

        open_page(page, server, None, "#" + fragment)  # the same filters, from the address
        expect(page.locator("#journal-status")).to_have_value("4xx")
        expect(page.locator("#journal-path")).to_have_value("/v1/sessions/*")
        expect(rows).to_have_count(1)

        open_page(page, server, None, f"#/journal?session={other}")
        expect(page.locator("#journal-session")).to_have_value(other)
        expect(rows.filter(has_text="PUT")).to_have_count(1)
        expect(rows.filter(has_text=one)).to_have_count(0)
        for text in rows.all_inner_texts():
            assert other in text
        page.fill("#journal-status", "201")  # its creation and the upload
        expect(rows).to_have_count(2)
        expect(rows.filter(has_text="POST /v1/sessions → 201")).to_have_count(1)
        page.fill("#journal-status", "200,5xx")
        expect(rows).to_have_count(0)

        page.fill("#journal-session", "")
        page.fill("#journal-status", "")
        page.fill("#journal-path", "v1")  # the mock's own message says what is wrong
        expect(page.locator("#journal-note")).to_contain_text("path: a request path starts")
        page.fill("#journal-path", "")
        expect(rows.filter(has_text="PUT")).to_have_count(1)
        more = tenant.http.get("/v1/sessions")  # a live list: the new entry comes in
        assert more.status_code == 200
        page.fill("#journal-method", "GET")
        expect(rows).to_have_count(4)
        tenant.http.get("/v1/sessions")
        expect(rows).to_have_count(5)


def test_s7_a_young_sessions_timeline_is_readable(server: MockServer, page: Any) -> None:
    with server.tenant() as tenant:
        session = create(tenant, persistent=True)  # its ttl bound: 4 hours away
        tenant.clock.advance(60)
        open_page(page, server, tenant.key)
        row = page.locator(f'.session-row[data-session="{session}"]')
        expect(row).to_be_visible()
        lived = ratio_above(page, f'.session-row[data-session="{session}"] .bar .life', 0.25)
        assert lived > 0.25, f"a one-minute-old session fills {lived:.1%} of its timeline"
        expect(row.locator(".until")).to_contain_text("ttl +3h59m")
        expect(page.locator("#axis-start")).to_contain_text("-1m")
        screenshot(page, "sessions-young")


def test_c2_keyless_an_address_finds_its_tenant_and_a_key_in_it_is_taken_out(
    server: MockServer, page: Any
) -> None:
    with server.tenant() as acme, server.tenant() as umbrella:
        assert umbrella.key is not None
        create(acme)
        session = create(umbrella)
        umbrella.http.put(f"/v1/sessions/{session}/files/notes/tides.md", content=b"# Tides\n")
        open_page(page, server, None, f"#/sessions/{session}")
        expect(page.locator("#scope")).to_have_text("all tenants")
        expect(page.locator("#session-detail-title")).to_have_text(session)
        expect(page.locator("#tenant-title")).to_have_text(f"tenant {tenant_id(umbrella)}")
        expect(
            page.locator(f'.tenant.selected[data-tenant="{tenant_id(umbrella)}"]')
        ).to_be_visible()

        open_page(page, server, None, f"#/files?tenant={tenant_id(umbrella)}")
        expect(page.locator(".file-row", has_text="notes/tides.md")).to_be_visible()
        page.click(f'[data-tenant="{tenant_id(acme)}"]')  # another tenant: a new address
        assert page.url.endswith(f"#/files?tenant={tenant_id(acme)}")
        expect(page.locator(".file-row")).to_have_count(0)
        page.go_back()
        expect(page.locator(".file-row", has_text="notes/tides.md")).to_be_visible()

        open_page(page, server, None, f"#/files?key={umbrella.key}")
        expect(page.locator("#scope")).to_have_text("one tenant (narrowed by its key)")
        expect(page.locator("[data-tenant]")).to_have_count(1)
        expect(page.locator(".file-row", has_text="notes/tides.md")).to_be_visible()
        assert page.url.endswith("#/files")
        assert umbrella.key not in page.content()
