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

import httpx
import pytest


def test_a_4_hour_ttl_in_milliseconds(pokee):
    pokee.clock.freeze()
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


def test_the_fixtures_work_from_an_installed_package(project: pytest.Pytester) -> None:
    result = project.runpytest_subprocess(*QUIET)
    result.assert_outcomes(passed=10)


def test_parallel_workers_sharing_one_server_never_see_each_other(
    project: pytest.Pytester,
) -> None:
    with MockServer() as server:
        result = project.runpytest_subprocess(*QUIET, "-n", "2", f"--pokee-url={server.url}")
        assert server.errors == []
    result.assert_outcomes(passed=10)
