# catalogage — the two commands are `make run` and `make test` (see README.md).
# Every target is idempotent: stamps make the second run fast.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEPS_STAMP := $(VENV)/.deps-stamp
PG_STAMP := var/.postgres-binaries

.PHONY: run test lint install postgres-binaries migrate bench clean help bench-interop

help:
	@echo "make run    set everything up and serve on http://127.0.0.1:3579"
	@echo "make test   set everything up and run the whole test suite"
	@echo "make lint   ruff + mypy"

run: install postgres-binaries assets
	$(BIN)/catalogage serve

test: install postgres-binaries assets chromium
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

# --- web ---
# Front-end assets: the DSFR from npm (package-lock.json), copied with our own
# static sources under content-hashed names into catalogage/web/static/dist/
# (git-ignored; release artifacts carry it, servers need no Node.js).
ASSETS_MANIFEST := catalogage/web/static/dist/manifest.json
NPM_STAMP := node_modules/.npm-ci-stamp
CHROMIUM := /usr/bin/chromium
# Playwright drives that Chromium; it must never fetch a browser of its own.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

.PHONY: assets chromium messages

assets: $(ASSETS_MANIFEST)

$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

$(ASSETS_MANIFEST): $(NPM_STAMP) catalogage/web/static/build.mjs $(wildcard catalogage/web/static/src/*)
	node catalogage/web/static/build.mjs

# Debian's Chromium, driven by Playwright in tests/web (Playwright never downloads one).
chromium: $(CHROMIUM)

$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "Installing Debian's chromium for the browser tests..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	else \
		echo "error: $(CHROMIUM) missing: sudo apt-get install chromium chromium-driver" >&2; exit 1; \
	fi

# Refresh the English catalog from the messages in the code and templates; then
# translate the new entries of catalogage/web/locale/en/LC_MESSAGES/messages.po.
messages: install
	@mkdir -p var
	$(BIN)/pybabel extract -F catalogage/web/babel.cfg --no-location --sort-output -o var/messages.pot .
	$(BIN)/pybabel update -i var/messages.pot -d catalogage/web/locale -l en --ignore-obsolete --no-fuzzy-matching -w 100
# --- search ---
# Benchmark (see docs/performance.md): `make bench`, `make bench N=1000000`.
N ?= 100000
BENCH_SECONDS ?= 10
bench: install postgres-binaries
	$(BIN)/python -m bench.run --n $(N) --seconds $(BENCH_SECONDS)

# --- interop ---
# Import speed (rows/s) and export memory at growing sizes (the 1,000,000-row run takes minutes).
bench-interop: install postgres-binaries
	$(BIN)/python -m bench.interop_import --rows 5000,20000
	$(BIN)/python -m bench.interop_export --sizes 10000,100000,1000000

# --- ops ---
.PHONY: install-ops test-ops lint-ops lab-up lab-down

install-ops:
	$(MAKE) -C ops install

provision-%:
	$(MAKE) -C ops $@

deploy-%:
	$(MAKE) -C ops $@

rollback-%:
	$(MAKE) -C ops $@

backup-%:
	$(MAKE) -C ops $@

ping-%:
	$(MAKE) -C ops $@

test-ops:
	$(MAKE) -C ops test

lint-ops:
	$(MAKE) -C ops lint

lab-up lab-down:
	$(MAKE) -C ops $@

# --- reliability ---
# Faults, concurrency, fuzzing, hostile input and a short soak: one table (docs/reliability.md).
# `make soak` is the full 10-minute soak, outside CI.
.PHONY: reliability soak
SOAK_SECONDS ?= 60
reliability: install postgres-binaries
	$(BIN)/python -m reliability.run --soak-seconds $(SOAK_SECONDS)

soak: install postgres-binaries
	$(BIN)/python -m reliability.run --only soak --soak-seconds 600
