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

# Headless Chromium for the map tests (tests/test_maps_browser.py): Debian's package,
# installed only when missing (CI runs as root on a fresh clone).
CHROMIUM := /usr/bin/chromium

$(CHROMIUM):
	apt-get update && apt-get install -y --no-install-recommends chromium

# PostgreSQL 15 + PostGIS and QGIS's Python for the publishing tests (tests/conftest_pg.py
# starts a throw-away cluster; tests/test_qgis.py opens the projects with QGIS): Debian's
# packages, installed only when missing.
POSTGIS := /usr/lib/postgresql/15/lib/postgis-3.so
QGIS_PY := /usr/lib/python3/dist-packages/qgis/__init__.py

$(POSTGIS):
	apt-get update && apt-get install -y --no-install-recommends postgresql-15 postgresql-15-postgis-3

$(QGIS_PY):
	apt-get update && apt-get install -y --no-install-recommends qgis python3-qgis

test: $(STAMP) $(CHROMIUM) $(POSTGIS) $(QGIS_PY)
	$(BIN)/ruff check accessibility tests benchmarks scripts
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check accessibility tests benchmarks scripts

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_engine.py

clean:
	rm -rf $(VENV) .cache
