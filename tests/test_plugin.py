"""The pytest plugin, used the way a user would: from a test file in a project of its own,
found through the package's entry point, alone and under pytest-xdist."""

from __future__ import annotations

import pytest

from mock_pokee.testing import MockServer

pytest_plugins = ["pytester"]

# Plugins of this project's own dev tools that the user's project would not load; left
# out to keep the runs quick.
QUIET = ("-p", "no:cacheprovider", "-p", "no:schemathesis")

USER_TESTS = """
import json
import time

import httpx
import pytest


def test_a_4_hour_ttl_in_milliseconds(pokee):
    sid = pokee.http.post("/v1/sessions", json={"persistent": True, "ttl": 14400}).json()["id"]
    pokee.clock.advance(4 * 3600 - 1)
    assert pokee.http.get(f"/v1/sessions/{sid}").status_code == 200
    pokee.clock.advance(1)
    assert pokee.http.get(f"/v1/sessions/{sid}").status_code == 404
    assert [e["session"] for e in pokee.journal.entries(kind="expiry")] == [sid]


def test_a_dropped_stream(pokee):
    sid = pokee.http.post("/v1/sessions", json={"persistent": True}).json()["id"]
    rule = pokee.faults.add({"type": "drop", "after_events": 2},
                            match={"path": "/v1/sessions/*/messages"})
    with pytest.raises(httpx.RemoteProtocolError):
        with pokee.http.stream("POST", f"/v1/sessions/{sid}/messages",
                               json={"message": "hi"}) as response:
            for _ in response.iter_lines():
                pass
    assert pokee.faults.hits(rule["id"]) == 1


def test_what_the_client_sent(pokee):
    pokee.http.get("/v1/usage", headers={"X-Trace": "abc"})
    (sent,) = pokee.journal.requests(path="/v1/usage")
    assert sent["headers"]["x-trace"] == "abc"
    assert pokee.key not in json.dumps(sent)


def test_the_reference_client_rides_out_a_dropped_stream(pokee, tmp_path):
    rule = pokee.faults.add({"type": "drop", "after_events": 3},
                            match={"path": "/v1/sessions/*/messages"}, schedule={"times": 1})
    result = pokee.client.run("hello", out=tmp_path, scenario="quick-answer")
    assert result.status == "completed"
    assert pokee.faults.hits(rule["id"]) == 1
    resumes = pokee.journal.requests(path="/v1/sessions/*/responses/*/events")
    assert len(resumes) == 1  # it resumed once (M7) instead of sending again


DECK = {"message": "Build a deck on tides"}


def iter_events(response):
    # (id, event type) of each event of an SSE answer, as a user's code would read it.
    last_id = None
    for line in response.iter_lines():
        if line.startswith("id: "):
            last_id = int(line[4:])
        elif line.startswith("event: "):
            yield last_id, line[7:]


def events_of(response):
    return list(iter_events(response))


def new_session(pokee):
    return pokee.http.post("/v1/sessions", json={"persistent": True}).json()["id"]


def test_a_blocking_client_reads_a_deck_turn_to_its_end(pokee):
    # The autojump clock: a client waiting on the stream sees each pause pass.
    sid = new_session(pokee)
    with pokee.http.stream("POST", f"/v1/sessions/{sid}/messages", json=DECK) as response:
        assert events_of(response)[-1][1] == "message.completed"
    session = pokee.http.get(f"/v1/sessions/{sid}").json()
    assert session["metadata"]["temasek_status"] == "completed"


def test_a_dropped_stream_resumed_from_its_last_event(pokee):
    # M7 after a drop, in the user's own code.
    sid = new_session(pokee)
    pokee.faults.add({"type": "drop", "after_events": 3}, schedule={"times": 1})
    seen, rid = [], None
    with pytest.raises(httpx.RemoteProtocolError):
        with pokee.http.stream("POST", f"/v1/sessions/{sid}/messages", json=DECK) as response:
            rid = response.headers["x-response-id"]
            for event in iter_events(response):
                seen.append(event)
    last = seen[-1][0]
    url = f"/v1/sessions/{sid}/responses/{rid}/events"
    with pokee.http.stream("GET", url, headers={"Last-Event-ID": str(last)}) as response:
        rest = events_of(response)
    assert rest[0][0] == last + 1
    assert rest[-1][1] == "message.completed"


def test_after_a_drop_polling_busy_until_false(pokee):
    # The cookbook's recovery: poll GET /v1/sessions/{id}, sleeping in real time.
    sid = new_session(pokee)
    pokee.faults.add({"type": "drop", "after_events": 2}, schedule={"times": 1})
    with pytest.raises(httpx.RemoteProtocolError):
        with pokee.http.stream("POST", f"/v1/sessions/{sid}/messages", json=DECK) as response:
            events_of(response)
    while (session := pokee.http.get(f"/v1/sessions/{sid}").json())["busy"]:
        time.sleep(0.01)
    assert session["metadata"]["temasek_status"] == "completed"
    files = pokee.http.get(f"/v1/sessions/{sid}/files?path=output").json()
    assert [f["name"] for f in files] == ["tides.pptx"]


def test_the_fixtures_client_waits_on_the_mocks_clock(pokee):
    pokee.faults.add({"type": "status", "status": 503, "retry_after": 30},
                     match={"method": "POST", "path": "/v1/sessions"}, schedule={"times": 1})
    before = pokee.clock.now
    started = time.monotonic()
    session = pokee.client.sessions.create()
    assert session.id.startswith("sess_")
    assert pokee.clock.now - before >= 30
    assert time.monotonic() - started < 10  # a Retry-After of 30 s, not slept


def test_what_was_called_and_how_often(pokee):
    new_session(pokee)
    pokee.http.get("/v1/sessions")
    pokee.requests(method="POST", path="/v1/sessions").assert_called_once()
    pokee.requests(path="/v1/sessions/*").assert_not_called()
    pokee.requests(method="GET").assert_called_times(1)
    expected = r"(?s)DELETE any path at least once.*called 0 times.*POST /v1/sessions → 201"
    with pytest.raises(AssertionError, match=expected):
        pokee.requests(method="DELETE").assert_called()
    assert pokee.requests(method="POST").call_count == 1
    assert [e["status"] for e in pokee.requests()] == [201, 200]


def test_a_stubbed_answer_the_scenarios_do_not_give(pokee):
    body = {"rate_limit": {"caller_id": "x", "buckets": {}}, "credits": None}
    pokee.faults.add({"type": "respond", "status": 200, "json": body,
                      "headers": {"X-Stub": "1"}}, match={"path": "/v1/usage"})
    answer = pokee.http.get("/v1/usage")
    assert (answer.json(), answer.headers["x-stub"]) == (body, "1")


@pytest.mark.pokee(strict=True)
def test_strict_mode_accepts_injected_errors(pokee):
    pokee.faults.add({"type": "status", "status": 503}, schedule={"times": 1})
    assert pokee.http.get("/v1/usage").status_code == 503


@pytest.mark.pokee(strict=True, allow=[404])
def test_strict_mode_accepts_allowed_statuses(pokee):
    assert pokee.http.get("/v1/sessions/sess_000000000000").status_code == 404


@pytest.mark.pokee(clock="virtual")
def test_a_test_may_pick_its_clock(pokee):
    assert pokee.clock.get()["mode"] == "virtual"


@pytest.mark.parametrize("n", range(6))
def test_tenants_never_see_each_other(pokee, n):
    made = {pokee.http.post("/v1/sessions").json()["id"] for _ in range(3)}
    listed = {s["id"] for s in pokee.http.get("/v1/sessions").json()}
    assert listed == made
    assert pokee.clock.advance(n) >= 0
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(test_user=USER_TESTS)
    return pytester


USER_TEST_COUNT = 19
# A user's suite has no pytest-timeout: this bound on the whole run is what turns a hang
# (the deadlock the autojump clock prevents) into a failure instead of a stalled CI.
BOUND = 120


def test_the_fixtures_work_from_an_installed_package(project: pytest.Pytester) -> None:
    result = project.runpytest_subprocess(*QUIET, "-p", "no:timeout", timeout=BOUND)
    result.assert_outcomes(passed=USER_TEST_COUNT)


def test_parallel_workers_sharing_one_server_never_see_each_other(
    project: pytest.Pytester,
) -> None:
    """Every test's key names a tenant of its own, and the key carries the worker's name,
    so workers sharing one mock cannot draw the same tenant (A3: pk_<tenant>_<token>)."""
    project.makepyfile(test_tenants=TENANT_TESTS)
    with MockServer() as server:
        result = project.runpytest_subprocess(
            *QUIET, "-n", "2", f"--pokee-url={server.url}", timeout=BOUND
        )
        assert server.errors == []
    result.assert_outcomes(passed=USER_TEST_COUNT + TENANT_TEST_COUNT)
    (folder,) = project.path.parent.glob("**/tenants")
    seen = {path.name: path.read_text().split() for path in folder.iterdir()}
    assert set(seen) == {"gw0", "gw1"}
    every = [tenant for tenants in seen.values() for tenant in tenants]
    assert len(every) == len(set(every)) == TENANT_TEST_COUNT
    for worker, tenants in seen.items():
        assert all(tenant.startswith(f"pytest-{worker}-") for tenant in tenants)


STRICT_TESTS = """
import pytest


