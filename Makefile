# One entry point for people and CI. Every target works on a fresh clone.
# `make run` serves the site; `make test` runs every test. `make help` lists the rest.

PYTHON_SYSTEM ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
MANAGE := $(PY) manage.py
# Debian packages the tests need: a real browser and the code-sample sandbox.
TEST_DEBS := chromium bubblewrap
BENCH_DEBS := wrk
PG_URL ?= postgres://postgres@127.0.0.1:5432/test
REDIS_URL ?= redis://127.0.0.1:6379/0

.DEFAULT_GOAL := help
.PHONY: help run install install-dev system-deps bench-deps test test-postgres lint format \
        bench superuser serve collectstatic check migrate sync compile clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(VENV)/.runtime: requirements.txt
	test -x $(PY) || $(PYTHON_SYSTEM) -m venv $(VENV)
	$(PIP) install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt requirements.txt $(VENV)/.runtime
	$(PIP) install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

install: $(VENV)/.runtime ## Create .venv and install the runtime requirements

install-dev: $(VENV)/.dev ## Install the test, lint and benchmark tools

system-deps: ## Install the Debian packages the tests need, when missing
	@missing=""; for p in $(TEST_DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

bench-deps: ## Install the load generator used by `make bench`
	@dpkg -s $(BENCH_DEBS) >/dev/null 2>&1 || { SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $(BENCH_DEBS) >/dev/null; }

migrate: install
	$(MANAGE) migrate --verbosity 0

sync: migrate ## Sync content/ into the database
	$(MANAGE) sync_content

compile: install ## Byte-compile the code (faster sandbox start-up)
	$(PY) -m compileall -q tutorials $(VENV)/lib >/dev/null

collectstatic: install ## Collect hashed, compressed static files into staticfiles/
	$(MANAGE) collectstatic --noinput --verbosity 0

run: migrate compile ## Set everything up and serve the site at http://127.0.0.1:8000
	@# A broken lesson file is reported but must not keep the site from starting.
	-$(MANAGE) sync_content
	$(MANAGE) runserver 127.0.0.1:8000

superuser: migrate ## Create an admin account for /admin/
	$(MANAGE) createsuperuser

check: install ## Django's system checks and the content check (runs every sample)
	$(MANAGE) check
	$(MANAGE) migrate --verbosity 0
	$(MANAGE) makemigrations --check --dry-run
	$(MANAGE) sync_content --check

test: install-dev system-deps compile collectstatic ## Install what the tests need and run them all
	$(PY) -m pytest -n 2

test-postgres: install-dev ## Database, search and cache tests against PostgreSQL and Redis
	DATABASE_URL=$(PG_URL) CACHE_URL=$(REDIS_URL) $(PY) -m pytest -m "not browser" -p no:randomly \
	  tests/test_models.py tests/test_content.py tests/test_views.py

lint: install-dev ## ruff (check + format) and djhtml
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/djhtml --check templates

format: install-dev ## Apply ruff format and djhtml
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .
	$(VENV)/bin/djhtml templates

bench: install-dev bench-deps collectstatic ## Print the performance figures
	$(PY) tests/benchmarks/run_all.py

clean: ## Remove the virtualenv, database and collected static files
	rm -rf $(VENV) staticfiles db.sqlite3 db.sqlite3-wal db.sqlite3-shm
