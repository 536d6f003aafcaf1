"""Caller-given values in error messages, and text the mock can store and serve.

An error message quotes what was wrong, but a 1 MiB name must not come back as a 1 MiB
message, and a lone surrogate (``"\\ud800"``, legal in JSON text, not in UTF-8) must not
reach a response it would break. Text is quoted by `mock_pokee.domain.paths.quoted` (the
one place for that); `shown` extends it to any JSON value. `is_unicode` tells whether text
can be encoded as UTF-8 at all.
"""

from __future__ import annotations

from mock_pokee.domain.paths import quoted

SHOWN_CHARS = 80


def shown(value: object) -> str:
    """Any JSON value quoted for a message, cut short."""
    if isinstance(value, str):
        return quoted(value)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**SHOWN_CHARS:
        return f"a number of {len(str(abs(value)))} digits"
    text = repr(value)
    return text if len(text) <= SHOWN_CHARS else f"{text[:SHOWN_CHARS]}…"


def is_unicode(text: str) -> bool:
    """False for text holding a lone surrogate, which no UTF-8 response can carry."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
