"""Section S: sessions — create, read, list, delete, bulk delete, lifetimes, limits."""

from __future__ import annotations

import re

import httpx
import pytest

from .checks import (
    SESSION_FIELDS,
    SESSION_LIMIT,
    advance,
    assert_error,
    create,
    created,
    exists,
    freeze,
    room_for_sessions,
    session_ids,
)
from .sse import send

IDLE = 300  # S7: five minutes


def one_more(api: httpx.Client) -> str:
    """A create S9 says must succeed: a 429 here is the finding, so unlike `create` it
    never counts as a full tenant to skip on (the test made room for it first)."""
    response = api.post("/v1/sessions")
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


@pytest.mark.parametrize("body", [None, {}], ids=["no-body", "empty-object"])
def test_s1_defaults(api: httpx.Client, body: dict[str, object] | None) -> None:
    """S1: an absent body or {} means all defaults."""
    response = api.post("/v1/sessions", json=body) if body is not None else api.post("/v1/sessions")
    record = created(api, response)
    assert record["persistent"] is False
    assert record["ttl"] == 14400
    assert record["metadata"] == {}
    assert record["file_access"] == {"read": [""], "write": [""]}


def test_s1_given_fields_are_kept(api: httpx.Client) -> None:
    """S1: persistent, ttl, metadata and file_access come back as given; model and tools
    are accepted (whether the record shows the model is S2 [C])."""
    record = create(
        api,
        persistent=True,
        ttl=604800,
        metadata={"project": "q3"},
        file_access={"read": ["output/"], "write": ["output/", "tmp/"]},
        model="pokee-isaac",
        tools=[{"type": "function", "name": "web_search", "parameters": {"type": "object"}}],
    )
    assert record["persistent"] is True
    assert record["ttl"] == 604800
    assert record["metadata"] == {"project": "q3"}
    assert record["file_access"] == {"read": ["output/"], "write": ["output/", "tmp/"]}


@pytest.mark.inferred
@pytest.mark.parametrize("ttl", [0, -1, 604801, 1.5, "60", True, None, [60]])
def test_s1_ttl_must_be_an_integer_from_1_to_604800(api: httpx.Client, ttl: object) -> None:
    """S1 [C]: ttl outside 1…604800, or not an integer, is 400 naming ttl."""
    before = session_ids(api)
    assert_error(api.post("/v1/sessions", json={"ttl": ttl}), 400, "invalid_request", "ttl")
    assert session_ids(api) == before


@pytest.mark.parametrize("ttl", [1, 604800])
def test_s1_ttl_bounds_are_inclusive(api: httpx.Client, ttl: int) -> None:
    """S1: both ends of the ttl range are accepted."""
    assert create(api, ttl=ttl)["ttl"] == ttl


@pytest.mark.inferred
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"persistent": 1}, "persistent"),
        ({"metadata": "x"}, "metadata"),
        ({"file_access": []}, "file_access"),
        ({"file_access": {"read": "output/"}}, "file_access.read"),
        ({"file_access": {"write": [1]}}, "file_access.write.0"),
        ({"model": 5}, "model"),
        ({"tools": {"name": "x"}}, "tools"),
    ],
)
def test_s1_wrong_types_are_400_naming_the_field(
    api: httpx.Client, body: dict[str, object], field: str
) -> None:
    """S1 [C]: wrong types are 400, and the message names the field's path."""
    assert_error(api.post("/v1/sessions", json=body), 400, "invalid_request", field)


def test_s2_record_shape(api: httpx.Client) -> None:
    """S2: 201 with the whole record; the same shape, and the same session, from S3 and
    S4 (last_activity aside: whether a read moves it is S8 [C])."""
    record = created(api, api.post("/v1/sessions"))
    assert set(record) >= SESSION_FIELDS
    sid = record["id"]
    assert isinstance(sid, str)
    assert re.fullmatch(r"sess_[0-9a-f]{12}", sid)
    assert isinstance(record["created_at"], float)
    assert isinstance(record["last_activity"], float)
    assert record["busy"] is False
    got = api.get(f"/v1/sessions/{sid}").json()
    listed = [s for s in api.get("/v1/sessions").json() if s["id"] == sid]
    assert len(listed) == 1
    for read in (got, listed[0]):
        assert set(read) == set(record)
        assert {**read, "last_activity": None} == {**record, "last_activity": None}


