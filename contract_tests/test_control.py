"""Section C: the mock-only control plane — clock (C1), namespaces (C2), reset and state
(C3), and its separation from /v1 (C7). Every test here is mock-only and inferred."""

from __future__ import annotations

import time
from collections.abc import Iterator
from email.utils import parsedate_to_datetime

import httpx
import pytest

from .checks import advance, assert_error, create, exists, freeze
from .target import Target, client_for, new_key

pytestmark = [pytest.mark.mock_only, pytest.mark.inferred]

Y2030 = 1_893_456_000.0  # 2030-01-01T00:00:00Z


@pytest.fixture
def server_wide(target: Target) -> Iterator[httpx.Client]:
    """A control client without a key (acts on the whole server); puts the clock back
    (after a reset: a clock with timers pending cannot move back, C1)."""
    with client_for(target, None) as client:
        yield client
        assert client.post("/_mock/reset").status_code == 200
        now = time.time()
        assert client.put("/_mock/clock", json={"mode": "real", "scale": 1, "now": now}).is_success


def test_c1_clock_shape(control: httpx.Client) -> None:
    """C1: GET /_mock/clock → {"mode", "scale", "now"}, now in epoch seconds."""
    body = control.get("/_mock/clock").json()
    assert set(body) == {"mode", "scale", "now"}
    assert body["mode"] == "real"
    assert abs(body["now"] - time.time()) < 60


def test_c1_virtual_time_moves_only_when_told(control: httpx.Client) -> None:
    """C1: under the virtual clock, now stands still until advanced; advance answers
    {"now", "advanced"}."""
    now = freeze(control, Y2030)
    assert control.get("/_mock/clock").json() == {"mode": "virtual", "scale": 1.0, "now": Y2030}
    assert control.get("/_mock/clock").json()["now"] == now
    response = control.post("/_mock/clock/advance", json={"seconds": 90.5})
    assert response.json() == {"now": Y2030 + 90.5, "advanced": 90.5}
    assert control.get("/_mock/clock").json()["now"] == Y2030 + 90.5


def test_c1_timestamps_and_date_header_follow_the_clock(
    api: httpx.Client, control: httpx.Client
) -> None:
    """C1: created_at, last_activity and the Date header are clock time, not host time."""
    freeze(control, Y2030)
    response = api.post("/v1/sessions")
    assert response.json()["created_at"] == Y2030
    assert parsedate_to_datetime(response.headers["date"]).timestamp() == Y2030
    advance(control, 3600)
    later = api.get("/v1/sessions").headers["date"]
    assert parsedate_to_datetime(later).timestamp() == Y2030 + 3600


def test_c1_scaled_time_runs_n_times_faster(control: httpx.Client) -> None:
    """C1: scaled mode moves `scale` clock seconds per real second. Real time is the point
    of this mode, so the test lets 50 ms of it pass: at least 50 clock seconds must."""
    control.put("/_mock/clock", json={"mode": "scaled", "scale": 1000})
    start_real, start = time.monotonic(), control.get("/_mock/clock").json()["now"]
    time.sleep(0.05)
    end, end_real = control.get("/_mock/clock").json()["now"], time.monotonic()
    assert end - start >= 50
    assert end - start <= (end_real - start_real) * 1000 + 0.01
    assert control.get("/_mock/clock").json()["mode"] == "scaled"


def test_c1_advance_runs_what_falls_due_before_answering(
    api: httpx.Client, control: httpx.Client
) -> None:
    """C1: sessions whose deadline falls inside the advance are gone when it answers,
    the rest are not; in time order (one advance over several deadlines)."""
    freeze(control)
    short = create(api, ttl=100)["id"]
    medium = create(api, ttl=200)["id"]
    persistent = create(api, persistent=True, ttl=1000)["id"]
    advance(control, 250)
    assert not exists(api, short)
    assert not exists(api, medium)
    assert exists(api, persistent)
    state = control.get("/_mock/state").json()
    assert [s["id"] for s in state["sessions"]] == [persistent]


@pytest.mark.parametrize(
    ("method", "path", "body", "mention"),
    [
        ("PUT", "/_mock/clock", {"mode": "fast"}, "mode"),
        ("PUT", "/_mock/clock", {"scale": 0}, "scale"),
        ("PUT", "/_mock/clock", {"scale": True}, "scale"),
        ("PUT", "/_mock/clock", {"now": "tomorrow"}, "now"),
        ("PUT", "/_mock/clock", {"mood": "virtual"}, "mood"),
        ("POST", "/_mock/clock/advance", {"seconds": -1}, "seconds"),
        ("POST", "/_mock/clock/advance", {}, "seconds"),
        ("POST", "/_mock/clock/advance", {"secs": 5}, "secs"),
    ],
)
def test_c1_bad_clock_requests_are_400(
    control: httpx.Client, method: str, path: str, body: dict[str, object], mention: str
) -> None:
    """C1 with A5: bad clock settings are refused, naming the field; the clock is unchanged."""
    before = control.get("/_mock/clock").json()["mode"]
    assert_error(control.request(method, path, json=body), 400, "invalid_request", mention)
    assert control.get("/_mock/clock").json()["mode"] == before


def test_c1_the_clock_never_runs_back_under_pending_timers(
    api: httpx.Client, control: httpx.Client
) -> None:
    """C1: moving now backwards while sessions are scheduled is refused; after a reset it
    is allowed (reproducible timestamps)."""
    now = freeze(control)
    create(api)
    assert_error(control.put("/_mock/clock", json={"now": now - 10}), 400, "invalid_request")
    control.post("/_mock/reset")
    assert control.put("/_mock/clock", json={"now": now - 10}).json()["now"] == now - 10


