# catalogage — the two commands are `make run` and `make test` (see README.md).
# Every target is idempotent: stamps make the second run fast.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEPS_STAMP := $(VENV)/.deps-stamp
PG_STAMP := var/.postgres-binaries

.PHONY: run test lint install postgres-binaries migrate bench clean help

help:
	@echo "make run    set everything up and serve on http://127.0.0.1:3579"
	@echo "make test   set everything up and run the whole test suite"
	@echo "make lint   ruff + mypy"

run: install postgres-binaries
	$(BIN)/catalogage serve

test: install postgres-binaries
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy catalogage

install: $(DEPS_STAMP)

$(DEPS_STAMP): pyproject.toml requirements/lock.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip==26.3"
	$(BIN)/python -m pip install --quiet -c requirements/lock.txt -e ".[dev]"
	touch $@

# PostgreSQL server binaries for the embedded database and the tests.
postgres-binaries: $(PG_STAMP)

$(PG_STAMP):
	scripts/ensure-postgres-binaries.sh
	@mkdir -p var && touch $@

# Regenerate the lock file after changing pyproject.toml's pins.
lock:
	rm -rf /tmp/catalogage-lock-venv && $(PYTHON) -m venv /tmp/catalogage-lock-venv
	/tmp/catalogage-lock-venv/bin/pip install --quiet ".[dev]"
	/tmp/catalogage-lock-venv/bin/pip freeze --exclude catalogage > requirements/lock.txt

clean:
	rm -rf $(VENV) build *.egg-info
