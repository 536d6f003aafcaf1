"""What the recording proxy saw of one turn or one response, before it becomes steps.

The proxy fills these as the answer passes through it; `mock_pokee.recording.steps`
turns a finished capture into scenario steps. Times are seconds on the proxy's own
monotonic clock (``time.monotonic()``), measured when the bytes arrived from the upstream.
Nothing here holds a key or a header.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

Json = dict[str, Any]


@dataclass(frozen=True)
class Seen:
    """One event as it arrived: its type, its data (parsed JSON), and when."""

    at: float
    type: str
    data: Json


@dataclass(frozen=True)
class Sample:
    """The session's metadata as one poll of ``GET /v1/sessions/{id}`` found it."""

    at: float
    metadata: Json


@dataclass(frozen=True)
class CapturedFile:
    """A file the turn created or changed in the workspace (F4 listing before and after).

    ``data`` is None when the file was larger than the recorder's fixture limit (it is
    then generated of ``size`` bytes on replay) or could not be downloaded."""

    path: str
    size: int
    data: bytes | None


@dataclass
class TurnCapture:
    """A session turn (``POST /v1/sessions/{id}/messages``) from its request to its end."""

    session_id: str
    message: str
    started_at: float  # when the request was sent upstream
    response_id: str = ""
    events: list[Seen] = field(default_factory=list)
    # Indexes into ``events`` after which the upstream closed the stream without a
    # terminal event (a server-side drop, M5): the recorder resumed (M7) from there.
    drops: list[int] = field(default_factory=list)
    metadata_before: Json = field(default_factory=dict)
    samples: list[Sample] = field(default_factory=list)
    files: list[CapturedFile] = field(default_factory=list)
    poll_interval: float = 1.0
    complete: bool = False  # a terminal event was seen
    left_out: int = 0  # events past `MAX_RECORDED_EVENTS`, seen but not kept


@dataclass
class ResponseCapture:
    """One ``POST /v1/responses`` call: its request body and what came back — the stream's
    events, or for ``stream: false`` the response object alone (``answer``)."""

    request: Json
    started_at: float
    events: list[Seen] = field(default_factory=list)
    drops: list[int] = field(default_factory=list)
    answer: Json | None = None
    answered_at: float = 0.0
    complete: bool = False
    left_out: int = 0  # events past `MAX_RECORDED_EVENTS`, seen but not kept


class Sink(Protocol):
    """Where the proxy hands what it saw (`mock_pokee.recording.writer.RecordingFolder`).

    The proxy calls these off the event loop (``asyncio.to_thread``): they may write files.
    """

    def secret(self, value: str) -> None:
        """A key the proxy saw or was given: never to be written anywhere."""

    def answer(self, method: str, path: str, status: int, body: Any) -> None:
        """Every proxied answer: its status, and its body parsed when it was JSON of a
        bounded size (else None). The drift report checks them against the contract."""

    def turn(self, capture: TurnCapture) -> None:
        """A turn that ended (or that the proxy gave up on: ``complete`` False)."""

    def response(self, capture: ResponseCapture) -> None:
        """A ``POST /v1/responses`` call that ended (or was given up on)."""
