# The project's vocabulary. `make run` and `make test` work on a fresh machine with only
# Python 3.11+ and make: they create .venv, install the locked dependencies and start a
# project-local PostgreSQL under .data/ unless DATABASE_URL points at a server.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PG_PORT ?= 54329
EMBEDDED_DB := postgres://crm@127.0.0.1:$(PG_PORT)
PYTEST_ARGS ?=

export DJANGO_SETTINGS_MODULE := config.settings
export PG_PORT

.PHONY: help install db run test lint format migrations-check bench smoke messages lock clean-data browser-deps mail-deps screenshots fuzz

help:
	@echo "make run       start web, worker and scheduler with the demo workspace"
	@echo "make test      lint + the whole test suite against a real PostgreSQL"
	@echo "make lint      ruff, import contracts, makemigrations --check"
	@echo "make bench     performance benchmarks (figures, not pass/fail)"
	@echo "make smoke     clone the repo and check that 'make run' serves the site"
	@echo "make fuzz      fuzz the live API longer than make test does (FUZZ_EXAMPLES=50 per operation)"
	@echo "make messages  extract and compile translations (needs GNU gettext)"
	@echo "make lock      re-resolve requirements/lock.txt from requirements/*.in"
	@echo "make mail-deps installs Debian's dovecot for the IMAP tests (make test runs it as root)"
	@echo "make screenshots  PNGs of the main pages in English and Arabic under .screenshots/"

$(VENV)/.installed: requirements/lock.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11 or newer is needed (set PYTHON=...)"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check uv==0.13.8
	$(BIN)/uv pip sync -q --python $(BIN)/python requirements/lock.txt
	@touch $@

install: $(VENV)/.installed

db: install
ifndef DATABASE_URL
	@$(BIN)/python -m infra.embedded_pg start --port $(PG_PORT) --db crm --db crm_test >/dev/null
endif

run: db
	$(BIN)/python -m infra.run

test: export DATABASE_URL ?= $(EMBEDDED_DB)/crm_test
test: db lint browser-deps mail-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)
	$(MAKE) --no-print-directory smoke

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(MAKE) --no-print-directory migrations-check

migrations-check: install
	DATABASE_URL=$${DATABASE_URL:-$(EMBEDDED_DB)/crm} $(BIN)/python manage.py makemigrations --check --dry-run

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: export DATABASE_URL ?= $(EMBEDDED_DB)/crm_bench
bench: db
	@$(BIN)/python -m infra.embedded_pg start --port $(PG_PORT) --db crm_bench >/dev/null
	$(BIN)/python -m bench

# Browser tests drive Debian's chromium through Playwright (no browser download).
browser-deps:
	@test -x /usr/bin/chromium || { test "$$(id -u)" = 0 || { echo "chromium is missing: run 'make browser-deps' as root"; exit 1; }; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# The mail tests read a real IMAP server: Debian's dovecot, started by the tests on a free
# loopback port with a configuration of their own. Installing must not start the system's
# dovecot (it would take ports 143/993 for good), so services are held back meanwhile.
mail-deps:
	@test -x /usr/sbin/dovecot || { test "$$(id -u)" = 0 || { echo "dovecot is missing: run 'make mail-deps' as root"; exit 1; }; \
		held=0; test -e /usr/sbin/policy-rc.d || { printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; held=1; }; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends dovecot-imapd >/dev/null; \
		status=$$?; test $$held = 0 || rm -f /usr/sbin/policy-rc.d; exit $$status; }

screenshots: export DATABASE_URL ?= $(EMBEDDED_DB)/crm_test
screenshots: db browser-deps
	SCREENSHOTS_DIR=$(CURDIR)/.screenshots $(BIN)/python -m pytest tests/browser/test_screenshots.py -m screenshots -q

fuzz: export DATABASE_URL ?= $(EMBEDDED_DB)/crm_test
fuzz: db
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-50} $(BIN)/python -m pytest tests/api/test_fuzz.py -q

smoke: install
	$(BIN)/python -m infra.smoke

messages: install
	$(BIN)/python manage.py makemessages -l ru -l es -l ar -l en --no-obsolete --ignore=.venv --ignore=.data --ignore=tests --ignore=bench
	$(BIN)/python manage.py compilemessages --ignore=.venv

lock: install
	$(BIN)/uv pip compile -q requirements/dev.in --python-version 3.11 --generate-hashes -o requirements/lock.txt

clean-data:
	-$(BIN)/python -m infra.embedded_pg stop
	rm -rf .data