@pytest.mark.pokee(strict=True)
def test_an_error_no_fault_injected(pokee):
    pokee.http.get("/v1/sessions/sess_000000000000")


def test_not_strict(pokee):
    pokee.http.get("/v1/sessions/sess_000000000000")


@pytest.mark.pokee(strict=True)
def test_failing_already(pokee):
    pokee.http.get("/v1/sessions/sess_000000000000")
    assert False, "its own failure"
"""


def test_strict_mode_fails_a_test_on_an_error_it_did_not_inject(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_strict=STRICT_TESTS)
    result = pytester.runpytest_inprocess(*QUIET)
    result.assert_outcomes(passed=2, failed=1, errors=1)  # the error is at a passed test's end
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_an_error_no_fault_injected*",
            "*strict mode: the mock answered errors that no fault injected:*",
            "*GET /v1/sessions/sess_000000000000 → 404*",
        ]
    )
    assert "at teardown of test_failing_already" not in result.stdout.str()


def test_strict_mode_can_be_every_tests_default(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_strict="def test_it(pokee):\n    pokee.http.get('/v1/sessions/sess_0')\n"
    )
    pytester.makeini("[pytest]\npokee_strict = true\n")
    result = pytester.runpytest_inprocess(*QUIET)
    result.assert_outcomes(passed=1, errors=1)  # the error is at the passed test's end


FORGOTTEN_TESTS = """
import httpx

