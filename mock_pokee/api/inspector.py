"""``GET /_mock/ui``: the inspector, one page that shows and steers the mock in a browser.

The page, its stylesheet and its script ship inside the package (``mock_pokee/inspector/``),
so a wheel serves them offline: no build step, no CDN. The script is a few plain ES
modules (``inspector.js`` imports the rest by relative URL, so each is one more name here):
one per view, one for the data feed, a few shared helpers. Only the names listed below are
served, each with its type; anything else is a 404, so no path reaches another file.

The page reads everything through the control plane (state, faults, clock, and the
journal's stream), never through ``/v1``, so opening it adds nothing to the journal and no
fault rule counts it. Its ``?key=`` is read by the page's script, which then acts on that
tenant alone (C2); the server only serves files. Off with ``--no-control`` (C7), like the
rest of ``/_mock``.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from starlette.requests import Request
from starlette.responses import Response

from mock_pokee.domain.errors import NotFound

FOLDER = "inspector"
PAGE = "index.html"
SCRIPT = "text/javascript; charset=utf-8"  # a module script must be served as JavaScript
MODULES = (
    "inspector.js",  # the entry: starts the page, keeps it in step with its URL fragment
    "feed.js",  # the data feed: the journal stream, /_mock/state and /_mock/faults
    "router.js",  # the URL fragment of each view: #/sessions, #/turns/<id> …
    "dom.js",  # shared helpers: elements, clock times, JSON
    "rows.js",  # windowed lists
    "tenants.js",
    "sessions.js",
    "turns.js",
    "files.js",
    "faults.js",
    "usage.js",
    "journal.js",
    "clock.js",
)
ASSETS = {
    **dict.fromkeys(MODULES, SCRIPT),
    "inspector.css": "text/css; charset=utf-8",
}

# The page runs only its own scripts (module scripts included: 'self' covers them) and
# talks only to this server: data shown in it (paths, metadata, header values) can never
# run as code, and nothing leaks a key to another site through a Referer.
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
    "connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


@cache
def _read(name: str) -> bytes:
    return resources.files("mock_pokee").joinpath(FOLDER, name).read_bytes()


async def page(request: Request) -> Response:
    return Response(_read(PAGE), media_type="text/html; charset=utf-8", headers=HEADERS)


async def asset(request: Request) -> Response:
    name = request.path_params["asset"]
    media_type = ASSETS.get(name)
    if media_type is None:
        raise NotFound(f"inspector asset {name[:100]!r}: not found; known: {', '.join(ASSETS)}")
    return Response(_read(name), media_type=media_type, headers=HEADERS)
