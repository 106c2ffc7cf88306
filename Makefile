# The README's two commands are `make up` and `make test`; everything else serves them.
# Each target creates the virtual environment and installs what it needs on first use.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PYTEST := $(BIN)/pytest -p no:cacheprovider

MONOLITH_PORT ?= 8100
DEMO_SIZE     ?= small

.PHONY: up test venv lint typecheck test-monolith test-proxy test-strangler bench bench-proxy clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python 3.11+ is required; set PYTHON=python3.11" or 0)'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

## make up: the storefront with demo data on the embedded defaults (SQLite, no broker server)
up: venv
	$(BIN)/python -m monolith migrate --noinput
	$(BIN)/python -m monolith seed_demo --size $(DEMO_SIZE)
	@echo "Storefront:  http://127.0.0.1:$(MONOLITH_PORT)/"
	@echo "API docs:    http://127.0.0.1:$(MONOLITH_PORT)/api/docs/"
	@echo "Admin:       http://127.0.0.1:$(MONOLITH_PORT)/admin/  (staff / staff-demo-password)"
	STRANGLER_SERVICE=monolith $(BIN)/gunicorn monolith.wsgi -c python:strangler.servicekit.gunicorn_conf --bind 127.0.0.1:$(MONOLITH_PORT) --workers 2

## make test: every suite, lint and type checks, run side by side
test: venv
	@$(MAKE) --no-print-directory -k -j3 --output-sync=target lint typecheck test-monolith test-proxy test-strangler

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: venv
	$(BIN)/mypy monolith strangler proxy

test-monolith: venv
	$(PYTEST) --ds=monolith.settings tests/monolith

test-proxy: venv
	$(PYTEST) tests/proxy

test-strangler: venv
	$(PYTEST) tests/strangler

bench: venv
	$(BIN)/python bench/bench_monolith.py

bench-proxy: venv
	$(BIN)/python bench/bench_proxy.py

clean:
	rm -rf $(VENV) var/*
