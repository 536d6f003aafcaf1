"""The bodies the control plane reads (C1 clock, U2 credits); C5's fault rules are
`mock_pokee.domain.faults.RuleSpec`.

The ranges of numbers are checked by the clock and the credit ledger, with their own
messages; ``Field(json_schema_extra=…)`` only writes them into the control plane's
OpenAPI document (`mock_pokee.api.control_openapi`), so a client generated from it knows.
"""

from __future__ import annotations

from typing import Annotated, TypeAlias

from pydantic import BeforeValidator, Field, StrictBool, StrictFloat, StrictInt, field_validator

from mock_pokee.clock import ClockMode
from mock_pokee.domain.credits import MAX_BALANCE, CreditMode, check_balance
from mock_pokee.domain.strict import StrictBody, json_number
from mock_pokee.limits import MAX_SCALE, MAX_TIME

# A JSON number as JSON Schema reads it (never ``true`` or ``"1"``), refused as "must be a
# number" under the field's own name; an integer stays one, so answers echo it as sent.
Number: TypeAlias = Annotated[StrictInt | StrictFloat, BeforeValidator(json_number)]


class ClockUpdate(StrictBody):
    """``PUT /_mock/clock``: any of mode, scale, now (their ranges: `Clock.validate`)."""

    mode: ClockMode | None = None
    scale: Number | None = Field(
        None, json_schema_extra={"exclusiveMinimum": 0, "maximum": MAX_SCALE}
    )
    now: Number | None = Field(None, json_schema_extra={"minimum": 0, "maximum": MAX_TIME})


class ClockAdvance(StrictBody):
    """``POST /_mock/clock/advance`` (its range: `Clock.check_advance`)."""

    # At most to the clock's end (9999-12-31), which depends on where the clock is.
    seconds: Number = Field(json_schema_extra={"minimum": 0})


class CreditsUpdate(StrictBody):
    """``PUT /_mock/credits``: any of enabled, mode, balance (U2)."""

    enabled: StrictBool | None = None
    mode: CreditMode | None = None
    balance: Number | None = Field(None, json_schema_extra={"minimum": 0, "maximum": MAX_BALANCE})

    @field_validator("balance")
    @classmethod
    def _balance(cls, value: float | None) -> float | None:
        return None if value is None else check_balance(value)
