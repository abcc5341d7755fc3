# One entry point for people and CI. Every target works on a fresh clone.
# `make run` serves the site; `make test` runs every test. `make help` lists the rest.

PYTHON_SYSTEM ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
MANAGE := $(PY) manage.py
# Debian packages the tests need: a real browser and the code-sample sandbox.
TEST_DEBS := chromium bubblewrap nginx
BENCH_DEBS := wrk nginx
# What `make test-deploy` drives: the balancer, and the PostgreSQL and Redis clients.
DEPLOY_DEBS := nginx postgresql-client redis-tools curl
PG_URL ?= postgres://postgres@127.0.0.1:5432/test
# The shared HTTP cache (`make proxy`, deploy/nginx/cache.conf) and the origin it fronts.
PROXY_LISTEN ?= 127.0.0.1:8080
PROXY_ORIGIN ?= 127.0.0.1:8000
REDIS_URL ?= redis://127.0.0.1:6379/0
# The Redis database the runner's scale-out tests flush (test-runner-redis).
RUNNER_REDIS_TEST_URL ?= $(REDIS_URL)

.DEFAULT_GOAL := help
.PHONY: help run install install-dev system-deps bench-deps test test-postgres lint format audit \
        bench superuser serve collectstatic check migrate sync compile clean \
        node-deps pygments-css bootstrap deploy-deps test-deploy codemirror \
        test-runner-redis runner-worker proxy test-proxy

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

# Dev-only npm tools for the browser tests and `make bench`: axe-core and Lighthouse,
# exactly as locked in tests/node/package-lock.json. Node comes from Debian if missing.
NODE_DIR := tests/node
$(NODE_DIR)/node_modules/.installed: $(NODE_DIR)/package.json $(NODE_DIR)/package-lock.json
	@command -v npm >/dev/null || { SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq nodejs npm >/dev/null; }
	cd $(NODE_DIR) && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	touch $@

node-deps: $(NODE_DIR)/node_modules/.installed ## Install axe-core and Lighthouse (npm, dev only)

pygments-css: install ## Regenerate static/css/pygments.css (code colours, light + dark, AA-checked)
	$(PY) tools/pygments_css.py

bootstrap: ## Rebuild the trimmed Bootstrap in static/vendor/bootstrap/ (npm, see tools/bootstrap)
	cd tools/bootstrap && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error && npm run --silent build

# `audit` and `check` are here so CI runs them: the audit fails when PyPI cannot be
# reached (see tools/audit.py), and `check` is what the Docker build runs.
# Tests that need PostgreSQL or Redis carry a marker and run in the targets below (which
# .ci/run calls, against the services on the machine), never skipped.
test: install-dev audit system-deps node-deps compile collectstatic check ## Install what the tests need and run them all
	$(PY) -m pytest -n 2 -m "not postgres and not redis"

test-postgres: install-dev ## Database, search and cache tests against PostgreSQL and Redis
	DATABASE_URL=$(PG_URL) CACHE_URL=$(REDIS_URL) $(PY) -m pytest -m "not browser and not redis" -p no:randomly \
	  tests/test_models.py tests/test_content.py tests/test_views.py tests/test_search*.py \
	  tests/test_pagecache.py tests/test_security.py \
	  tests/test_content_sync.py tests/test_links.py \
	  tests/test_exercises_syntax.py tests/test_exercises_admin.py

.PHONY: test-degraded
# Port 9 (discard) is closed: the shared cache fails as it does in an outage.
test-degraded: install-dev ## Pages and /healthz with the shared cache down (CACHE_URL at a closed port)
	CACHE_URL=redis://127.0.0.1:9/0 $(PY) -m pytest -p no:randomly -n 0 tests/test_degraded.py

deploy-deps: ## Install nginx and the PostgreSQL/Redis clients used by `make test-deploy`
	@missing=""; for p in $(DEPLOY_DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

# docs/deploying.md followed by a script: PostgreSQL + Redis (as for test-postgres),
# two gunicorn instances behind nginx, checks, a backup restored. DEPLOY_* override it.
test-deploy: install deploy-deps collectstatic ## The operator's deployment, for real, then a backup restored
	tests/deploy/run.sh

# The runner's scale-out mode for real: runs queued on Redis (RQ) and run by two
# `manage.py runner_worker` processes that the tests start and stop by PID (one is
# killed mid-run); the counters and the login throttle on Redis too.
test-runner-redis: install-dev system-deps compile collectstatic ## The code runner's Redis mode, with real runner workers
	REDIS_URL=$(RUNNER_REDIS_TEST_URL) $(PY) -m pytest -p no:randomly -n 0 -m redis \
	  tests/test_runner_redis.py tests/test_counters.py tests/test_security.py

runner-worker: migrate compile ## Run one code-runner worker (RUNNER_QUEUE=redis, see docs/runner.md)
	RUNNER_QUEUE=redis $(MANAGE) runner_worker

lint: install-dev ## ruff (check + format) and djhtml
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/djhtml --check templates

format: install-dev ## Apply ruff format and djhtml
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .
	$(VENV)/bin/djhtml templates

audit: install-dev ## pip-audit the runtime requirements: fails on a known vulnerability or no network
	$(PY) tools/audit.py requirements.txt

# The production stack on loopback: DEBUG off, hashed static files, gunicorn with
# gunicorn.conf.py. Plain HTTP here, so no HTTPS redirect, HSTS or Secure cookies;
# a random secret key unless DJANGO_SECRET_KEY is set (sessions end on restart).
serve: collectstatic migrate ## Run the production stack (DEBUG off, gunicorn) on http://127.0.0.1:8000
	export DJANGO_DEBUG=0 DJANGO_SECURE_SSL_REDIRECT=0 DJANGO_SECURE_HSTS_SECONDS=0 \
	  DJANGO_SECURE_COOKIES=0 GUNICORN_BIND="$${GUNICORN_BIND:-127.0.0.1:8000}" \
	  DJANGO_SECRET_KEY="$${DJANGO_SECRET_KEY:-$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))')}"; \
	$(MANAGE) check --fail-level WARNING && \
	{ $(MANAGE) sync_content || echo "sync_content reported errors (above); serving anyway"; } && \
	exec $(VENV)/bin/gunicorn --config gunicorn.conf.py

bench: install-dev bench-deps node-deps collectstatic ## Print the performance figures
	$(PY) tests/benchmarks/run_all.py

clean: ## Remove the virtualenv, database and collected static files
	rm -rf $(VENV) staticfiles db.sqlite3 db.sqlite3-wal db.sqlite3-shm

codemirror: ## Rebuild the code editor and the lesson page bundles (npm + esbuild, see tools/codemirror)
	cd tools/codemirror && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error && npm run --silent build

# The shared HTTP cache: Debian's nginx as this user, config rendered under var/nginx/.
proxy: system-deps ## Run the nginx cache (deploy/nginx/cache.conf) on PROXY_LISTEN in front of `make serve`
	$(PY) tools/nginx_cache.py --listen $(PROXY_LISTEN) --origin $(PROXY_ORIGIN)

test-proxy: install-dev system-deps collectstatic ## The shared cache with the real nginx: headers, refresh on publish
	$(PY) -m pytest -p no:randomly -n 0 tests/test_proxycache.py tests/test_nginx_cache.py
