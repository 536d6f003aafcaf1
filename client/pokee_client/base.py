"""What both clients share: the request builder, the retry policy, the polling pace, and the
limits and deadlines that keep a hostile server from costing unbounded memory or time.

This is the client's half of httpx's ``BaseClient``: everything that decides, nothing that
waits. `pokee_client.sync.PokeeClient` and `pokee_client.aio.AsyncPokeeClient` each hold
one and drive its flows.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from pokee_client.config import Config
from pokee_client.limits import Limits
from pokee_client.requests import RequestBuilder
from pokee_client.retrying import RetryPolicy

DEFAULT_TIMEOUT = 30.0
# Three missed pings (M3: one per 15 s of silence) before a stream counts as stalled.
DEFAULT_STREAM_READ_TIMEOUT = 45.0
DEFAULT_POLL_INTERVAL = 5.0  # S4 polling when a stream cannot be resumed
MAX_POLL = 7200.0  # M10 ends any turn after 90 minutes; this is a bound with room to spare


@dataclass(frozen=True)
class ClientCore:
    """``timeout`` bounds each network wait and also the whole of an answer read in one
    piece; ``stream_read_timeout`` how long a stream may go without a new event (pings do
    not count). Deadlines are measured on ``clock``, in real seconds: the network's time,
    whatever ``sleep`` the client was given."""

    requests: RequestBuilder
    policy: RetryPolicy
    poll_interval: float
    watch_interval: float  # real seconds between metadata polls while `run` streams
    timeout: float
    stream_read_timeout: float
    limits: Limits = field(default_factory=Limits)
    clock: Callable[[], float] = time.monotonic

    @classmethod
    def create(
        cls,
        base_url: str | None,
        api_key: str | None,
        *,
        timeout: float,
        stream_read_timeout: float,
        retry: RetryPolicy | None,
        poll_interval: float,
        watch_interval: float,
        headers: Mapping[str, str] | None,
        limits: Limits | None,
    ) -> ClientCore:
        return cls(
            requests=RequestBuilder(
                Config.resolve(base_url, api_key),
                timeout=timeout,
                stream_read_timeout=stream_read_timeout,
                headers=headers,
            ),
            policy=retry or RetryPolicy(),
            poll_interval=poll_interval,
            watch_interval=watch_interval,
            timeout=timeout,
            stream_read_timeout=stream_read_timeout,
            limits=limits or Limits(),
        )
