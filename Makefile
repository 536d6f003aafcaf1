# The two commands a new user needs: `make serve` and `make test`.
# Both create .venv and install the project into it when needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
ARGS ?=

.PHONY: serve test lint bench format clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

serve: $(STAMP)
	$(BIN)/mock-pokee serve --host $(HOST) --port $(PORT) $(ARGS)

# The suite runs on every core (pytest-xdist), a test file per worker so each module's
# servers start once; JOBS=0 runs it in this process (pdb, -x).
JOBS ?= auto
test: $(STAMP)
	$(BIN)/python -m pytest -n $(JOBS) --dist loadfile $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# PEERS=1 adds WireMock, Prism and moto (installed into .bench-peers/ on first use).
bench: $(STAMP)
	$(BIN)/python -m benchmarks $(if $(filter 1 yes true,$(PEERS)),--peers)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
