"""The base of every JSON body the mock reads (A5, A8): strict about what it accepts.

Unknown keys at any depth are refused, and so is an explicit ``null``: an optional field is
left out to mean "not given", so ``{"mode": null}`` or ``{"model": null}`` is a wrong type,
as the schema says, never a silent default. One rule for every body, so no model forgets it.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from mock_pokee.limits import MAX_PROBLEMS

# The error type `describe` names the null field by.
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


def json_integer(value: object) -> object:
    """An integer as JSON Schema means it: ``813`` or ``813.0``, never ``true`` or ``"813"``."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("must be an integer")
    return value


def json_number(value: object) -> object:
    """A JSON number: ``1`` or ``1.5``, never ``true``, ``"1"``, NaN or infinity."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a number")
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


# Numbers in bodies, as JSON Schema reads them (``14400.0`` is an integer) and no further:
# pydantic's lax mode would take ``true`` for 1 and ``"1"`` for 1.
JsonInt = Annotated[int, BeforeValidator(json_integer)]
JsonNumber = Annotated[float, BeforeValidator(json_number)]


def describe(exc: ValidationError) -> str:
    """One line per problem, each starting with the field's dotted path; past
    `MAX_PROBLEMS`, how many more there are."""
    problems = []
    for error in exc.errors(include_url=False, include_input=False)[:MAX_PROBLEMS]:
        where = ".".join(str(part) for part in error["loc"]) or "body"
        if error["type"] == NULL_FIELD:
            for name in error.get("ctx", {})["fields"]:
                field = f"{where}.{name}" if error["loc"] else str(name)
                problems.append(f"{field}: must not be null; leave the field out instead")
        elif error["type"] == "extra_forbidden":
            problems.append(f"{where}: unknown field")
        else:
            # A custom validator's own words, without pydantic's "Value error, " prefix.
            ctx = error.get("ctx", {})
            text = str(ctx["error"]) if error["type"] == "value_error" else error["msg"]
            problems.append(f"{where}: {text[0].lower()}{text[1:]}")
    more = exc.error_count() - MAX_PROBLEMS
    if more > 0:
        problems.append(f"and {more} more problems")
    return "; ".join(problems)
