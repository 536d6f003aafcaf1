"""Server-sent events from raw bytes, with a bound on the size of each: the one reader both
clients use (the flow in `pokee_client.turns` feeds it what the drivers read).

httpx-sse parses the fields (its ``SSEDecoder``: ``id``, ``event``, ``data``, comments, what
an empty line dispatches), but it reads lines without a bound: an event that never ends,
or one of gigabytes, is held whole in memory. So the lines reach it through this reader,
which splits the bytes itself (on CR LF, LF or CR, as the standard says) and counts the
bytes of the event being read; past ``max_size`` it raises instead of reading on. What it
holds is bounded by the limit plus one chunk of the network's.

Splitting bytes rather than text is safe: CR and LF never occur inside a UTF-8 sequence,
so each line is decoded whole (undecodable bytes become U+FFFD, as the standard says).
``SSEDecoder`` is not among httpx-sse's exported names, so its import below is the one
place that depends on that package's layout.
"""

from __future__ import annotations

from httpx_sse import ServerSentEvent
from httpx_sse._decoders import SSEDecoder

from pokee_client.errors import ProtocolError
from pokee_client.limits import size_text


class EventReader:
    """Feed it the body's bytes as they arrive; it returns each event as it completes."""

    def __init__(self, max_size: int):
        self._max = max_size
        self._decoder = SSEDecoder()
        self._partial: list[bytes] = []  # the line being read, in the pieces that came
        self._size = 0  # bytes of the current event so far, its unfinished line included
        self._cr = False  # the last chunk ended in CR: a LF first in the next is its pair
        self.comments = 0  # comment lines read (M3's keep-alive pings): signs of life

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """A CR ends its line at once, even as a chunk's last byte (a stream of CR-only
        line ends that pauses there has its event now); an LF that then opens the next
        chunk is that CR's pair, not an empty line."""
        if not chunk:
            return []
        if self._cr and chunk.startswith(b"\n"):
            chunk = chunk[1:]
        self._cr = chunk.endswith(b"\r")
        if b"\r" in chunk:
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        lines = chunk.split(b"\n")
        tail = lines.pop()  # unfinished (empty if the chunk ended a line)
        size, limit = self._size, self._max
        if lines and self._partial:  # the first line began in an earlier chunk
            if size + len(lines[0]) + 1 > limit:
                raise self._too_large()
            size -= sum(map(len, self._partial))  # counted again whole, below
            lines[0] = b"".join((*self._partial, lines[0]))
            self._partial.clear()
        events: list[ServerSentEvent] = []
        decode = self._decoder.decode
        for line in lines:
            size += len(line) + 1
            if size > limit:
                raise self._too_large()
            if line:
                if line.startswith(b":"):
                    self.comments += 1
                decode(line.decode("utf-8", "replace"))
                continue
            size = 0
            sse = decode("")
            # The standard dispatches no event without data; httpx-sse does (the empty line
            # after a keep-alive comment repeats the last id): that is no event either.
            if sse is not None and sse.data:
                events.append(sse)
        if tail:
            size += len(tail)
            if size > limit:
                raise self._too_large()
            self._partial.append(tail)
        self._size = size
        return events

    def _too_large(self) -> ProtocolError:
        return ProtocolError(f"an event larger than {size_text(self._max)} (max_event_size)")
