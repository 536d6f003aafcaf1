"""Who may act on the whole server (C2): keyless control needs a trusted Host, and on a
server with a key list, its admin key (`mock_pokee.domain.whole_server`)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from mock_pokee.domain.errors import InvalidRequest, Unauthorized
from mock_pokee.domain.whole_server import WholeServerPolicy
from mock_pokee.server import ThreadedServer
from mock_pokee.settings import Settings

LISTED = "pk_acme_listedkey0001"
ADMIN = "admin-secret-0001"
RULE = {"fault": {"type": "status", "status": 503}}


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1:8000",
        "127.0.0.1",
        "[::1]:8000",
        "10.1.2.3:80",
        "localhost:8000",
        "LOCALHOST",
        "app.localhost:3000",
        "mock:8000",  # allowed below
        "mock.",
    ],
)
def test_trusted_hosts(host: str) -> None:
    WholeServerPolicy(allowed_hosts=frozenset({"mock"})).check(host, admin=False)


@pytest.mark.parametrize(
    "host",
    ["rebound.example", "rebound.example:8000", "localhost.evil.com", "", None, "127.0.0.1.nip.io"],
)
def test_untrusted_hosts_are_refused_naming_the_option(host: str | None) -> None:
    with pytest.raises(InvalidRequest, match="--allow-host"):
        WholeServerPolicy().check(host, admin=False)


def test_a_key_list_needs_the_admin_key() -> None:
    policy = WholeServerPolicy(keys_required=True, admin_key=ADMIN)
    policy.check("localhost", admin=True)
    with pytest.raises(Unauthorized, match="admin key"):
        policy.check("localhost", admin=False)
    with pytest.raises(Unauthorized, match="--admin-key"):
        WholeServerPolicy(keys_required=True).check("localhost", admin=False)


@pytest.fixture(scope="module")
def guarded() -> Iterator[ThreadedServer]:
    settings = Settings(port=0, keys=frozenset({LISTED}), admin_key=ADMIN, clock_mode="virtual")
    with ThreadedServer(settings) as server:
        yield server


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_with_keys_keyless_control_is_refused_and_changes_nothing(
    guarded: ThreadedServer,
) -> None:
    """What a request with no key could do before: read every tenant, fault a keyed
    tenant's requests, reset it. Each is now a 401, and the tenant is untouched."""
    url = guarded.url
    sid = httpx.post(f"{url}/v1/sessions", headers=bearer(LISTED), json={}).json()["id"]
    for method, path, body in (
        ("GET", "/_mock/state", None),
        ("POST", "/_mock/faults", RULE),
        ("POST", "/_mock/reset", None),
        ("PUT", "/_mock/clock", {"now": 0}),
        ("GET", "/_mock/journal", None),
    ):
        refused = httpx.request(method, f"{url}{path}", json=body)
        assert refused.status_code == 401, (path, refused.text)
        assert "admin key" in refused.json()["message"]
    assert httpx.get(f"{url}/v1/sessions/{sid}", headers=bearer(LISTED)).status_code == 200
    assert httpx.get(f"{url}/_mock/faults", headers=bearer(ADMIN)).json() == []
    wrong = httpx.get(f"{url}/_mock/state", headers=bearer("pk_acme_notlisted"))
    assert wrong.status_code == 401


def test_with_keys_the_admin_key_acts_on_the_whole_server(guarded: ThreadedServer) -> None:
    url = guarded.url
    state = httpx.get(f"{url}/_mock/state", headers=bearer(ADMIN))
    assert state.status_code == 200
    assert "tenants" in state.json()  # the keyless shape: every tenant
    assert httpx.get(f"{url}/_mock/state", headers=bearer(LISTED)).json()["tenant"] == "acme"
    assert httpx.post(f"{url}/v1/sessions", headers=bearer(ADMIN)).status_code == 401


def test_a_rebound_host_cannot_act_on_the_whole_server() -> None:
    """DNS rebinding: a page of rebound.example re-points its name at the mock. Its keyless
    requests are refused naming Host; with a key they reach that key's tenant only."""
    with ThreadedServer(Settings(port=0, clock_mode="virtual")) as server:
        rebound = {"Host": "rebound.example"}
        refused = httpx.post(f"{server.url}/_mock/faults", headers=rebound, json=RULE)
        assert refused.status_code == 400
        assert "Host" in refused.json()["message"]
        assert httpx.get(f"{server.url}/_mock/state", headers=rebound).status_code == 400
        assert httpx.get(f"{server.url}/_mock/faults").json() == []
        own = httpx.post(
            f"{server.url}/_mock/faults", headers={**rebound, **bearer("pk_page_x")}, json=RULE
        )
        assert own.status_code == 201
        assert httpx.get(f"{server.url}/v1/usage").status_code == 401  # no key: no tenant


def test_allow_host_lets_a_named_host_in() -> None:
    settings = Settings(port=0, clock_mode="virtual", allowed_hosts=("mock",))
    with ThreadedServer(settings) as server:
        answer = httpx.get(f"{server.url}/_mock/state", headers={"Host": "mock:8000"})
        assert answer.status_code == 200
        assert httpx.get(f"{server.url}/_mock/state", headers={"Host": "other"}).status_code == 400
