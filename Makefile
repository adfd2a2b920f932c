# One task runner for people and CI. `make run` and `make test` work on a fresh clone:
# they create .venv with the Python found as $(PYTHON) (3.11 or newer) and install refs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run test lint types unit bench examples clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

## The main job on the bundled examples (offline: cache/ holds their records).
run: setup
	$(BIN)/refs resolve examples/

## The whole test suite: lint, formatting, types, tests.
test: lint types unit

lint: setup
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/ruff format --check src tests benchmarks scripts
	$(BIN)/python scripts/imports.py --quiet

types: setup
	$(BIN)/mypy

unit: setup
	$(BIN)/python -m pytest

## Benchmarks: print the figures quoted in the issues' closing notes.
bench: setup
	$(BIN)/python benchmarks/bench_cli.py
	$(BIN)/python benchmarks/bench_extract.py
	$(BIN)/python benchmarks/bench_resolve.py
	$(BIN)/python benchmarks/bench_refresh.py
	$(BIN)/python benchmarks/bench_export.py

## Regenerate cache/records.sqlite and references/library.{bib,json} from tests/fixtures.
examples: setup
	$(BIN)/python scripts/regenerate_examples.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .hypothesis
