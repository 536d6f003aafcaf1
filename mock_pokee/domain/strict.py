"""The base of every JSON body the mock reads (A5, A8): strict about what it accepts.

Unknown keys at any depth are refused, and so is an explicit ``null``: an optional field is
left out to mean "not given", so ``{"mode": null}`` or ``{"model": null}`` is a wrong type,
as the schema says, never a silent default. One rule for every body, so no model forgets it.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator
from pydantic_core import PydanticCustomError

# The error type `mock_pokee.api.bodies.describe` names the null field by.
NULL_FIELD = "null_field"


class StrictBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _no_nulls(cls, data: Any) -> Any:
        if isinstance(data, dict):
            nulls = [key for key, value in data.items() if value is None]
            if nulls:
                raise PydanticCustomError(
                    NULL_FIELD,
                    "must not be null; leave the field out instead",
                    {"fields": nulls},
                )
        return data