@pytest.mark.inferred
def test_s2_status_is_ready_and_the_model_shows_only_when_given(api: httpx.Client) -> None:
    """S2 [C]: status is always "ready"; the record has model when one was given at create,
    and none otherwise (S4 alike)."""
    given = create(api, model="pokee-isaac")
    default = create(api)
    assert given["status"] == default["status"] == "ready"
    assert given["model"] == "pokee-isaac"
    assert "model" not in default
    assert "model" not in api.get(f"/v1/sessions/{default['id']}").json()


@pytest.mark.inferred
def test_s8_a_new_session_was_last_active_at_its_creation_and_reads_leave_it(
    api: httpx.Client,
) -> None:
    """S8 [C] with S2: a new record's last_activity is its created_at, and reading the
    session (S4, S3) gives back the record unchanged."""
    record = create(api)
    assert record["last_activity"] == record["created_at"]
    assert api.get(f"/v1/sessions/{record['id']}").json() == record
    assert record in api.get("/v1/sessions").json()


def test_s2_ids_are_unique(api: httpx.Client) -> None:
    """S2: every create makes a new session."""
    ids = {create(api)["id"] for _ in range(5)}
    assert len(ids) == 5


@pytest.mark.inferred
def test_s3_list_is_a_bare_array_oldest_first(api: httpx.Client) -> None:
    """S3 [C]: ordered by created_at, oldest first."""
    made = [create(api)["id"] for _ in range(4)]
    listed = api.get("/v1/sessions").json()
    assert [s["id"] for s in listed if s["id"] in made] == made
    assert [s["created_at"] for s in listed] == sorted(s["created_at"] for s in listed)


def test_s4_unknown_and_destroyed_ids_are_404(api: httpx.Client) -> None:
    """S4: a never-known id and a destroyed one are both 404."""
    assert_error(api.get("/v1/sessions/sess_0123456789ab"), 404, "not_found")
    sid = create(api)["id"]
    assert api.delete(f"/v1/sessions/{sid}").status_code == 204
    assert_error(api.get(f"/v1/sessions/{sid}"), 404, "not_found", str(sid))


def test_s5_delete_is_204_then_404(api: httpx.Client) -> None:
    """S5: 204 with no body; a second delete is 404; other sessions are untouched."""
    keep, doomed = create(api)["id"], create(api)["id"]
    response = api.delete(f"/v1/sessions/{doomed}")
    assert response.status_code == 204
    assert response.content == b""
    assert_error(api.delete(f"/v1/sessions/{doomed}"), 404, "not_found", str(doomed))
    listed = session_ids(api)
    assert keep in listed
    assert doomed not in listed


@pytest.mark.destructive
def test_s6_status_idle_deletes_idle_sessions(api: httpx.Client) -> None:
    """S6: status=idle selects sessions that are not busy; the count comes back (other
    idle sessions of the tenant count too)."""
    made = [create(api)["id"] for _ in range(3)]
    response = api.delete("/v1/sessions", params={"status": "idle"})
    assert response.status_code == 200
    assert set(response.json()) == {"deleted"}
    assert response.json()["deleted"] >= 3
    assert not any(exists(api, sid) for sid in made)


@pytest.mark.destructive
def test_s6_status_idle_spares_a_busy_session(api: httpx.Client, folder: str) -> None:
    """S6: a session whose turn is running is not idle, so status=idle leaves it. (Its
    turn, a deck, may write only in the test's own folder.)"""
    scope = {"read": [folder], "write": [folder]}
    busy = create(api, persistent=True, file_access=scope)["id"]
    stream = send(api, busy, "Build a deck on tides", stop_after=1)  # a long turn goes on
    assert stream.status == 200
    assert api.get(f"/v1/sessions/{busy}").json()["busy"] is True
    idle = [create(api)["id"] for _ in range(2)]
    assert api.delete("/v1/sessions", params={"status": "idle"}).json()["deleted"] >= 2
    assert busy in session_ids(api)
    assert all(api.get(f"/v1/sessions/{sid}").status_code == 404 for sid in idle)


