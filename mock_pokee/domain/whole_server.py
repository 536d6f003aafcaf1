"""Who may act on the whole server (C2): a control request without a tenant's key.

A keyless control request reads every tenant's state and can fault, reset or move the
clock of every tenant, so it is guarded twice:

- **Host.** A web page on another site can reach a server on the user's machine by DNS
  rebinding: its own name, re-pointed at 127.0.0.1, is then the ``Host`` of its
  requests. Only a ``Host`` that cannot be rebound to the mock by someone else is
  accepted: an IP address, ``localhost`` (and ``*.localhost``), or a name the user allowed
  (``--allow-host``), as development servers check it.
- **A key list.** On a server started with ``--keys``, requests must prove who they are,
  so the whole server needs a credential of its own: the admin key (``--admin-key``),
  sent as any key is (``Authorization: Bearer <admin key>``). Without an admin key such a
  server refuses keyless control. Without ``--keys`` (offline development, any key
  accepted) no key is needed, as before.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from mock_pokee.domain.errors import InvalidRequest, Unauthorized


def _hostname(host: str) -> str:
    """``Host`` without its port: ``[::1]:8000`` → ``::1``, ``a.b:80`` → ``a.b``."""
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class WholeServerPolicy:
    keys_required: bool = False  # the server was started with a key list (--keys)
    admin_key: str | None = None
    allowed_hosts: frozenset[str] = frozenset()  # lower case, without ports

    def is_admin(self, key: str) -> bool:
        return self.admin_key is not None and key == self.admin_key

    def check(self, host: str | None, *, admin: bool) -> None:
        """Refuse a whole-server request from an untrusted ``Host``, or without the admin
        key where a key list is in force."""
        name = _hostname(host or "").lower().rstrip(".")
        trusted = (
            _is_ip(name)
            or name == "localhost"
            or name.endswith(".localhost")
            or name in self.allowed_hosts
        )
        if not trusted:
            raise InvalidRequest(
                f"Host: {host!r} may not act on the whole server (a keyless control "
                "request); use a tenant's key, or start the mock with --allow-host "
                f"{name or 'NAME'}"
            )
        if self.keys_required and not admin:
            hint = "" if self.admin_key else "; start it with --admin-key to allow them"
            raise Unauthorized(
                "Authorization: this server accepts only listed keys, so acting on the "
                f"whole server needs its admin key{hint}"
            )
