# The README's two commands are `make up` and `make test`; everything else serves them.
# Each target creates the virtual environment and installs what it needs on first use.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PYTEST := $(BIN)/pytest -p no:cacheprovider

.PHONY: up test venv lint typecheck typecheck-catalog test-monolith test-catalog test-proxy test-strangler test-sync test-tutorials test-sidebyside test-library test-e2e test-stacks test-fleet test-dashboard bench bench-proxy bench-sync clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python 3.11+ is required; set PYTHON=python3.11" or 0)'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@# The distribution is the toolkit only; the repository's example (monolith/, extracted/)
	@# is put on this venv's path so its commands run from any directory, as the stack's do.
	$(BIN)/python -c 'import pathlib, site; pathlib.Path(site.getsitepackages()[0], "strangler-example.pth").write_text(str(pathlib.Path.cwd()) + "\n")'
	@touch $(STAMP)

venv: $(STAMP)

# Demo mode (the published demo secrets) where the settings are loaded outside the suites:
# mypy's Django plugin imports them, and the benchmarks start the stack's processes. Anywhere
# else a process without its secrets refuses to start (strangler/servicekit/secret_settings.py).
typecheck typecheck-catalog bench bench-sync bench-proxy: export STRANGLER_DEMO = 1

## make up: the whole stack with demo data on the embedded defaults (stack.yaml; Ctrl-C stops it)
up: venv
	$(BIN)/strangler up --stack stack.yaml

## make test: every suite, lint and type checks, run side by side
# test-stacks first: its suites run one after the other and it is the longest, so it starts at
# once while the others share the remaining slots.
test: venv
	@$(MAKE) --no-print-directory -k -j3 --output-sync=target test-stacks lint typecheck \
		typecheck-catalog test-monolith test-catalog test-proxy test-strangler test-sync \
		test-sidebyside test-library test-dashboard

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: venv
	$(BIN)/mypy monolith strangler

# The Django plugin binds one settings module per process: the catalog service gets its own run.
typecheck-catalog: venv
	$(BIN)/mypy --config-file extracted/catalog/mypy.ini extracted

# The catalog's contract suite (tests/catalog_contract) runs in both: each against its own side.
test-monolith: venv
	$(PYTEST) --ds=monolith.settings tests/monolith tests/catalog_contract

test-catalog: venv
	$(PYTEST) --ds=extracted.catalog.settings tests/extracted tests/catalog_contract

test-proxy: venv
	$(PYTEST) tests/proxy

test-sidebyside: venv
	$(PYTEST) tests/sidebyside

# The second monolith (examples/library, a team's project on Django 4.2), here on the toolkit's
# Django: its own tests, and from-urlconf and the pytest plugin on it.
test-library: venv
	$(PYTEST) -o pythonpath=examples/library --ds=library.settings tests/library

# Three proxy replicas on three simulated hosts (network namespaces: root or CAP_NET_ADMIN)
# sharing one PostgreSQL store.
test-fleet: venv
	$(PYTEST) tests/fleet

test-tutorials: venv
	$(PYTEST) tests/tutorials

test-e2e: venv
	$(PYTEST) tests/e2e

# The dashboard in Debian's Chromium (apt-get install chromium), driven by Playwright against
# a real stack; without Chromium the tests skip and the summary says so in capitals. `make
# test` runs them beside the other suites, not in test-stacks: no gate of theirs measures
# latency, and test-stacks is the longest chain already.
test-dashboard: venv
	$(PYTEST) tests/dashboard

# The suites that start many processes, one after the other: side by side on two cores they
# slow each other's services, and the plans' latency gates (and the fleet's 1 s propagation
# bound) measure just that.
test-stacks: venv
	$(PYTEST) tests/tutorials tests/e2e tests/fleet

# The identity app runs in a project of its own without DRF (tests/identity_project).
test-strangler: venv
	$(PYTEST) tests/strangler tests/deploy tests/packaging tests/test_repository.py \
		--ignore=tests/strangler/sync --ignore=tests/strangler/contrib
	$(BIN)/python -m pytest -p no:cacheprovider --ds=tests.identity_project.settings tests/strangler/contrib

# Two nodes of a test project; the tests marked for one database engine run when DATABASE_URL
# names it (postgres:// or mysql://, the latter after `pip install -e '.[mysql]'`).
# `python -m pytest` puts the repository on sys.path, where the test project's settings live.
SYNC_ENGINE_MARKS = $(if $(filter postgres%,$(DATABASE_URL)),not mysql,$(if \
	$(filter mysql%,$(DATABASE_URL)),not postgres,not postgres and not mysql and not server_database))
test-sync: venv
	$(BIN)/python -m pytest -p no:cacheprovider --ds=tests.sync_project.settings tests/strangler/sync \
		-m "$(SYNC_ENGINE_MARKS)"

bench: venv
	$(BIN)/python bench/bench_monolith.py

bench-sync: venv
	$(BIN)/python bench/bench_sync.py

bench-proxy: venv
	$(BIN)/python bench/bench_proxy.py

clean:
	rm -rf $(VENV) var/*
