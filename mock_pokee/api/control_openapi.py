"""``GET /_mock/openapi.json``: the control plane's own OpenAPI document (C1–C7).

The paths are written in ``control-openapi.yaml``; the bodies the control plane reads are
described by the very models that read them (their JSON Schema, made by pydantic), so the
document cannot drift from what the server accepts. Every body refuses an explicit
``null`` (`mock_pokee.domain.strict`), which pydantic's schema of an optional field would
allow: those ``null`` alternatives are taken out.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from importlib import resources
from typing import Any

import yaml
from pydantic.json_schema import models_json_schema
from starlette.requests import Request
from starlette.responses import Response

from mock_pokee.api.context import context
from mock_pokee.api.control_bodies import ClockAdvance, ClockUpdate, CreditsUpdate
from mock_pokee.domain.faults import RuleSpec
from mock_pokee.scenarios.model import MODEL_ANSWER

BODIES = (ClockUpdate, ClockAdvance, CreditsUpdate, RuleSpec)


# pydantic writes the bounds of an Annotated number that carries a validator (the
# JSON-Schema integers of `mock_pokee.domain.strict`) under their Python names.
_BOUNDS = {"ge": "minimum", "le": "maximum", "gt": "exclusiveMinimum", "lt": "exclusiveMaximum"}


def _without_nulls(schema: Any) -> Any:
    """``schema`` with every ``{"type": "null"}`` alternative and ``null`` default gone,
    and bounds written in JSON Schema's words."""
    if isinstance(schema, list):
        return [_without_nulls(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    numeric = schema.get("type") in ("integer", "number")
    cleaned = {
        _BOUNDS.get(key, key) if numeric else key: _without_nulls(value)
        for key, value in schema.items()
        if not (key == "default" and value is None)
    }
    options = cleaned.get("anyOf")
    if isinstance(options, list):
        kept = [option for option in options if option != {"type": "null"}]
        if len(kept) == 1:
            del cleaned["anyOf"]
            cleaned.update(kept[0])
        else:
            cleaned["anyOf"] = kept
    return cleaned


@cache
def control_openapi_document() -> dict[str, Any]:
    text = resources.files("mock_pokee").joinpath("control-openapi.yaml").read_text("utf-8")
    document: dict[str, Any] = yaml.safe_load(text)
    _, schemas = models_json_schema(
        [(model, "validation") for model in BODIES],
        ref_template="#/components/schemas/{model}",
        by_alias=True,
    )
    written = document["components"]["schemas"]  # what the models cannot say wins
    document["components"]["schemas"] = {**_without_nulls(schemas["$defs"]), **written}
    return document


@cache
def _served(scenarios: tuple[str, ...]) -> bytes:
    """The document as this server serves it: a rule may match only the scenarios it
    loaded (and the fake model's answers)."""
    document = copy.deepcopy(control_openapi_document())
    match = document["components"]["schemas"]["Match"]["properties"]
    match["scenario"] = {**match["scenario"], "enum": list(scenarios)}
    return json.dumps(document).encode()


async def control_openapi(request: Request) -> Response:
    # R8: a response no scenario scripts runs as the fake model, which rules may match too.
    names = (*(scenario.name for scenario in context(request).scenarios), MODEL_ANSWER)
    return Response(_served(names), media_type="application/json")
