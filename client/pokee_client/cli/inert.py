"""Text from the server made safe to show on a terminal: the one place that decides which
characters a terminal would act on, for plain lines, the live display and JSON alike.

A terminal obeys what it is sent: ESC starts sequences that move the cursor, clear the
screen, set the window title or write to the clipboard; CR and BS overwrite what is shown;
C1 codes (U+0080–U+009F) are the same controls in one byte for some terminals (U+009B is
CSI); bidirectional overrides and line separators rearrange or split what is read. The
server's text (ids, names, metadata, events, error messages) must reach the user as text,
so every such character is shown as its escape instead (ESC as ``\\x1b``, U+202E as
``\\u202e``). Newlines are kept only where the text is meant to have lines (the answer of a
turn); an error message stays on its one line.
"""

from __future__ import annotations

import re

_LINE_BREAKERS = "\u2028\u2029"  # line and paragraph separators
_BIDI = "\u202a-\u202e\u2066-\u2069"  # embeddings, overrides and isolates
# C0 but tab, DEL and C1, and the above; newline too, unless the text may have lines.
_IN_LINE = re.compile(f"[\x00-\x08\x0a-\x1f\x7f-\x9f{_LINE_BREAKERS}{_BIDI}]")
_IN_TEXT = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_LINE_BREAKERS}{_BIDI}]")
# What json.dumps(ensure_ascii=False) leaves raw: it escapes only U+0000–U+001F itself.
_IN_JSON = re.compile(f"[\x7f-\x9f{_LINE_BREAKERS}{_BIDI}]")


def printable(text: str, *, lines: bool = False) -> str:
    """``text`` with every character a terminal would act on shown as its escape;
    ``lines`` keeps newlines (a CR LF counts as one)."""
    if lines:
        return _IN_TEXT.sub(_escape, text.replace("\r\n", "\n"))
    return _IN_LINE.sub(_escape, text)


def inert_json(document: str) -> str:
    """A JSON text (from json.dumps) with the same characters written as ``\\uXXXX``: the
    same JSON value, nothing for a terminal to act on. They can only stand inside strings,
    where the escape means the same character."""
    return _IN_JSON.sub(lambda match: f"\\u{ord(match.group()):04x}", document)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"
