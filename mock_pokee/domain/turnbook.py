"""A tenant's turns: the rules of every run's book (`RunBook`), plus which turn runs in
which session (M2: one at a time)."""

from __future__ import annotations

from mock_pokee.clock import Clock
from mock_pokee.domain.runbook import RunBook
from mock_pokee.domain.turns import Turn


class TurnBook(RunBook[Turn]):
    def __init__(self, clock: Clock):
        super().__init__(clock, "turn", "turn_timeout")  # M10
        self._in_session: dict[str, Turn] = {}  # session id → its running turn

    def running(self, session_id: str) -> Turn | None:
        return self._in_session.get(session_id)

    def get(self, session_id: str, response_id: str) -> Turn:
        """M7/M8: a turn of this session that is running or still retained."""
        return self.find(response_id, session_id)

    def add(self, run: Turn, key: str | None, body_hash: str) -> None:
        super().add(run, key, body_hash)
        self._in_session[run.session_id] = run

    def finished(self, run: Turn) -> None:
        self._in_session.pop(run.session_id, None)
        super().finished(run)

    def clear(self) -> None:
        super().clear()
        self._in_session.clear()
