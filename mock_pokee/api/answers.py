"""JSON answers encoded by one encoder, made once.

Starlette's ``JSONResponse`` calls ``json.dumps`` with options other than the defaults,
and ``json.dumps`` then builds a new encoder for every response: on a session poll that
is a sixth of the time spent answering. This class is Starlette's, with that one step
done by a shared encoder with the same options (UTF-8, no NaN, compact), and the headers of
an answer without headers of its own made directly.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from starlette import responses

_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))


_CONTENT_TYPE = (b"content-type", b"application/json")


class JSONResponse(responses.JSONResponse):
    def render(self, content: Any) -> bytes:
        return _ENCODER.encode(content).encode("utf-8")

    def init_headers(self, headers: Mapping[str, str] | None = None) -> None:
        """Most answers have no headers of their own: theirs are two known ones, made
        without Starlette's general pass (which looks for given ones and a charset)."""
        if headers is not None:
            super().init_headers(headers)
            return
        self.raw_headers = [(b"content-length", b"%d" % len(self.body)), _CONTENT_TYPE]
