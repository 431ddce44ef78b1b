# `make serve` and `make test` work on a fresh machine: they install uv (from PyPI) and the locked
# dependencies into ./.venv first.
SHELL := /bin/bash
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)

.PHONY: install serve test test-all lint format migrate clean bench

.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet uv

install: $(if $(findstring .tools,$(UV)),.tools/bin/uv)
	$(UV) sync --frozen --quiet

serve: install
	$(UV) run --frozen tether-relay serve

migrate: install
	$(UV) run --frozen tether-relay migrate

lint: install
	$(UV) run --frozen ruff check src tests bench
	$(UV) run --frozen ruff format --check src tests bench
	$(UV) run --frozen mypy
	$(UV) run --frozen lint-imports

# Tests run on every core (pytest-xdist); the slow suites only under CI=true or in `make test-all`.
test: lint
	$(UV) run --frozen pytest -n auto

test-all: lint
	TETHER_TEST_ALL=1 $(UV) run --frozen pytest -n auto

format: install
	$(UV) run --frozen ruff format src tests bench
	$(UV) run --frozen ruff check --fix src tests bench

clean:
	rm -rf .venv .tools var .pytest_cache .mypy_cache .ruff_cache

bench: install
	$(UV) run --frozen python -m bench.run
	$(UV) run --frozen python -m bench.search
