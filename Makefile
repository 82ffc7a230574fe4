# Dialog – the two commands that matter: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test setup translations translations-update browser servers clean

## run: set up, build the demo database (SQLite + posts/) and serve on http://127.0.0.1:5000
# The demo's own address, so links in pages and mails point at it (a deployment sets its own).
run: export BLOG_SITE_URL ?= http://$(HOST):$(PORT)
run: export BLOG_TRUSTED_HOSTS ?= $(HOST),127.0.0.1,localhost
run: setup
	$(FLASK) db upgrade
	$(FLASK) posts import
	$(FLASK) demo accounts
	$(FLASK) demo comments
	$(FLASK) demo canned
	$(FLASK) search rebuild
	@echo "Serving on http://$(HOST):$(PORT)"
	$(FLASK) run --host $(HOST) --port $(PORT)

## test: set up (Python packages, Chromium, PostgreSQL, Redis, nginx), lint (ruff) and run the suite twice:
## on the embedded default (SQLite, Whoosh) and on PostgreSQL with Redis, each on throwaway servers (tests/services.py)
TEST_WORKERS ?= 2
PYTEST = $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup
test: setup $(VENV)/.dev browser servers
	$(BIN)/ruff check .
	@echo "== the whole suite on SQLite (Redis only for the Redis tests) =="
	@# tests/test_two_servers.py runs PostgreSQL, Redis and nginx in either pass: the second pass runs it.
	$(BIN)/python -m tests.services --redis -- $(PYTEST) --ignore=tests/test_two_servers.py
	@echo "== the suite again on PostgreSQL with Redis (without what cannot differ there) =="
	@# The browser journeys test pages and scripts, which the database does not change (every view they
	@# use runs on PostgreSQL here through the test client), and `no_database` modules never open one.
	$(BIN)/python -m tests.services --postgresql --redis -- $(PYTEST) -m "not e2e and not no_database"

setup: $(VENV)/.runtime translations

$(VENV)/.runtime: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt $(VENV)/.runtime
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

## translations: compile the catalogs (app/translations/*/LC_MESSAGES/messages.po → .mo)
translations: $(VENV)/.runtime
	$(BIN)/pybabel compile --use-fuzzy -d app/translations --statistics 2>&1 | grep -v '^compiling' || true

## translations-update: collect new UI strings into the catalogs after changing code or templates
translations-update: $(VENV)/.runtime
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output --project Dialog -o app/translations/messages.pot .
	$(BIN)/pybabel update -i app/translations/messages.pot -d app/translations --width 100 --ignore-obsolete

## browser: Debian's Chromium for the end-to-end tests (never a downloaded browser)
browser:
	@command -v chromium >/dev/null || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; }

## servers: Debian's PostgreSQL, Redis and nginx for the tests beyond one machine (started by the tests, not as services)
servers:
	@missing=""; \
	ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || missing="$$missing postgresql"; \
	command -v redis-server >/dev/null || [ -x /usr/bin/redis-server ] || missing="$$missing redis-server"; \
	command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing="$$missing nginx"; \
	if [ -n "$$missing" ]; then \
	  echo "Installing$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  for unit in postgresql redis-server nginx; do $(SUDO) service $$unit stop >/dev/null 2>&1 || true; done; \
	fi

clean:
	rm -rf $(VENV) .pytest_cache
