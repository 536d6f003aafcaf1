"""Every option of the mock in one frozen value; the CLI and the test server only fill it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from mock_pokee.clock import ClockMode
from mock_pokee.domain.credits import CreditTerms
from mock_pokee.domain.models import Rates
from mock_pokee.domain.usage import Limits
from mock_pokee.limits import (
    BODY_TIMEOUT,
    HEADER_TIMEOUT,
    JOURNAL_SIZE,
    UPLOAD_LIMIT,
    WORKSPACE_LIMIT,
)


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    clock_mode: ClockMode = "real"
    clock_scale: float = 1.0
    # None: any non-empty key is accepted (A3); otherwise only these.
    keys: frozenset[str] | None = None
    # C2: the credential of keyless (whole-server) control with a key list, and the Host
    # names besides IP addresses and localhost that may send keyless control requests.
    admin_key: str | None = None
    allowed_hosts: tuple[str, ...] = ()
    max_sessions: int = 10  # S9, per tenant
    control: bool = True  # C7: the /_mock control plane
    scenario_folders: tuple[Path, ...] = ()  # user scenarios, tried before the built-ins
    workspace: Path | None = None  # None: a temporary folder, removed at exit (F1)
    upload_limit: int = UPLOAD_LIMIT  # F3: 100 MiB
    workspace_limit: int = WORKSPACE_LIMIT  # F9: 100 GB a tenant
    journal_size: int = JOURNAL_SIZE  # C4: entries kept per tenant
    request_log: bool = False  # one line per request on stdout (`serve` without --quiet)
    # S1a: models beyond the documented two, each with its rates (None: the default's).
    models: tuple[tuple[str, Rates | None], ...] = ()
    limits: Limits = field(default_factory=Limits)  # U1, M11: per tenant
    credits: CreditTerms = field(default_factory=CreditTerms)  # U2: what tenants start with
    # Wall-time bounds (seconds) on slow clients: sending a request head, staying idle
    # between requests, and holding open connections while the server stops (uvicorn
    # takes the last two in whole seconds).
    header_timeout: float = HEADER_TIMEOUT
    body_timeout: float = BODY_TIMEOUT  # an upload's body with no byte for this long is given up
    keep_alive_timeout: int = 5
    shutdown_timeout: int = 3
