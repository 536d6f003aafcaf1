"""``python -m benchmarks.inproc PORT MAX_SESSIONS``: the in-process test server
(`ThreadedServer`) in a process of its own, started the way a test suite starts it, so that
it can be measured from outside like every other system."""

from __future__ import annotations

import signal
import sys

from mock_pokee.server import ThreadedServer
from mock_pokee.settings import Settings


def main(argv: list[str]) -> None:
    port, max_sessions = (int(value) for value in argv)
    with ThreadedServer(Settings(port=port, max_sessions=max_sessions)):
        signal.sigwait({signal.SIGTERM, signal.SIGINT})


if __name__ == "__main__":
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    main(sys.argv[1:])
