"""`make mutation` (``python -m mutation``): mutmut over one scope, then the score.

The default scope (``mock``) is ``domain/``, ``clock.py`` and ``api/``; ``--scope client``
is the reference client with the pytest plugin and its helpers (see `mutation.scopes`).
``run`` draws ``--sample`` mutants with ``--seed`` (``--sample all`` takes every one),
has mutmut test exactly those, tests the import-time survivors against the tests
docs/testing.md names for them, and prints the score; ``report`` prints it again from
the scope's mutants/ without running anything. Each sampled mutant is tested afresh on
every run, so a new test counts at once. ``show NAME`` prints a mutant's diff (mutmut's
``show``, run where the scope runs).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from mutation.mutants import SAMPLE_FILE, all_mutant_names, sample
from mutation.scopes import DEFAULT, names, scope
from mutation.score import Score, confirm, confirmed_before, score, statuses, verdicts

MUTMUT = Path(sys.executable).with_name("mutmut")


def _size(text: str) -> int | None:
    if text == "all":
        return None
    size = int(text)
    if size < 1:
        raise argparse.ArgumentTypeError("the sample is at least 1 mutant, or 'all'")
    return size


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m mutation", description=__doc__)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="test a sample of the mutants, then report")
    run.add_argument("--sample", type=_size, default=400, help="mutants to test, or 'all'")
    run.add_argument("--seed", type=int, default=10, help="the seed that draws the sample")
    run.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="mutants at once")
    report = commands.add_parser("report", help="the score of the last run, from mutants/")
    show = commands.add_parser("show", help="what a mutant changed (mutmut show)")
    show.add_argument("name", help="the mutant's name, as the score lists it")
    for command in (run, report, show):
        command.add_argument("--scope", choices=names(), default=DEFAULT, help="what to mutate")
    return parser


def run(size: int | None, seed: int, jobs: int) -> int:
    names = all_mutant_names()
    chosen = sample(names, size, seed)
    print(f"mutation: {len(chosen)} of {len(names)} mutants (seed {seed}), {jobs} at once")
    SAMPLE_FILE.parent.mkdir(exist_ok=True)
    SAMPLE_FILE.write_text(f"# seed {seed}, {len(chosen)} of {len(names)}\n" + "\n".join(chosen))
    started = time.monotonic()
    done = subprocess.run([str(MUTMUT), "run", "--max-children", str(jobs), *chosen], check=False)
    print(f"mutation: mutmut took {time.monotonic() - started:.0f} s")
    if done.returncode != 0:
        print(f"mutation: mutmut failed (exit status {done.returncode})", file=sys.stderr)
        return done.returncode
    given = verdicts()
    survived = [name for name, status in statuses().items() if status == "survived"]
    confirmed = confirm([name for name in chosen if name in survived], given)
    print(f"mutation: {len(confirmed)} import-time mutants killed by the tests named for them")
    return report()


def report() -> int:
    if not SAMPLE_FILE.exists():
        print("mutation: no run yet (make mutation)", file=sys.stderr)
        return 1
    lines = SAMPLE_FILE.read_text().splitlines()
    chosen = [line for line in lines if line and not line.startswith("#")]
    result = score(chosen, statuses(), verdicts(), confirmed_before())
    _print(lines[0].lstrip("# "), result)
    return 0


def _print(drawn: str, result: Score) -> None:
    print(f"\nmutation score ({drawn}):")
    for status, count in sorted(result.by_status.items()):
        print(f"  {status:<12} {count}")
    print(f"  equivalent   {len(result.equivalent)} (named in docs/testing.md)")
    print(f"  import-time  {len(result.import_time)} of the survivors, killed by the test named")
    print(f"  killed {result.killed} of {result.counted} non-equivalent: {result.percent:.1f}%")
    if result.survivors:
        print("\nsurvivors not named equivalent (mutmut show NAME):")
        for name in result.survivors:
            print(f"  {name}")


def show(name: str) -> int:
    return subprocess.run([str(MUTMUT), "show", name], check=False).returncode


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    scope(args.scope).enter()
    if args.command == "run":
        return run(args.sample, args.seed, args.jobs)
    if args.command == "show":
        return show(args.name)
    return report()


if __name__ == "__main__":
    sys.exit(main())
