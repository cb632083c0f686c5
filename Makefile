# consentkit developer commands. `make demo` and `make test` work on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DEMO_STAMP := $(VENV)/.demo-stamp

.PHONY: demo test lint bench bench-realistic load fuzz fuzz-native fallback clean

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

## fallback: `make test` on a copy of the tree installed without a C compiler (pure-Python scanner)
FALLBACK_DIR := build/fallback
fallback:
	rm -rf $(FALLBACK_DIR)
	mkdir -p $(FALLBACK_DIR)
	tar -c --exclude=./.git --exclude='./.venv*' --exclude=./build --exclude='*.so' --exclude='*.o' \
		--exclude=__pycache__ --exclude='*.egg-info' --exclude=node_modules --exclude='.*cache' . \
		| tar -x -C $(FALLBACK_DIR)
	cd $(FALLBACK_DIR) && CC=/bin/false LDSHARED=/bin/false $(MAKE) lint
	$(FALLBACK_DIR)/.venv/bin/consentkit --version | grep 'pure Python'
	cd $(FALLBACK_DIR) && .venv/bin/pytest -p no:cacheprovider \
		--deselect tests/test_build.py::test_with_a_compiler_the_native_scanner_is_installed

## bench: performance measurements against a bare app (not run in CI): the realistic app first
bench: $(STAMP)
	$(BIN)/python benchmarks/realistic.py
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/audit_stores.py

## bench-realistic: only the realistic app (Jinja2 page per request; uvicorn + wrk, and in process)
bench-realistic: $(STAMP)
	$(BIN)/python benchmarks/realistic.py

## load: the multi-worker load run (20,000 mixed requests)
load: $(STAMP)
	$(BIN)/python benchmarks/load.py

## fuzz: the C scan under libFuzzer + ASan/UBSan for FUZZ_SECONDS, then the long Python variants
fuzz: fuzz-native $(STAMP)
	$(BIN)/pytest tests/test_fuzz.py tests/test_native_scan.py tests/test_security.py --long

CLANG ?= clang
FUZZ_SECONDS ?= 120
FUZZ_DIR := build/fuzz
FUZZ_FLAGS := -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all

## fuzz-native: libFuzzer on csrc/ck_scan.c (installs clang + compiler-rt on Debian as root if needed)
fuzz-native: $(FUZZ_DIR)/fuzz_scan
	mkdir -p $(FUZZ_DIR)/corpus
	cp tests/fixtures/trackers.html examples/release_page/templates/*.html $(FUZZ_DIR)/corpus/
	$(FUZZ_DIR)/fuzz_scan -max_total_time=$(FUZZ_SECONDS) -max_len=16384 -print_final_stats=1 \
		-dict=csrc/fuzz/scan.dict -artifact_prefix=$(FUZZ_DIR)/ $(FUZZ_DIR)/corpus

$(FUZZ_DIR)/fuzz_scan: csrc/ck_scan.c csrc/ck_scan.h csrc/fuzz/fuzz_scan.c
	CLANG=$(CLANG) sh csrc/fuzz/toolchain.sh
	mkdir -p $(FUZZ_DIR)
	$(CLANG) $(FUZZ_FLAGS) csrc/fuzz/fuzz_scan.c csrc/ck_scan.c -o $@

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
