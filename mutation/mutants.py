"""Which mutants exist, and which of them a sampled run tests.

mutmut can run a list of mutants by name but cannot draw a sample, and it names its
mutants only while it writes them into mutants/. So the names are computed here the way
mutmut computes them (its own mutator over the same files, chosen by the
``[tool.mutmut]`` section of pyproject.toml), sorted, and a fixed seed draws the sample:
the same seed over the same code always picks the same mutants.
"""

from __future__ import annotations

import random
from pathlib import Path

from mutmut.mutation.file_mutation import mutate_file_contents
from mutmut.utils.file_utils import walk_mutatable_files
from mutmut.utils.format_utils import get_mutant_name

SAMPLE_FILE = Path("mutants") / "mutation-sample.txt"


def all_mutant_names() -> list[str]:
    """Every mutant mutmut makes over the configured paths, in a stable order."""
    names: list[str] = []
    for path in walk_mutatable_files():
        mutated = mutate_file_contents(str(path), path.read_text(encoding="utf-8"))
        names.extend(str(get_mutant_name(path, name)) for name in mutated.mutant_names)
    return sorted(names)


def sample(names: list[str], size: int | None, seed: int) -> list[str]:
    """``size`` of ``names`` drawn with ``seed`` (all of them when ``size`` is None)."""
    if size is None or size >= len(names):
        return list(names)
    return sorted(random.Random(seed).sample(names, size))
