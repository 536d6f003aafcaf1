"""`make bench`: run every benchmark and print the figures and ratios."""

from __future__ import annotations

from benchmarks import core


def main() -> None:
    print("mock-pokee benchmarks (2 cores; servers are single uvicorn processes)\n")
    for line in core.run():
        print(line, flush=True)


if __name__ == "__main__":
    main()
