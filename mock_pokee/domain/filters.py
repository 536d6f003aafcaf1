"""The bulk-delete filters of S6: ``status`` and ``older_than``.

Strict on purpose: a cleanup filter that is misread deletes too much, so anything that is
not exactly one of the documented forms is refused, naming the parameter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, get_args

from mock_pokee.domain.errors import InvalidRequest
from mock_pokee.domain.inputs import shown, whole_number
from mock_pokee.domain.sessions import Session

StatusFilter = Literal["idle", "busy", "any"]
STATUS_FILTERS: tuple[StatusFilter, ...] = get_args(StatusFilter)

# `<n>h`, `<n>m`, `<n>s`, each optional but in that order, at least one present;
# or a bare integer, meaning seconds.
_DURATION = re.compile(r"(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m)?(?:(?P<s>\d+)s)?", re.ASCII)
_BARE_SECONDS = re.compile(r"\d+", re.ASCII)


def parse_older_than(text: str) -> int:
    """``90s``, ``5m``, ``1h30m``, ``2h`` or ``5400`` → seconds."""
    if _BARE_SECONDS.fullmatch(text):
        return whole_number(text, "older_than")
    match = _DURATION.fullmatch(text)
    if not text or match is None:
        raise InvalidRequest(
            f"older_than: {shown(text)} is not a duration; write it as <n>h<n>m<n>s in that "
            "order (90s, 5m, 1h30m, 2h) or as whole seconds (5400)"
        )
    hours, minutes, seconds = (whole_number(match.group(g) or "0", "older_than") for g in "hms")
    return hours * 3600 + minutes * 60 + seconds


def parse_status(text: str) -> StatusFilter:
    for status in STATUS_FILTERS:
        if text == status:
            return status
    raise InvalidRequest(f"status: must be one of {', '.join(STATUS_FILTERS)}, not {shown(text)}")


@dataclass(frozen=True)
class SessionFilter:
    """Which sessions a bulk delete selects. At least one filter must be given (S6 [C])."""

    status: StatusFilter | None = None
    older_than: int | None = None

    @classmethod
    def parse(cls, status: str | None, older_than: str | None) -> SessionFilter:
        if status is None and older_than is None:
            raise InvalidRequest(
                "status, older_than: a bulk delete needs at least one filter "
                "(e.g. ?status=idle&older_than=1h); use status=any to mean every session"
            )
        return cls(
            status=None if status is None else parse_status(status),
            older_than=None if older_than is None else parse_older_than(older_than),
        )

    def describe(self) -> dict[str, object]:
        """The filter as given, for the journal (C4): which cleanup deleted a session."""
        given = (("status", self.status), ("older_than", self.older_than))
        return {name: value for name, value in given if value is not None}

    def matches(self, session: Session, now: float) -> bool:
        if self.status == "idle" and session.busy:
            return False
        if self.status == "busy" and not session.busy:
            return False
        return self.older_than is None or session.idle_for(now) >= self.older_than
