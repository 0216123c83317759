PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test install install-dev lint container-test clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## Start the service on the embedded default: SQLite in ./newswatch.db, 127.0.0.1:8000.
## `make run HOST=… PORT=…` or NEWSWATCH_HOST / NEWSWATCH_PORT choose where it listens.
HOST ?= $(or $(NEWSWATCH_HOST),127.0.0.1)
PORT ?= $(or $(NEWSWATCH_PORT),8000)
run: install
	$(BIN)/newswatch migrate
	$(BIN)/newswatch run --host $(HOST) --port $(PORT)

## Run every test (PostgreSQL runs are skipped with a reason when no server is reachable):
## most on TEST_WORKERS processes (pytest-xdist), then the slow end-to-end runs one at a
## time, since they time subprocesses (exit 5, "none selected", is fine for either).
TEST_WORKERS ?= 2
test: install-dev
	$(BIN)/python -m pytest -n $(TEST_WORKERS) -m "not slow" $(PYTEST_ARGS) || [ $$? -eq 5 ]
	$(BIN)/python -m pytest -n 2 --dist loadgroup -m slow $(PYTEST_ARGS) || [ $$? -eq 5 ]

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/hadolint Dockerfile
	$(BIN)/mypy newswatch monitor net rules stories notifiers api store web

container-test:
	bash tests/container/run.sh

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
