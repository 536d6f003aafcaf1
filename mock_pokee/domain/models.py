"""The model catalog (contract S1a) and each model's per-token rates (U2).

A session's ``model`` is locked at create and must be one the mock knows: the two
documented backends, plus any the server was started with (``--model NAME``). A session
created without one runs on the default, `DEFAULT_MODEL`, and is billed at its rates; its
record leaves ``model`` out, as S2 says ("``model`` when given").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from mock_pokee.domain.errors import InvalidRequest
from mock_pokee.domain.text import shown

DEFAULT_MODEL = "pokee-isaac-high-reasoning"


@dataclass(frozen=True, slots=True)
class Rates:
    """Dollars per million tokens (U2): input, output, and input read from the prompt
    cache (None: billed as input)."""

    input_per_million: float
    output_per_million: float
    cache_read_per_million: float | None = None

    def cost(self, usage: Mapping[str, int]) -> float:
        """A turn's ``usage``: ``input_tokens`` and ``output_tokens``, and
        ``cache_read_input_tokens`` counted apart from ``input_tokens`` when given."""
        cached_rate = self.cache_read_per_million
        cached = usage.get("cache_read_input_tokens", 0)
        return (
            usage.get("input_tokens", 0) * self.input_per_million
            + cached * (self.input_per_million if cached_rate is None else cached_rate)
            + usage.get("output_tokens", 0) * self.output_per_million
        ) / 1_000_000


DOCUMENTED: Mapping[str, Rates] = {
    "pokee-isaac-high-reasoning": Rates(3.0, 15.0, 0.30),
    "pokee-isaac": Rates(0.30, 5.0, 0.10),
}


class ModelCatalog:
    """The models sessions may choose, with their rates. Extra models (a tenant's own
    backends) are billed at the given rates, or the default model's."""

    def __init__(self, extra: Iterable[tuple[str, Rates | None]] = ()):
        self._rates = dict(DOCUMENTED)
        for name, rates in extra:
            self._rates[name] = rates or DOCUMENTED[DEFAULT_MODEL]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._rates)

    def check(self, model: str | None) -> str | None:
        """S1a [C]: the model as given, or `InvalidRequest` naming an unknown one."""
        if model is not None and model not in self._rates:
            raise InvalidRequest(
                f"model: unknown model {shown(model)}; known: {', '.join(self._rates)}"
            )
        return model

    def rates(self, model: str | None) -> Rates:
        """The rates a session's turns are billed at (the default model's when none)."""
        return self._rates[model or DEFAULT_MODEL]
