"""Where the contract tests send their requests, and with which key."""

from __future__ import annotations

import os
import secrets
import ssl
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import httpx

from .cleanup import LEDGER
from .observed import observe

TIMEOUT = httpx.Timeout(10.0)
# Scenarios of the suite's own (the over-time turn of M10), loaded by the in-process mock.
OWN_SCENARIOS = Path(__file__).parent / "scenarios"


@dataclass(frozen=True)
class Target:
    url: str
    key: str | None  # None on the mock: each test makes its own tenant
    is_mock: bool


def external_target() -> Target | None:
    url = os.environ.get("POKEE_API")
    if not url:
        return None
    return Target(url=url.rstrip("/"), key=os.environ.get("POKEE_KEY", ""), is_mock=False)


def new_key() -> str:
    """A key of a tenant no other test uses (A3 shape)."""
    return f"pk_t{secrets.token_hex(6)}_contract"


@cache
def tls() -> ssl.SSLContext:
    """One TLS context for every client: building one (the CA bundle) costs some 40 ms,
    and the suite makes a few clients per test."""
    return httpx.create_ssl_context()


def client_for(target: Target, key: str | None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {key}"} if key is not None else {}
    hooks = {"response": [LEDGER.record, observe] if target.is_mock else [LEDGER.record]}
    return httpx.Client(
        base_url=target.url, headers=headers, timeout=TIMEOUT, event_hooks=hooks, verify=tls()
    )
