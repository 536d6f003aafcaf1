"""Where the API is and which key to use: arguments first, then ``POKEE_API`` and
``POKEE_KEY``, as the cookbook's code reads them. Also the duration syntax of S6.

There is no default base URL: the real service gives each tenant its own (A1), so guessing
one would send a key to the wrong place.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from pokee_client.errors import ConfigurationError

_DURATION = re.compile(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")


@dataclass(frozen=True)
class Config:
    base_url: str
    api_key: str

    @classmethod
    def resolve(
        cls,
        base_url: str | None = None,
        api_key: str | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> Config:
        env = os.environ if environ is None else environ
        url = (base_url or env.get("POKEE_API") or "").strip()
        key = (api_key or env.get("POKEE_KEY") or "").strip()
        if not key:
            raise ConfigurationError("no API key: set POKEE_KEY (or pass --key, or api_key=)")
        if not url:
            raise ConfigurationError("no API base URL: set POKEE_API (or pass --api, or base_url=)")
        if not url.startswith(("http://", "https://")):
            raise ConfigurationError(f"API base URL {url!r}: must start with http:// or https://")
        return cls(base_url=url.rstrip("/"), api_key=key)


def parse_duration(text: str) -> int:
    """Seconds in S6's syntax: ``90s``, ``5m``, ``1h30m``, ``4h``, or a bare integer."""
    value = text.strip()
    if value.isdigit():
        return int(value)
    match = _DURATION.fullmatch(value)
    if not value or match is None:
        raise ValueError(f"{text!r} is not a duration like 90s, 5m, 1h30m or 4h")
    hours, minutes, seconds = (int(part or 0) for part in match.groups())
    return hours * 3600 + minutes * 60 + seconds
