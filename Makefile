# The two commands a new user needs: `make serve` and `make test`.
# Both create .venv and install the project into it when needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SERVE_STAMP := $(VENV)/.installed-serve
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
ARGS ?=
# `make serve` runs the mock's clock 60 times faster than real time, so that the cookbook's
# deck (3.5 minutes of agent time) arrives in about 4 s; SERVE="--clock real" for real time.
SERVE ?= --clock scaled --scale 60

.PHONY: serve test lint bench mutation mutation-report format clean

# What serving needs, then what the tests and linters need on top: a newcomer's first
# `make serve` does not wait for the test tools. The client (client/, `pokee-client`)
# first: mock-pokee depends on it.
$(SERVE_STAMP): pyproject.toml client/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e './client[progress]'
	$(BIN)/python -m pip install --quiet -e .
	@# A venv from before the client had a package of its own loses `pokee` just now,
	@# with the old mock-pokee that used to install it: the client puts it back.
	test -x $(BIN)/pokee || $(BIN)/python -m pip install --quiet --no-deps --force-reinstall -e ./client
	touch $(SERVE_STAMP)

$(STAMP): $(SERVE_STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

serve: $(SERVE_STAMP)
	$(BIN)/mock-pokee serve --host $(HOST) --port $(PORT) $(SERVE) $(ARGS)

# The suite runs in two workers per core (pytest-xdist), a test file per worker so each
# module's servers start once: much of it waits on subprocesses and sockets rather than
# computing (165 s with a worker per core on 2 cores, 142 s with two). JOBS=0 runs it in
# this process (pdb, -x). It starts about a hundred Python processes (examples, servers,
# CLIs), so it writes bytecode caches even where the environment says not to
# (PYTHONDONTWRITEBYTECODE): each would compile the sources again.
JOBS ?= $(shell $(PYTHON) -c 'import os; print(2 * (os.cpu_count() or 1))')
test: export PYTHONDONTWRITEBYTECODE :=
test: $(STAMP)
	$(BIN)/python -m pytest -n $(JOBS) --dist loadfile $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Mutation testing (docs/testing.md), not part of `make test`: mutmut over domain/, clock.py
# and api/ (SCOPE=client: the reference client, the pytest plugin and its helpers), a
# sample of SAMPLE mutants drawn with SEED (SAMPLE=all tests every one, hours on 2 cores),
# then the score. `make mutation-report` prints the last run's score again (same SCOPE).
SAMPLE ?= 200
SEED ?= 10
SCOPE ?= mock
MUTATION_STAMP := $(VENV)/.installed-mutation
$(MUTATION_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,mutation]'
	touch $(MUTATION_STAMP)

mutation: $(MUTATION_STAMP)
	$(BIN)/python -m mutation run --scope $(SCOPE) --sample $(SAMPLE) --seed $(SEED)

mutation-report: $(MUTATION_STAMP)
	$(BIN)/python -m mutation report --scope $(SCOPE)

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# PEERS=1 adds WireMock, Prism and moto (installed into .bench-peers/ on first use);
# SOAK_MINUTES=10 keeps the soak going that long (docs/benchmarks.md).
bench: $(STAMP)
	$(BIN)/python -m benchmarks $(if $(filter 1 yes true,$(PEERS)),--peers) $(if $(SOAK_MINUTES),--soak-minutes $(SOAK_MINUTES))

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis mutants
