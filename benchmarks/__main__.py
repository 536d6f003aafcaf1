"""`make bench` (``python -m benchmarks``): run the benchmarks and print the figures.

``--peers`` (``make bench PEERS=1``) adds WireMock, Prism and moto to the side-by-side
table, installing them into ``.bench-peers/`` on first use. The fixture part always
compares the ``pokee`` fixture with moto and pytest-httpserver, in a venv of its own that
it installs there too on first use. ``--only`` runs one part, for whoever is working on it.
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence

from benchmarks.load import WrkMissing, wrk_path

PARTS = ("classic", "responses", "streams", "fixtures", "soak", "table")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--peers", action="store_true", help="add WireMock, Prism and moto")
    parser.add_argument(
        "--seconds", type=float, default=2.0, help="length of each measured wrk run in the table"
    )
    parser.add_argument(
        "--soak-minutes",
        type=float,
        default=0.0,
        help="keep the soak going at least this long (its 10,000 tests take a few minutes)",
    )
    parser.add_argument("--only", choices=PARTS, action="append", help="run only this part")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # SIGTERM (a CI timeout, `kill`) unwinds as Ctrl-C does, so that every server a part
    # started is stopped on the way out instead of left running.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        wrk_path()
    except WrkMissing as exc:
        print(exc, file=sys.stderr)
        return 1
    # imported late: the check is instant
    from benchmarks import core, fixtures, responses, side_by_side, soak, streams

    parts = args.only or PARTS
    print("mock-pokee benchmarks (2 cores; servers are single uvicorn processes)\n")
    if "classic" in parts:
        for line in core.run():
            print(line, flush=True)
    if "responses" in parts:
        for line in responses.stateless_responses():
            print(line, flush=True)
    if "streams" in parts:
        for line in streams.concurrent_streams():
            print(line, flush=True)
    if "fixtures" in parts:
        for line in fixtures.run():
            print(line, flush=True)
    if "soak" in parts:
        for line in soak.run(minutes=args.soak_minutes):
            print(line, flush=True)
    if "table" in parts:
        for line in side_by_side.run(peers=args.peers, seconds=args.seconds):
            print(line, flush=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("benchmarks: stopped; the servers they started are stopped too", file=sys.stderr)
        sys.exit(130)
