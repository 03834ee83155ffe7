# One entry point for people and CI. `make run` sets up and serves the app;
# `make test` sets up and runs the whole suite (lint, types, unit, API, crawler, browser).
# `make lint` also type-checks the page's JSDoc with the TypeScript frontend/package.json pins.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
# torch comes first, from the index that decides its build: CPU by default (PyPI's Linux wheel
# is the multi-GB CUDA one). For a GPU: make run TORCH_INDEX=https://download.pytorch.org/whl/cu128
# The version is pyproject.toml's pin, so the two can never disagree.
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu
# pip's default of 5 retries with back-off spends minutes per package on an index that cannot
# be reached (a machine that only sees a PyPI mirror); 2 retries still ride out a network blip.
export PIP_RETRIES ?= 2
TORCH_VERSION := $(shell sed -n 's/^ *"torch==\([^"]*\)".*/\1/p' pyproject.toml)

.PHONY: run test lint format docs browser bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "torch==$(TORCH_VERSION)" --index-url $(TORCH_INDEX)
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/task2box up

browser:
	scripts/ensure-test-tools.sh

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	scripts/check-page-types.sh

test: $(STAMP) browser lint
	$(PY) -m pytest

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Regenerates .env.example and the README's settings table from backend/config.py.
docs: $(STAMP)
	$(PY) -m backend.settings_doc --write

bench: $(STAMP)
	$(VENV)/bin/task2box bench hierarchy --json benchmarks/hierarchy.json

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .hypothesis
