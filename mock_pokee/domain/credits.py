"""Credits per tenant (contract U2): a balance in dollars, debited by each ended turn.

A turn that ends, completed or with an error, is billed for its ``usage`` at its
session's model's rates; a cancelled turn is free. In ``soft`` mode debits are only
recorded (the balance may go negative); in ``hard`` mode a turn is refused with 402 while
the balance is below the per-turn minimum. With ``enabled`` false nothing is billed or
refused. The balance is reported unrounded, as the arithmetic leaves it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Literal

from mock_pokee.domain.errors import PaymentRequired
from mock_pokee.domain.models import Rates
from mock_pokee.domain.text import shown

CreditMode = Literal["soft", "hard"]
CREDIT_MODES: tuple[CreditMode, ...] = ("soft", "hard")
START_BALANCE = 100_000.0
MIN_TURN_BALANCE = 1.0  # U2 [C]: the per-turn minimum of hard mode
MAX_BALANCE = 1e12  # beyond any real account; keeps the arithmetic exact enough


@dataclass(frozen=True, slots=True)
class CreditTerms:
    """What a tenant's credits are set to: at start, and by ``PUT /_mock/credits``."""

    enabled: bool = True
    mode: CreditMode = "soft"
    balance: float = START_BALANCE

    def updated(
        self, enabled: bool | None, mode: CreditMode | None, balance: float | None
    ) -> CreditTerms:
        """These terms with the given fields changed (None: unchanged)."""
        return replace(
            self,
            enabled=self.enabled if enabled is None else enabled,
            mode=self.mode if mode is None else mode,
            balance=self.balance if balance is None else balance,
        )

    def report(self) -> dict[str, Any]:
        """U1's ``credits``: the balance unrounded."""
        return {"enabled": self.enabled, "mode": self.mode, "balance": self.balance}


def check_balance(value: float) -> float:
    """A balance as a start option or ``PUT /_mock/credits`` may set it (ValueError if not)."""
    try:
        number = float(value)
    except OverflowError:  # an integer of hundreds of digits
        number = math.inf
    if math.isnan(number) or number < 0:
        raise ValueError(f"must be a number of dollars, at least 0, not {shown(value)}")
    if number > MAX_BALANCE:
        raise ValueError(f"must be at most {MAX_BALANCE:.0f} dollars, not {shown(value)}")
    return number


class CreditLedger:
    """One tenant's credits."""

    def __init__(self, terms: CreditTerms):
        self.terms = terms
        self.spent = 0.0  # dollars debited since the start (or the last reset)
        self.debits = 0

    def set(
        self,
        enabled: bool | None = None,
        mode: CreditMode | None = None,
        balance: float | None = None,
    ) -> None:
        self.terms = self.terms.updated(enabled, mode, balance)

    def check_turn(self) -> None:
        """U2: in hard mode, `PaymentRequired` while the balance is below the minimum."""
        terms = self.terms
        if terms.enabled and terms.mode == "hard" and terms.balance < MIN_TURN_BALANCE:
            raise PaymentRequired(
                f"credits: the balance ({terms.balance}) is below the per-turn minimum of "
                f"{MIN_TURN_BALANCE:.2f} (hard mode); add credits or switch to soft mode"
            )

    def debit(self, usage: dict[str, int], rates: Rates) -> float:
        """Bill an ended turn's ``usage``; returns the amount (0 when disabled)."""
        if not self.terms.enabled:
            return 0.0
        amount = rates.cost(usage)
        self.terms = replace(self.terms, balance=self.terms.balance - amount)
        self.spent += amount
        self.debits += 1
        return amount

    def report(self) -> dict[str, Any]:
        """U1's ``credits``."""
        return self.terms.report()

    def describe(self) -> dict[str, Any]:
        """For ``GET /_mock/state`` (C3): the report, and what has been debited."""
        return {**self.report(), "spent": self.spent, "debits": self.debits}
