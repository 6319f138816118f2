# The two set-up commands: `make site` and `make test`. Each installs what it needs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Re-install when the dependency list changes.
STAMP      := $(VENV)/.installed
SITE_STAMP := $(VENV)/.installed-site
TEST_STAMP := $(VENV)/.installed-test
LINT_STAMP := $(VENV)/.installed-lint


.PHONY: install site serve test test-fast check fmt lint lock bench bench-csl clean golden

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e .
	@# bytecode for the editable package, as pip writes for installed ones (PYTHONDONTWRITEBYTECODE would
	@# otherwise make every `evidence` command compile the generator again)
	$(BIN)/python -m compileall -q generator
	@touch $@

# Extras: site (pandoc, for formatted references; only where pages are built, never for `evidence check`),
# lint (ruff, mypy) and test (the suite, which builds sites and lints, so it includes both).
$(SITE_STAMP): $(STAMP) pyproject.toml
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[site]'
	@touch $@

$(TEST_STAMP): $(STAMP) pyproject.toml
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	@touch $@

$(LINT_STAMP): $(STAMP) pyproject.toml
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[lint]'
	@touch $@

## install: create .venv and install the project (the `evidence` command)
install: $(STAMP)

## site: check the evidence base and build the site into site/
site: $(SITE_STAMP)
	$(BIN)/evidence build

## serve: preview the site at http://127.0.0.1:8000, rebuilding on changes
serve: $(SITE_STAMP)
	$(BIN)/evidence serve

## check: check the evidence base only
check: $(STAMP)
	$(BIN)/evidence check --strict

## fmt: rewrite records in the canonical layout
fmt: $(STAMP)
	$(BIN)/evidence fmt

## test: install test tools (and Debian's Chromium if missing) and run the whole suite
test: $(TEST_STAMP)
	@sh tools/ensure-chromium.sh
	$(BIN)/python -m pytest

## lock: re-pin constraints.txt to the newest versions pyproject.toml allows (then run make test)
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet -e '.[test,cite]'
	(head -2 constraints.txt; .lock-venv/bin/python -m pip freeze --exclude-editable | grep -v '^-e') > constraints.new
	mv constraints.new constraints.txt && rm -rf .lock-venv

## test-fast: the whole suite except the browser tests (no Chromium needed)
test-fast: $(TEST_STAMP)
	$(BIN)/python -m pytest -m "not browser"

## lint: ruff and mypy
lint: $(LINT_STAMP)
	$(BIN)/ruff check generator tests
	$(BIN)/mypy generator tests

## golden: regenerate the golden files after an intended change (SET=diagnostics, render or references for one set)
golden: $(TEST_STAMP)
	$(BIN)/python -m tests.golden $(SET)

clean:
	rm -rf site build .pytest_cache

## bench: speed, memory and size at 1,000 and 10,000 studies (slow; writes bench/results/DATE.md)
bench: $(SITE_STAMP)
	$(BIN)/python bench/bench.py

## bench-csl: the CSL processor test suite against citeproc-py, pandoc (and citeproc-js when npm can install it)
bench-csl: $(SITE_STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	-@command -v npm >/dev/null && npm install --silent --no-audit --no-fund --prefix bench/.npm citeproc@2.4.63
	$(BIN)/python bench/csl_suite.py
