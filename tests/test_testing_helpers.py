"""`mock_pokee.testing` and the pytest plugin's own logic, in this process: each helper
against a running mock, and the plugin through pytester's in-process runs (the runs in a
subprocess, as a user's project makes them, are in tests/test_plugin.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from mock_pokee.pytest_plugin import MARKER, PokeeServer
from mock_pokee.testing import TIMEOUT, ControlError, Faults, MockServer, TenantHandle, new_key

pytest_plugins = ["pytester"]
QUIET = ("-p", "no:cacheprovider", "-p", "no:schemathesis", "-p", "no:randomly")


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer() as running:
        yield running


@pytest.fixture
def tenant(server: MockServer) -> Iterator[TenantHandle]:
    with server.tenant() as handle:
        yield handle


# -- keys and handles ------------------------------------------------------------------------


def test_a_new_key_names_a_tenant_of_its_own() -> None:
    key = new_key("ci-job-7")
    assert re.fullmatch(r"pk_ci-job-7-[0-9a-f]{12}_[0-9a-f]{16}", key)
    assert new_key().startswith("pk_test-")
    assert new_key() != new_key()
    for bad in ("", "a_b", "x" * 41, "sp ace"):
        with pytest.raises(ValueError, match="job: 1 to 40 letters, digits or '-'"):
            new_key(bad)


def test_a_handle_speaks_for_its_tenant(server: MockServer, tenant: TenantHandle) -> None:
    assert tenant.url == server.url
    assert tenant.headers == {"Authorization": f"Bearer {tenant.key}"}
    assert tenant.http.headers["authorization"] == f"Bearer {tenant.key}"
    assert tenant.http.timeout == TIMEOUT == httpx.Timeout(30.0)  # an advance may run long
    state = tenant.state()
    assert tenant.key is not None
    assert state["tenant"] == tenant.key.split("_")[1]
    assert state["sessions"] == []
    same = server.tenant(tenant.key)
    assert same.state()["tenant"] == state["tenant"]
    same.close()


def test_the_whole_server_has_no_key(server: MockServer, tenant: TenantHandle) -> None:
    tenant.http.post("/v1/sessions", json={})
    whole = server.whole()
    assert (whole.key, whole.headers) == (None, {})
    assert "authorization" not in whole.http.headers
    assert whole.state()["tenants"]
    whole.close()


def test_reset_empties_the_tenant(tenant: TenantHandle) -> None:
    tenant.http.post("/v1/sessions", json={})
    tenant.faults.add({"type": "status", "status": 503})
    tenant.reset()
    state = tenant.state()
    assert (state["sessions"], tenant.faults.list()) == ([], [])


def test_a_refused_control_call_is_a_control_error(tenant: TenantHandle) -> None:
    with pytest.raises(ControlError, match=r"^PUT /_mock/clock → 400: "):
        tenant.clock.set(mode="sideways")
    with pytest.raises(ControlError, match=r"^DELETE /_mock/faults/rule_x → 404: "):
        tenant.faults.remove("rule_x")


def test_closing_a_handle_closes_its_client(server: MockServer) -> None:
    handle = server.tenant()
    assert handle.client is handle.client  # made once
    assert handle.client.sessions.create().id.startswith("sess_")
    handle.close()
    with pytest.raises(RuntimeError):
        handle.http.get("/_mock/clock")
    with pytest.raises(RuntimeError):
        handle.client.usage()
    other = server.tenant()
    assert other.clock.now > 0  # the pool the closed handle shared is still open
    other.close()
    untouched = server.tenant()
    untouched.close()  # never made its client: nothing to close
    assert "client" not in untouched.__dict__


# -- the clock -------------------------------------------------------------------------------


def test_the_clock(tenant: TenantHandle) -> None:
    assert tenant.clock.get()["mode"] == "autojump"  # MockServer's default
    assert tenant.clock.freeze(1_000_000.0) == 1_000_000.0
    assert tenant.clock.get()["mode"] == "virtual"
    assert tenant.clock.now == 1_000_000.0
    assert tenant.clock.advance(90) == 1_000_090.0
    assert tenant.clock.set(now=2_000_000.0)["now"] == 2_000_000.0
    assert tenant.clock.set(mode="scaled", scale=60)["scale"] == 60
    assert tenant.clock.get()["mode"] == "scaled"
    real = tenant.clock.set(mode="real")
    assert real["mode"] == "real"
    assert abs(tenant.clock.freeze() - tenant.clock.now) < 1e-6
    assert tenant.clock.get()["mode"] == "virtual"


def test_sleep_moves_the_tenants_clock(tenant: TenantHandle) -> None:
    start = tenant.clock.freeze(5_000.0)
    tenant.sleep(0)
    tenant.sleep(-3)
    assert tenant.clock.now == start
    tenant.sleep(2.5)
    assert tenant.clock.now == start + 2.5


def test_a_server_may_start_on_another_clock() -> None:
    with MockServer(clock_mode="virtual") as virtual:
        with virtual.tenant() as handle:
            assert handle.clock.get()["mode"] == "virtual"
        assert virtual.errors == []


# -- faults ----------------------------------------------------------------------------------


def test_fault_rules(tenant: TenantHandle) -> None:
    first = tenant.faults.add(
        {"type": "status", "status": 503},
        match={"path": "/v1/usage"},
        schedule={"times": 1},
    )
    second = tenant.faults.add({"type": "status", "status": 500}, match={"method": "DELETE"})
    assert first["match"]["path"] == "/v1/usage"
    assert first["schedule"]["times"] == 1
    assert [rule["id"] for rule in tenant.faults.list()] == [first["id"], second["id"]]
    assert tenant.http.get("/v1/usage").status_code == 503
    assert tenant.http.get("/v1/usage").status_code == 200
    assert tenant.faults.hits(first["id"]) == 1
    assert tenant.faults.hits(second["id"]) == 0
    with pytest.raises(ControlError, match=r"^fault rule rule_none: not found$"):
        tenant.faults.hits("rule_none")
    tenant.faults.remove(second["id"])
    assert [rule["id"] for rule in tenant.faults.list()] == [first["id"]]
    assert tenant.faults.clear() == 1
    assert tenant.faults.clear() == 0


def test_a_fault_for_one_request_rides_in_a_header(tenant: TenantHandle) -> None:
    header = Faults.header({"type": "status", "status": 418})
    assert list(header) == ["X-Mock-Fault"]
    assert tenant.http.get("/v1/usage", headers=header).status_code == 418
    assert tenant.http.get("/v1/usage").status_code == 200


# -- the journal and the requests ------------------------------------------------------------


def test_the_journal(tenant: TenantHandle) -> None:
    session = tenant.http.post("/v1/sessions", json={}).json()["id"]
    tenant.http.get(f"/v1/sessions/{session}")
    tenant.http.get("/v1/usage")
    requests = tenant.journal.requests()
    assert [(e["method"], e["path"]) for e in requests] == [
        ("POST", "/v1/sessions"),
        ("GET", f"/v1/sessions/{session}"),
        ("GET", "/v1/usage"),
    ]
    gets = tenant.journal.requests(method="GET")
    assert [e["path"] for e in gets] == [f"/v1/sessions/{session}", "/v1/usage"]
    assert len(tenant.journal.requests(path="/v1/sessions/*")) == 1
    since = requests[1]["seq"]
    assert [e["seq"] for e in tenant.journal.entries(kind="request", since=since)] == [
        requests[2]["seq"]
    ]

    assert tenant.journal.new(kind="request") == requests
    assert tenant.journal.last == requests[-1]["seq"]
    assert tenant.journal.new(kind="request") == []
    tenant.http.delete(f"/v1/sessions/{session}")
    (fresh,) = tenant.journal.new(kind="request")
    assert fresh["path"] == f"/v1/sessions/{session}"
    (deleted,) = tenant.journal.entries(kind="deletion")
    assert deleted["session"] == session
    assert tenant.journal.entries(kind="deletion", session="sess_000000000000") == []
    tenant.journal.clear()
    assert tenant.journal.last == 0
    assert tenant.journal.requests() == []


def test_requests_and_their_assertions(tenant: TenantHandle) -> None:
    tenant.http.post("/v1/sessions", json={})
    tenant.http.get("/v1/sessions")
    tenant.http.get("/v1/usage")
    posts = tenant.requests(method="POST", path="/v1/sessions")
    assert repr(posts) == "<1 × POST /v1/sessions>"
    assert (len(posts), posts.call_count) == (1, 1)
    assert posts[0]["status"] == 201
    assert [e["path"] for e in tenant.requests()[1:]] == ["/v1/sessions", "/v1/usage"]
    assert [e["method"] for e in tenant.requests()] == ["POST", "GET", "GET"]
    assert repr(tenant.requests()) == "<3 × any method any path>"
    assert repr(tenant.requests(path="/v1/usage")) == "<1 × any method /v1/usage>"
    posts.assert_called()
    posts.assert_called_once()
    tenant.requests(method="GET").assert_called_times(2)
    tenant.requests(method="DELETE").assert_not_called()

    expected = {
        "assert_called": "expected DELETE any path at least once, it was called 0 times",
        "assert_called_once": "expected DELETE any path once, it was called 0 times",
        "assert_not_called": "expected GET any path never, it was called 2 times",
    }
    with pytest.raises(AssertionError) as raised:
        tenant.requests(method="DELETE").assert_called()
    assert str(raised.value).startswith(expected["assert_called"] + "; requests the mock")
    with pytest.raises(AssertionError) as raised:
        tenant.requests(method="DELETE").assert_called_once()
    assert str(raised.value).startswith(expected["assert_called_once"])
    with pytest.raises(AssertionError) as raised:
        tenant.requests(method="GET").assert_not_called()
    assert str(raised.value).startswith(expected["assert_not_called"])
    with pytest.raises(AssertionError, match="expected GET any path 3 times, it was called 2"):
        tenant.requests(method="GET").assert_called_times(3)
    assert str(raised.value).splitlines()[1:] == [
        "  POST /v1/sessions → 201",
        "  GET /v1/sessions → 200",
        "  GET /v1/usage → 200",
    ]


def test_a_failed_assertion_lists_the_last_twenty_requests(tenant: TenantHandle) -> None:
    for n in range(25):
        tenant.http.get(f"/v1/sessions/sess_{n:012d}")
    with pytest.raises(AssertionError) as raised:
        tenant.requests(method="POST").assert_called()
    lines = str(raised.value).splitlines()
    assert lines[1] == "  … 5 earlier"
    assert lines[2] == "  GET /v1/sessions/sess_000000000005 → 404"
    assert lines[-1] == "  GET /v1/sessions/sess_000000000024 → 404"
    assert len(lines) == 22


def test_with_no_request_the_list_says_none(tenant: TenantHandle) -> None:
    with pytest.raises(AssertionError) as raised:
        tenant.requests().assert_called()
    assert str(raised.value).endswith("requests the mock received:\n  none")


# -- the plugin ------------------------------------------------------------------------------


def test_the_plugin_serves_a_tenant_per_test_through_its_server(
    server: MockServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    remote = PokeeServer(server.url)
    assert remote.errors == []  # a mock elsewhere reports none
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw3")
    with remote.tenant() as first, remote.tenant() as second:
        assert first.state()["tenant"].startswith("pytest-gw3-")
        assert first.key != second.key
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "g w/9" + "x" * 30)
    with remote.tenant() as named:
        assert named.state()["tenant"].startswith("pytest-gw9" + "x" * 13 + "-")
    monkeypatch.delenv("PYTEST_XDIST_WORKER")
    with remote.tenant() as alone, remote.tenant("pk_mine_secret") as given:
        assert alone.state()["tenant"].startswith("pytest-main-")
        assert given.state()["tenant"] == "mine"
    remote.close()
    PokeeServer(server.url).close()  # never made a handle: nothing to close
    local = PokeeServer(server.url, server)
    assert local.errors is server.errors


def test_the_plugins_option_and_marker_are_documented(pytester: pytest.Pytester) -> None:
    helped = pytester.runpytest_inprocess(*QUIET, "--help")
    text = " ".join(helped.stdout.str().split())
    assert "--pokee-url=URL use the mock running at URL instead of starting one " in text
    assert "(or set MOCK_POKEE_URL)" in text
    assert "pokee_strict (bool): fail every test using `pokee` on an error answer no " in text
    markers = pytester.runpytest_inprocess(*QUIET, "--markers")
    assert f"@pytest.mark.{MARKER}" in markers.stdout.str()


def test_a_test_may_use_a_mock_running_elsewhere(
    pytester: pytest.Pytester, server: MockServer
) -> None:
    pytester.makepyfile(
        test_remote="""