def test_c2_each_tenant_has_its_own_clock(target: Target, control: httpx.Client) -> None:
    """C2: one tenant's mode, now and Date header never move another's."""
    with client_for(target, new_key()) as other:
        before = other.get("/_mock/clock").json()
        freeze(control, Y2030)
        advance(control, 7200)
        after = other.get("/_mock/clock").json()
        assert after["mode"] == before["mode"] == "real"
        assert abs(after["now"] - time.time()) < 60
        date = parsedate_to_datetime(other.get("/v1/sessions").headers["date"]).timestamp()
        assert abs(date - time.time()) < 60


def test_c2_reset_and_state_stay_inside_the_tenant(
    target: Target, api: httpx.Client, control: httpx.Client
) -> None:
    """C2/C3: a keyed reset empties only the caller's tenant; a keyed state shows only it."""
    mine = create(api)["id"]
    with client_for(target, new_key()) as other:
        theirs = create(other)["id"]
        state = control.get("/_mock/state").json()
        assert [s["id"] for s in state["sessions"]] == [mine]
        assert control.post("/_mock/reset").status_code == 200
        assert not exists(api, mine)
        assert exists(other, theirs)


def test_c2_without_a_key_the_clock_is_server_wide(
    target: Target, api: httpx.Client, server_wide: httpx.Client
) -> None:
    """C2: a keyless clock change sets every tenant's clock, and new tenants' too."""
    # Earlier tests' tenants may be past 2030 with timers pending, and would refuse (C1).
    assert server_wide.post("/_mock/reset").status_code == 200
    create(api)  # a tenant that exists, with a timer pending
    assert (
        server_wide.put("/_mock/clock", json={"mode": "virtual", "now": Y2030}).status_code == 200
    )
    assert api.get("/_mock/clock").json() == {"mode": "virtual", "scale": 1.0, "now": Y2030}
    response = server_wide.post("/_mock/clock/advance", json={"seconds": 60})
    assert response.json() == {"now": Y2030 + 60, "advanced": 60}
    with client_for(target, new_key()) as newcomer:
        assert newcomer.get("/_mock/clock").json()["now"] == Y2030 + 60


def test_c3_reset_without_a_key_empties_everything(
    target: Target, api: httpx.Client, server_wide: httpx.Client
) -> None:
    """C3: a keyless reset drops every tenant's sessions."""
    sid = create(api)["id"]
    with client_for(target, new_key()) as other:
        other_sid = create(other)["id"]
        assert server_wide.post("/_mock/reset").status_code == 200
        assert not exists(api, sid)
        assert not exists(other, other_sid)


def test_c3_state_shows_internal_state(api: httpx.Client, control: httpx.Client) -> None:
    """C3: sessions with their deadlines and why they will end; turns and files lists."""
    now = freeze(control)
    idle = create(api)["id"]
    kept = create(api, persistent=True, ttl=600)["id"]
    state = control.get("/_mock/state").json()
    by_id = {s["id"]: s for s in state["sessions"]}
    assert by_id[idle]["deadline"] == now + 300
    assert by_id[idle]["expires_by"] == "idle"
    assert by_id[kept]["deadline"] == now + 600
    assert by_id[kept]["expires_by"] == "ttl"
    assert state["clock"]["mode"] == "virtual"
    assert state["turns"] == []
    assert state["files"] == []


def test_c3_keyless_state_lists_tenants(
    api: httpx.Client, key: str, server_wide: httpx.Client
) -> None:
    """C3: without a key, state covers every tenant."""
    sid = create(api)["id"]
    state = server_wide.get("/_mock/state").json()
    assert set(state["clock"]) == {"mode", "scale", "now"}  # the server's own clock
    tenants = {t["tenant"]: t for t in state["tenants"]}
    assert [s["id"] for s in tenants[key.split("_")[1]]["sessions"]] == [sid]


def test_c7_the_control_plane_never_answers_under_v1(api: httpx.Client) -> None:
    """C7: /_mock lives only at the root; under /v1 those paths do not exist."""
    for path in ("/v1/_mock/state", "/v1/_mock/clock", "/_mock/../v1/_mock/state"):
        assert_error(api.get(path), 404, "not_found")
    assert api.get("/_mock/state").status_code == 200


def test_c2_a_bad_key_on_the_control_plane_is_401(anon: httpx.Client) -> None:
    """C2 with A2: a control request that carries a malformed key is refused, not taken
    for a server-wide one."""
    response = anon.post("/_mock/reset", headers={"Authorization": "Token abc"})
    assert_error(response, 401, "unauthorized", "Authorization")


def test_c7_a_page_of_another_site_cannot_change_the_mock(
    target: Target, api: httpx.Client, control: httpx.Client
) -> None:
    """C7 [C]: a browser names the page a request comes from in Origin; the control plane
    refuses changes from other sites' pages (a reset posted by any web page would wipe a
    developer's mock), and serves programs (no Origin) and its own pages."""
    sid = create(api)["id"]
    host = httpx.URL(target.url).netloc.decode()
    foreign = {"Origin": "https://example.com"}
    assert_error(control.post("/_mock/reset", headers=foreign), 400, "invalid_request", "Origin")
    assert_error(
        control.post("/_mock/faults", headers=foreign, json={"fault": {"type": "drop"}}),
        400,
        "invalid_request",
        "example.com",
    )
    assert exists(api, sid)
    assert control.get("/_mock/state", headers=foreign).status_code == 200  # reads are safe
    own = {"Origin": f"http://{host}"}
    assert control.post("/_mock/reset", headers=own).status_code == 200
    assert not exists(api, sid)
