# consentkit developer commands. `make demo` and `make test` work on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DEMO_STAMP := $(VENV)/.demo-stamp

.PHONY: demo test lint bench load fuzz clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# the demo needs only consentkit and uvicorn
$(DEMO_STAMP): pyproject.toml setup.py $(wildcard csrc/*) | $(VENV)/bin/python
	$(BIN)/pip install --quiet -e '.[demo]'
	touch $(DEMO_STAMP)

# tests, linters and every framework the integration tests cover
$(STAMP): pyproject.toml setup.py $(wildcard csrc/*) | $(VENV)/bin/python
	$(BIN)/pip install --quiet -e '.[demo,test,lint]'
	touch $(STAMP) $(DEMO_STAMP)

## demo: install and serve the release-page example at http://127.0.0.1:8000
demo: $(DEMO_STAMP)
	$(BIN)/consentkit demo --host 127.0.0.1 --port 8000

## test: install, lint, type-check and run the whole suite (browser tests included)
test: lint
	$(BIN)/pytest

## lint: ruff (lint and format check) and mypy --strict
lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/ruff format --check src tests benchmarks examples
	$(BIN)/mypy

## bench: performance measurements against a bare app (not run in CI)
bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

## load: the multi-worker load run (20,000 mixed requests)
load: $(STAMP)
	$(BIN)/python benchmarks/load.py

## fuzz: the long fuzzing variants (>= 100,000 documents)
fuzz: $(STAMP)
	$(BIN)/pytest tests/test_fuzz.py --long

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