@pytest.mark.destructive
@pytest.mark.inferred
def test_s6_status_busy_and_any(api: httpx.Client) -> None:
    """S6 [C]: status=busy selects only busy sessions (these two are idle); any selects
    all."""
    made = [create(api)["id"], create(api)["id"]]
    assert api.delete("/v1/sessions", params={"status": "busy"}).status_code == 200
    assert all(exists(api, sid) for sid in made)
    assert api.delete("/v1/sessions", params={"status": "any"}).json()["deleted"] >= 2
    assert not any(exists(api, sid) for sid in made)


@pytest.mark.destructive  # a server that got it wrong would delete every session
@pytest.mark.inferred
def test_s6_a_bare_bulk_delete_never_wipes_the_tenant(api: httpx.Client) -> None:
    """S6 [C]: with neither filter → 400, and nothing is deleted."""
    sid = create(api)["id"]
    assert_error(api.delete("/v1/sessions"), 400, "invalid_request", "status", "older_than")
    assert exists(api, sid)


@pytest.mark.destructive  # a server that accepted the value would delete every session
@pytest.mark.inferred
@pytest.mark.parametrize(
    "older_than", ["1h3", "30x", "-5", "", "1.5h", "h", "1m1h", "1d", "5 m", "1H", "٣s"]
)
def test_s6_bad_older_than_is_400_and_deletes_nothing(api: httpx.Client, older_than: str) -> None:
    """S6 [C]: anything but <n>h<n>m<n>s (in order) or whole seconds is refused."""
    sid = create(api)["id"]
    response = api.delete("/v1/sessions", params={"status": "any", "older_than": older_than})
    assert_error(response, 400, "invalid_request", "older_than")
    assert exists(api, sid)


@pytest.mark.mock_only
@pytest.mark.parametrize(
    ("older_than", "seconds"),
    [("90s", 90), ("5m", 300), ("1h30m", 5400), ("2h", 7200), ("1h0m1s", 3601), ("5400", 5400)],
)
def test_s6_older_than_selects_by_inactivity(
    api: httpx.Client, control: httpx.Client, older_than: str, seconds: int
) -> None:
    """S6: older_than selects now - last_activity >= the duration, to the second."""
    freeze(control)
    old = create(api, persistent=True)["id"]
    advance(control, 1)
    new = create(api, persistent=True)["id"]
    advance(control, seconds - 1)  # old is idle exactly `seconds`, new one second less
    response = api.delete("/v1/sessions", params={"status": "idle", "older_than": older_than})
    assert response.json() == {"deleted": 1}
    assert not exists(api, old)
    assert exists(api, new)


@pytest.mark.mock_only
@pytest.mark.inferred
def test_s7_an_unused_session_dies_five_minutes_after_creation(
    api: httpx.Client, control: httpx.Client
) -> None:
    """S7 [C]: never messaged, non-persistent → destroyed at created_at + 300, exactly."""
    freeze(control)
    sid = create(api)["id"]
    advance(control, IDLE - 0.001)
    assert exists(api, sid)
    assert [s["id"] for s in api.get("/v1/sessions").json()] == [sid]
    advance(control, 0.001)
    assert not exists(api, sid)
    assert api.get("/v1/sessions").json() == []


@pytest.mark.mock_only
def test_s7_a_persistent_session_outlives_idleness_until_its_ttl(
    api: httpx.Client, control: httpx.Client
) -> None:
    """S7: persistent sessions skip the idle rule; the ttl is a hard bound from created_at."""
    freeze(control)
    sid = create(api, persistent=True, ttl=3600)["id"]
    advance(control, IDLE * 2)
    assert exists(api, sid)
    advance(control, 3600 - IDLE * 2 - 0.001)
    assert exists(api, sid)
    advance(control, 0.001)
    assert not exists(api, sid)


