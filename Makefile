# SOS — the two commands in README.md are `make run` and `make test`.
# Everything runs from a project-local virtualenv (.venv) built with Python >= 3.12.

SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv
VPY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

# Find a Python >= 3.12 that really runs. pyenv shims on PATH may exist but refuse to run,
# so each candidate is executed, not just looked up.
define find_python
for c in python3.13 python3.12 python3 $$(ls -d $$HOME/.pyenv/versions/3.1[2-9]*/bin/python3 2>/dev/null | sort -rV); do \
  if "$$c" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; then \
    command -v "$$c" 2>/dev/null || echo "$$c"; exit 0; \
  fi; \
done; exit 1
endef

.PHONY: help venv run test migrate seed lint format clean fault restore-drill bench loadtest

help:
	@echo "make run   - install, migrate, load demo data if empty, serve http://$(HOST):$(PORT)"
	@echo "make test  - install and run the whole test suite"
	@echo "make lint  - ruff check and format check"
	@echo "make fault - PostgreSQL restart drill: outage window and lost writes"
	@echo "make restore-drill - back up, restore into an empty database, compare, serve it"
	@echo "make bench - page times against their SQL floor at 10,000 and 100,000 clients"
	@echo "make loadtest - 50 users on gunicorn (2 workers) and PostgreSQL for 2 minutes"

$(VPY):
	@PY=$$($(find_python)) || { echo "SOS needs Python 3.12 or newer, and none was found (tried python3.13, python3.12, python3, ~/.pyenv/versions/3.1x). Install Python 3.12+ and run make again." >&2; exit 1; }; \
	echo "Creating $(VENV) with $$PY ($$($$PY --version))"; \
	"$$PY" -m venv $(VENV)

# Reinstall only when requirements.txt changes.
$(VENV)/.installed: requirements.txt | $(VPY)
	$(VPY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(VPY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

venv: $(VENV)/.installed

migrate: venv
	SOS_DEV_MODE=1 $(VPY) manage.py migrate --no-input

seed: migrate
	SOS_DEV_MODE=1 $(VPY) manage.py seed_demo

run: seed
	SOS_DEV_MODE=1 $(VPY) manage.py runserver $(HOST):$(PORT)

# The suite runs in development mode so no SECRET_KEY is needed; production settings are
# tested explicitly. It runs on two processes (pytest-xdist); pass extra pytest arguments
# with ARGS="-k admin", or ARGS="-n 0" for one process.
test: venv
	SOS_DEV_MODE=1 $(VPY) -m pytest -n 2 $(ARGS)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: venv
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) .pytest_cache

# PostgreSQL restart under load, against a private PostgreSQL cluster and gunicorn:
# reports the outage window and checks that no acknowledged write was lost.
fault: venv
	$(VPY) bench/fault_pg_restart.py $(ARGS)

# Backup and restore drill on SQLite, and on PostgreSQL too when DATABASE_URL points at one
# (its role needs CREATEDB): seeds a database, backs it up encrypted, restores it into an
# empty one, compares every table, and serves the restored database with gunicorn.
restore-drill: venv
	$(VPY) bench/restore_drill.py $(ARGS)

# Needs PostgreSQL (BENCH_POSTGRES, default postgres://postgres@127.0.0.1:5432): builds the
# 10k and 100k data sets once (seed_scale), then measures. Figures in bench/results/.
bench: venv
	$(VPY) bench/bench.py --sizes 10k 100k $(ARGS)

$(VENV)/.bench-installed: bench/requirements.txt | $(VPY)
	$(VPY) -m pip install --quiet --disable-pip-version-check -r bench/requirements.txt
	@touch $@

loadtest: venv $(VENV)/.bench-installed
	$(VPY) bench/loadtest.py $(ARGS)
