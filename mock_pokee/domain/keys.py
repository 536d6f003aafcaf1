"""API keys and the tenants they name (contract A2, A3).

A key shaped ``pk_<tenant>_<token>`` belongs to ``<tenant>`` (letters, digits and ``-``, at
most `MAX_TENANT` of them); any other key is a tenant of its own, named ``key_<hash>`` so
that the key itself never shows in state or logs. The ``_`` in that name is one no shaped
key can spell, so a key can never reach another key's tenant by spelling its name.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from mock_pokee.domain.errors import Unauthorized
from mock_pokee.limits import MAX_KEY, MAX_TENANT

_BEARER = re.compile(r"Bearer ([^\s]+)", re.IGNORECASE)
_SHAPED_KEY = re.compile(r"pk_([A-Za-z0-9-]+)_(.+)")


def tenant_of(key: str) -> str:
    match = _SHAPED_KEY.fullmatch(key)
    if match is None:
        return "key_" + hashlib.sha256(key.encode()).hexdigest()[:12]
    tenant = match.group(1)
    if len(tenant) > MAX_TENANT:
        raise Unauthorized(
            f"Authorization: the tenant name in pk_<tenant>_<token> is at most {MAX_TENANT} "
            f"characters, not {len(tenant)}"
        )
    return tenant


def mask(key: str) -> str:
    """A key as it may be shown: its tenant part, and the last four characters of its
    secret part only when that part is long enough (12+) for four to give nothing away."""
    match = _SHAPED_KEY.fullmatch(key)
    prefix, secret = (f"pk_{match.group(1)}_", match.group(2)) if match else ("", key)
    return f"{prefix}…{secret[-4:]}" if len(secret) >= 12 else f"{prefix}…"


def mask_authorization(header: str) -> str:
    """An Authorization header as the journal shows it (C4): the key masked."""
    match = _BEARER.fullmatch(header.strip())
    if match is None:
        return "…" if header else ""
    return f"Bearer {mask(match.group(1))}"


@dataclass(frozen=True)
class KeyPolicy:
    """Which keys are accepted: any non-empty key (the default), or only a listed few."""

    allowed: frozenset[str] | None = None

    def key_from_header(self, header: str | None, *, listed_only: bool = True) -> str:
        """The key of an ``Authorization`` header, or `Unauthorized` naming what is wrong;
        with ``listed_only`` false, a well-formed key not on the list too (the admin
        key's check)."""
        if header is None:
            raise Unauthorized("Authorization: header is missing; send 'Bearer <key>'")
        match = _BEARER.fullmatch(header.strip())
        if match is None:
            raise Unauthorized("Authorization: malformed; expected 'Bearer <key>'")
        key = match.group(1)
        if len(key) > MAX_KEY:
            raise Unauthorized(f"Authorization: a key is at most {MAX_KEY} characters")
        if listed_only and self.allowed is not None and key not in self.allowed:
            raise Unauthorized(f"Authorization: key {mask(key)} is not accepted by this server")
        return key


def read_keys_file(text: str) -> frozenset[str]:
    """One key per line; blank lines and ``#`` comments are ignored."""
    lines = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return frozenset(line for line in lines if line)
