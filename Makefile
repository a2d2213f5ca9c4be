# Tracker — the two commands of the quick start are `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000
PYTEST_ARGS ?=
# The suite's worker processes (pytest-xdist): one per core; TEST_WORKERS=0 runs it in this
# process alone (for a debugger, or -x to stop at the first failure in order).
TEST_WORKERS ?= auto

.PHONY: run serve test lint install lock translations compile-translations clean bench bench-history \
	cluster-test

# Every package the app and the tests install, pinned: `make install` and CI install within
# it, so each machine gets the same versions. `make lock` regenerates it (see below).
CONSTRAINTS := requirements/constraints.txt
PIP_VERSION := 26.3
UV_VERSION := 0.13.9

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit("Python 3.11+ is needed" if sys.version_info < (3, 11) else 0)'
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/python setup.cfg pyproject.toml $(CONSTRAINTS)
	$(BIN)/python -m pip install -q 'pip==$(PIP_VERSION)'
	$(BIN)/python -m pip install -q -c $(CONSTRAINTS) -e '.[dev]'
	touch $@

install: $(VENV)/.installed compile-translations

compile-translations: $(VENV)/.installed
	$(BIN)/pybabel compile -d tracker/translations > /dev/null

## make run: the app on its embedded SQLite database with the Quảng Ninh demo data.
run: install
	$(FLASK) db upgrade
	$(FLASK) tracker demo
	@echo "Demo logins (username password):"; cat instance/demo-logins.txt 2>/dev/null || true
	@echo "Tracker: http://$(HOST):$(PORT)  (the scheduler runs alongside: cutoff at 16:00 ICT)"
	@trap 'kill 0' INT TERM EXIT; $(FLASK) tracker scheduler & $(FLASK) run --host $(HOST) --port $(PORT)

## make test: the whole suite (SQLite; PostgreSQL too when TRACKER_TEST_DATABASE_URL is set),
## on every core.
test: install
	$(BIN)/python -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

## make cluster-test: web hosts (nginx and gunicorn) behind HAProxy, a PostgreSQL primary and
## replica and two schedulers, each in a network namespace, through a rush with faults
## (docs/deployment.md). Needs root; installs HAProxy, nginx and libfaketime from Debian if
## missing. About five minutes.
cluster-test: install
	@[ "$$(id -u)" = 0 ] || { echo "make cluster-test needs root (network namespaces)"; exit 1; }
	@command -v haproxy >/dev/null && command -v nginx >/dev/null && \
		ls /usr/lib/*/faketime/libfaketime.so.1 >/dev/null 2>&1 || \
		apt-get install -y -q haproxy nginx-light faketime
	$(BIN)/python -m cluster.run

## make bench [SCALE=tiny|province|national|max]: the 16:00 rush on PostgreSQL (DATABASE_URL's
## server, default 127.0.0.1:5432); writes bench/results/$(SCALE).json and .md.
SCALE ?= province
bench: install
	@command -v wrk >/dev/null && command -v pgbench >/dev/null && command -v nginx >/dev/null && \
		ls /usr/lib/*/faketime/libfaketime.so.1 >/dev/null 2>&1 || \
		{ echo "make bench needs wrk, pgbench, nginx and libfaketime:" \
		       "apt-get install wrk postgresql-client nginx-light faketime"; exit 2; }
	$(BIN)/python -m bench.run --scale $(SCALE)

## make bench-history [HIST_ARGS="--tasks-per-unit 30 --days 25"]: a simulated national
## history (34 provinces, 3,321 communes, their units' updates through the real service, each
## day's real cutoff) in database trk_hist on DATABASE_URL's server, then the early warning
## replayed against it by `tracker forecast evaluate` (docs/forecast.md). About 20 minutes.
HIST_ARGS ?=
bench-history: install
	$(BIN)/python -m bench.history --name trk_hist $(HIST_ARGS)

## make lock: re-resolve $(CONSTRAINTS) from setup.cfg (the app's dependencies and the `dev`
## extra) after a change there, keeping every pin that still fits; move pins on with
## UPGRADE="--upgrade-package NAME" (or UPGRADE=--upgrade for all), then run `make test`.
UPGRADE ?=
lock: $(BIN)/python
	$(BIN)/python -m pip install -q 'uv==$(UV_VERSION)'
	$(BIN)/uv pip compile --quiet pyproject.toml --extra dev --universal --python-version 3.11 \
		--annotation-style line --custom-compile-command 'make lock' $(UPGRADE) -o $(CONSTRAINTS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache

## make translations: re-extract messages and update the catalogs (then translate vi).
translations: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output -w 100 \
		--project Tracker -o tracker/translations/messages.pot .
	$(BIN)/pybabel update -i tracker/translations/messages.pot -d tracker/translations -w 100 \
		--no-fuzzy-matching
	$(BIN)/pybabel compile -d tracker/translations > /dev/null

clean:
	rm -rf $(VENV) *.egg-info