@pytest.mark.mock_only
def test_s7_a_short_ttl_beats_the_idle_rule(api: httpx.Client, control: httpx.Client) -> None:
    """S7: a non-persistent session with ttl < 300 dies at its ttl."""
    freeze(control)
    sid = create(api, ttl=60)["id"]
    advance(control, 59.999)
    assert exists(api, sid)
    advance(control, 0.001)
    assert not exists(api, sid)


@pytest.mark.mock_only
@pytest.mark.inferred
def test_s7_expiry_is_exact_without_any_sweep(api: httpx.Client, control: httpx.Client) -> None:
    """S7 [C]: setting the clock (which fires no timers) past the deadline is enough."""
    now = freeze(control)
    sid = create(api, persistent=True, ttl=100)["id"]
    response = control.put("/_mock/clock", json={"now": now + 100})
    assert response.status_code == 200
    assert_error(api.get(f"/v1/sessions/{sid}"), 404, "not_found", str(sid))
    assert api.delete("/v1/sessions", params={"status": "any"}).json() == {"deleted": 0}


@pytest.mark.mock_only
@pytest.mark.inferred
def test_s8_reads_do_not_keep_a_session_alive(api: httpx.Client, control: httpx.Client) -> None:
    """S8 [C]: GET and list leave last_activity alone; polling cannot extend the idle life."""
    freeze(control)
    record = create(api)
    for _ in range(4):
        advance(control, 60)
        assert (
            api.get(f"/v1/sessions/{record['id']}").json()["last_activity"]
            == (record["last_activity"])
        )
        api.get("/v1/sessions")
    advance(control, IDLE - 240)
    assert not exists(api, record["id"])


@pytest.mark.destructive
def test_s9_ten_sessions_can_live_at_once(api: httpx.Client) -> None:
    """S9: the default limit is ten concurrent sessions per tenant (the tenant's own
    sessions count: the test makes the rest)."""
    existing = room_for_sessions(api, 1)  # the tenant's own sessions count toward the ten
    made = [one_more(api) for _ in range(SESSION_LIMIT - len(existing))]
    assert all(exists(api, sid) for sid in made)
    assert set(made) <= set(session_ids(api))


@pytest.mark.destructive
@pytest.mark.inferred
def test_s9_the_eleventh_session_is_429(api: httpx.Client) -> None:
    """S9 [C]: the 11th concurrent session is 429 rate_limited (the tenant's own sessions
    count: the test makes the rest); a slot freed by a delete can be used again."""
    existing = room_for_sessions(api, 1)  # the tenant's own sessions count toward the ten
    made = [one_more(api) for _ in range(SESSION_LIMIT - len(existing))]
    listed = session_ids(api)
    assert len(listed) == SESSION_LIMIT, listed  # the tenant's own and this test's
    assert_error(api.post("/v1/sessions"), 429, "rate_limited", "10")
    assert session_ids(api) == listed  # the refused create made nothing
    assert api.delete(f"/v1/sessions/{made[0]}").status_code == 204
    one_more(api)


@pytest.mark.destructive
@pytest.mark.inferred
def test_a7_the_429_of_a_full_tenant_says_when_to_retry(api: httpx.Client) -> None:
    """A7: whatever the tenant's session limit, the 429 that refuses one more session
    carries Retry-After in whole seconds."""
    for _ in range(50):
        response = api.post("/v1/sessions")
        if response.status_code == 429:
            break
        assert response.status_code == 201, response.text
    assert_error(response, 429, "rate_limited")
    assert int(response.headers["retry-after"]) >= 1


@pytest.mark.mock_only
@pytest.mark.inferred
def test_s9_retry_after_says_when_a_slot_frees(api: httpx.Client, control: httpx.Client) -> None:
    """S9/A7 [C]: Retry-After is the time until the first session expires, on the clock."""
    freeze(control)
    for _ in range(10):
        create(api)
    advance(control, 100)
    response = api.post("/v1/sessions")
    assert response.headers["retry-after"] == str(IDLE - 100)
    advance(control, IDLE - 100)  # all ten expire
    create(api)
