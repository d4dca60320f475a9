# The README's two commands: `make run` and `make test`. Everything else supports them.
.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON ?= $(shell scripts/find-python.sh)
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
# Demo logins for `make run` (local use only).
DEMO_PASSWORD ?= triage-demo
PYTEST_ARGS ?=

.PHONY: help run test lint check test-sqlite test-postgres system-deps clean bench

help:
	@echo "make run    install, migrate, load demo data, serve on http://$(HOST):$(PORT)"
	@echo "make test   install and run every test (SQLite, then PostgreSQL; browser tests included)"

$(PY):
	@test -n "$(PYTHON)" || { scripts/find-python.sh; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Reinstall only when the pinned requirements change.
$(VENV)/.run-deps: requirements.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-deps: requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.run-deps

run: $(VENV)/.run-deps
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo --password "$(DEMO_PASSWORD)"
	@echo ""
	@echo "  Triage is at http://$(HOST):$(PORT)/"
	@echo "  Log in as analyst / $(DEMO_PASSWORD) (responder). Also: reader, lead (contributor),"
	@echo "  admin (superuser, /admin/), all with the same password. Ctrl-C stops the server."
	@echo ""
	$(PY) manage.py runserver $(HOST):$(PORT)

system-deps:
	scripts/install-system-deps.sh

lint: $(VENV)/.dev-deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -W error manage.py check
	$(PY) manage.py makemigrations --check --dry-run >/dev/null

test-sqlite: $(VENV)/.dev-deps
	DATABASE_URL= $(PY) -m pytest -m "not postgres" $(PYTEST_ARGS)

test-postgres: $(VENV)/.dev-deps system-deps
	scripts/with-postgres.sh $(PY) -m pytest -m "not sqlite" $(PYTEST_ARGS)

test: system-deps lint test-sqlite test-postgres

# The load test (README "Benchmarks"); not part of `make test`, and locust stays out of CI.
$(VENV)/.bench-deps: requirements.txt requirements-dev.txt requirements-bench.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements-bench.txt
	touch $@ $(VENV)/.dev-deps $(VENV)/.run-deps

bench: $(VENV)/.bench-deps system-deps
	scripts/loadtest/run.sh

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache .hypothesis tests/artifacts
