"""S1a: the model catalog, over real sockets."""

from __future__ import annotations

import json

import httpx
import pytest

from .checks import assert_error, create, created, session_ids

DOCUMENTED = ["pokee-isaac-high-reasoning", "pokee-isaac"]


@pytest.mark.parametrize("model", DOCUMENTED)
def test_s1a_the_documented_models_are_accepted(api: httpx.Client, model: str) -> None:
    """S1a: a session may be created with either model of the catalog."""
    created(api, api.post("/v1/sessions", json={"model": model}))


@pytest.mark.inferred
@pytest.mark.parametrize("model", DOCUMENTED)
def test_s1a_the_chosen_model_is_kept_in_the_record(api: httpx.Client, model: str) -> None:
    """S1a with S2 [C]: the model chosen at create is shown in the record (S3, S4 alike)."""
    record = create(api, model=model)
    assert record["model"] == model
    assert api.get(f"/v1/sessions/{record['id']}").json()["model"] == model
    listed = [s for s in api.get("/v1/sessions").json() if s["id"] == record["id"]]
    assert [s["model"] for s in listed] == [model]


@pytest.mark.inferred
@pytest.mark.parametrize("model", ["pokee-large", "", "POKEE-ISAAC", "pokee-isaac ", "\ud800"])
def test_s1a_an_unknown_model_is_400_naming_it(api: httpx.Client, model: str) -> None:
    """S1a [C]: a model outside the catalog → 400 naming the field and the model; no
    session is created (the tenant lists the same sessions as before)."""
    before = session_ids(api)
    body = json.dumps({"model": model}).encode()  # a lone surrogate as a JSON escape
    response = api.post("/v1/sessions", content=body)
    # A lone surrogate is refused before the catalog is asked (every body's rule).
    shown = "lone surrogate" if model == "\ud800" else repr(model)
    assert_error(response, 400, "invalid_request", "model", shown)
    assert session_ids(api) == before
