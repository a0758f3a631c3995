# The two commands: `make run` (the app on SQLite in instance/) and `make test` (the whole suite).
# Both create the virtualenv and install everything they need on first use.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000
# Two test processes (pytest-xdist), one per core of the CI machine; PYTEST_WORKERS="-n 0" for one.
PYTEST_WORKERS ?= -n 2

.PHONY: run test lint format bench bench-load seed clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(FLASK) db upgrade
	$(FLASK) run --host $(HOST) --port $(PORT)

test: $(STAMP)
	bash scripts/test-services
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest $(PYTEST_WORKERS) $(PYTEST_ARGS)
	@echo "Again with the clock a year ahead (in-process SQLite tests): the suite passes on any date."
	$(BIN)/pytest $(PYTEST_WORKERS) --clock-offset-days=365 -m "not postgresql" -p no:cacheprovider -q $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

seed: $(STAMP)
	$(FLASK) db upgrade
	$(FLASK) demo seed

bench: $(STAMP)
	$(BIN)/python bench/bench_matching.py
	$(BIN)/python bench/bench_rounds.py
	$(BIN)/python bench/bench_outbox.py
	$(BIN)/python bench/bench_roster.py

bench-load: $(STAMP)
	bash scripts/test-services
	@command -v wrk >/dev/null || [ "$$(id -u)" != 0 ] || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk) >/dev/null 2>&1 || echo "bench-load: could not install wrk"
	$(BIN)/python bench/bench_load.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
