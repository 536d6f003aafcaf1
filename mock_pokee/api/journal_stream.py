"""``GET /_mock/journal/stream`` (C4, live): the journal's entries as Server-Sent Events,
sent as they are recorded; what the inspector page follows.

It takes the filters of ``GET /_mock/journal``, and starts after ``since`` (or the
``Last-Event-ID`` a reconnecting EventSource sends), so it first sends what is already
kept, then follows. Each entry is one event: ``id`` is its ``seq``, ``event`` is
``entry``, ``data`` the entry as ``GET /_mock/journal`` shows it at that moment: a
request is sent when its answer starts, so its ``duration_ms`` and ``outcome`` are not
final yet, and an event as it is recorded, before any client could hear it (``heard``);
``GET /_mock/journal`` shows them settled. An ``event: gap`` says entries after
``data.after`` were dropped for room before they could be sent. With a key it follows
that tenant; without one, every tenant and the server (C2).

The stream waits on the journals' shared `Followers`: recording wakes it, and a server
with no stream open pays nothing for this. Keep-alive comments go every 15 s of real time
(this is the control plane's connection, not a turn on the mock's clock).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable

from sse_starlette import EventSourceResponse
from starlette.requests import Request
from starlette.responses import Response

from mock_pokee.api.context import context, optional_tenant_for, params
from mock_pokee.domain.errors import InvalidRequest
from mock_pokee.domain.journal import Feed, Follower, Followers, Journal, JournalQuery
from mock_pokee.domain.tenants import Tenant, TenantRegistry

KEEP_ALIVE = 15  # real seconds between comments while nothing is recorded


async def stream(request: Request) -> Response:
    tenant = optional_tenant_for(request)
    given = dict(params(request))
    if (last := request.headers.get("last-event-id")) is not None:  # checked even if unused
        if not (last.isascii() and last.isdigit() and len(last) <= 18):
            raise InvalidRequest(f"Last-Event-ID: must be an entry's seq, not {last!r}")
        given.setdefault("since", last)  # ?since= wins over a reconnecting client's header
    query = JournalQuery.parse(given)
    tenants = context(request).tenants
    if tenant is None:
        follower = Follower(lambda: _everyone(tenants), query, keyless=True, feed=tenants.feed)
        place: Callable[[], Followers] = lambda: tenants.feed.followers  # noqa: E731
    else:
        follower = Follower(lambda: _one(tenants, tenant), query, keyless=False)
        place = lambda: _followers_of(tenants, tenant)  # noqa: E731
    return EventSourceResponse(
        _frames(follower, place, tenants.feed),
        ping=KEEP_ALIVE,
        sep="\n",
        headers={"Cache-Control": "no-store"},
    )


def _everyone(tenants: TenantRegistry) -> list[tuple[str | None, Journal]]:
    return [(None, tenants.journal), *((t.id, t.journal) for t in tenants)]


def _one(tenants: TenantRegistry, tenant: Tenant) -> list[tuple[str | None, Journal]]:
    """The tenant's journal; after a server-wide reset, that of the tenant its key makes
    next (none until then)."""
    current = tenants.find(tenant.id)
    return [] if current is None else [(tenant.id, current.journal)]


def _followers_of(tenants: TenantRegistry, tenant: Tenant) -> Followers:
    """Whom a tenant's stream waits with: its tenant's journal's readers; after a
    server-wide reset, until the key makes its tenant again, the whole server's."""
    current = tenants.find(tenant.id)
    return tenants.feed.followers if current is None else current.journal.followers


async def _frames(
    follower: Follower, place: Callable[[], Followers], feed: Feed
) -> AsyncIterator[bytes]:
    """Woken only by entries of the journals it follows (a tenant's stream by its
    tenant's, a keyless one by the feed of every journal)."""
    woken = asyncio.Event()
    followers = place()
    followers.add(woken)  # before the first read: nothing recorded after it is missed
    try:
        while True:
            woken.clear()  # before reading: whatever is recorded after wakes the wait
            before = follower.position
            entries, missed = follower.read()
            if missed:
                yield f"event: gap\ndata: {json.dumps({'after': before})}\n\n".encode()
            if entries:
                yield "".join(
                    f"id: {seq}\nevent: entry\ndata: {json.dumps(entry)}\n\n"
                    for seq, entry in entries
                ).encode()
                continue
            await woken.wait()
            if (now := place()) is not followers:  # a reset replaced the tenant
                _leave(followers, woken, feed)
                followers = now
                followers.add(woken)
    finally:
        _leave(followers, woken, feed)


def _leave(followers: Followers, woken: asyncio.Event, feed: Feed) -> None:
    if followers is feed.followers:
        feed.leave(woken)
    else:
        followers.discard(woken)
