# The two commands of the README:
#   make run   -> the main job on the default territory (Pays de Maurienne)
#   make test  -> the test suite
# Each creates the virtual environment and installs the pinned dependencies on first use.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
TERRITORY ?= maurienne
PYTEST_ARGS ?=

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/accessibility run --territory $(TERRITORY)

test: $(STAMP)
	$(BIN)/ruff check accessibility tests benchmarks scripts
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check accessibility tests benchmarks scripts

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_engine.py

clean:
	rm -rf $(VENV) .cache