seen = {}


def test_leaves_a_session_behind(pokee):
    pokee.http.post("/v1/sessions", json={}).raise_for_status()
    seen["tenant"] = pokee.state()["tenant"]


def test_the_tenant_of_a_finished_test_is_gone(pokee_server):
    state = httpx.get(pokee_server.url + "/_mock/state").json()
    assert seen["tenant"] not in [tenant["tenant"] for tenant in state["tenants"]]
"""


def test_a_finished_tests_tenant_is_forgotten(pytester: pytest.Pytester) -> None:
    """The teardown empties the tenant on the mock's own loop, without a round trip:
    what it held is gone, the tenant with it, before the next test can look."""
    pytester.makepyfile(test_forgotten=FORGOTTEN_TESTS)
    pytester.runpytest_inprocess(*QUIET, "-p", "no:randomly").assert_outcomes(passed=2)


TENANT_TEST_COUNT = 40
TENANT_TESTS = """
import os

import pytest


@pytest.mark.parametrize("n", range(40))
def test_record_my_tenant(pokee, n, tmp_path_factory):
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    tenant = pokee.state()["tenant"]
    folder = tmp_path_factory.getbasetemp().parent.parent / "tenants"
    folder.mkdir(exist_ok=True)
    with open(folder / worker, "a") as seen:
        seen.write(tenant + "\\n")
"""


SCENARIO = """
name: recorded-hello
match: '^hello from a recording$'
steps:
  - text: "{where} answers"
"""
SCENARIO_TEST = """
def test_it(pokee):
    session = pokee.client.sessions.create()
    answer = pokee.client.messages.send(session.id, "hello from a recording")
    assert answer.text == "{where} answers"
"""


@pytest.mark.parametrize("where", ["ini", "option"])
def test_the_mock_serves_the_scenario_folders_it_is_given(
    pytester: pytest.Pytester, where: str
) -> None:
    """A suite replays its recordings (`mock-pokee record`) with the ``pokee_scenarios``
    ini option (relative to the ini file) or ``--pokee-scenarios DIR``."""
    folder = pytester.mkdir("recordings")
    (folder / "hello.yaml").write_text(SCENARIO.replace("{where}", where))
    pytester.makepyfile(test_replay=SCENARIO_TEST.replace("{where}", where))
    if where == "ini":
        pytester.makeini("[pytest]\npokee_scenarios = recordings\n")
        result = pytester.runpytest_inprocess(*QUIET)
    else:
        result = pytester.runpytest_inprocess(*QUIET, "--pokee-scenarios", str(folder))
    result.assert_outcomes(passed=1)