def test_it(pokee):
    assert pokee.url == URL
    pokee.http.post("/v1/sessions", json={})
    assert len(pokee.state()["sessions"]) == 1
""".replace("URL", repr(server.url))
    )
    result = pytester.runpytest_inprocess(*QUIET, f"--pokee-url={server.url}/")
    result.assert_outcomes(passed=1)


MARKED = """
import pytest


@pytest.mark.pokee(colour="red")
def test_unknown(pokee):
    pass


@pytest.mark.pokee("virtual")
def test_positional(pokee):
    pass


@pytest.mark.pokee(clock="virtual")
def test_clock(pokee):
    assert pokee.clock.get()["mode"] == "virtual"


def test_default_clock(pokee):
    assert pokee.clock.get()["mode"] == "autojump"


@pytest.mark.pokee(strict=True, allow=[404])
def test_allowed(pokee):
    pokee.http.get("/v1/sessions/sess_000000000000")


@pytest.mark.pokee(strict=True)
def test_injected(pokee):
    pokee.faults.add({"type": "status", "status": 503}, schedule={"times": 1})
    assert pokee.http.get("/v1/usage").status_code == 503


@pytest.mark.pokee(strict=True, allow=[404])
def test_other_error(pokee):
    pokee.http.get("/v1/sessions/sess_000000000000")
    pokee.http.post("/v1/sessions", json={"ttl": 0})
"""


def test_the_marker_picks_the_clock_and_strict_mode(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_marked=MARKED)
    result = pytester.runpytest_inprocess(*QUIET)
    result.assert_outcomes(passed=5, errors=3)
    out = result.stdout.str()
    assert "@pytest.mark.pokee: unknown options ['colour']" in out
    assert "@pytest.mark.pokee takes keyword arguments only" in out
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_other_error*",
            "*strict mode: the mock answered errors that no fault injected:*",
            "*  POST /v1/sessions → 400*",
        ]
    )
    assert "GET /v1/sessions/sess_000000000000 → 404" not in out
