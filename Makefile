# reportqa — two commands on a fresh clone: `make serve` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INDEX_DIR ?= var/index
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= $(shell nproc 2>/dev/null || echo 1)
CMRC ?= ../shared/benchmarks/cmrc2018
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: install index serve test test-fast lint eval eval-cmrc calibrate bench check-reliability clean

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q torch==2.13.0   # the CPU build; an unpinned torch pulls CUDA
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@

install: $(VENV)/.installed

index: install
	$(BIN)/reportqa index --if-missing --index-dir $(INDEX_DIR)

serve: index
	$(BIN)/reportqa serve --index-dir $(INDEX_DIR) --host $(HOST) --port $(PORT) --workers $(WORKERS)

test: install
	$(BIN)/python -m pytest -q

test-fast: install
	$(BIN)/python -m pytest -q -m "not integration and not browser"

# mypy cannot follow package-dir mapping, so it reads a tree of links laid out as the installed package
lint: install
	$(BIN)/ruff check .
	rm -rf var/typecheck && mkdir -p var/typecheck/reportqa
	cd var/typecheck/reportqa && ln -s ../../../reportqa/* . && for d in ingest index answer api eval; do ln -s ../../../$$d $$d; done
	cd var/typecheck && ../../$(BIN)/mypy --config-file ../../pyproject.toml -p reportqa

eval: index
	$(BIN)/reportqa eval --index-dir $(INDEX_DIR) --report eval/reports/reports
	$(BIN)/reportqa eval --index-dir $(INDEX_DIR) --cite --report eval/reports/reports
	$(BIN)/reportqa eval --index-dir $(INDEX_DIR) --qa eval/fresh/qa.jsonl --variant bm25 dense hybrid --report eval/reports/fresh
	$(BIN)/reportqa eval --index-dir $(INDEX_DIR) --cite --qa eval/fresh/claims.jsonl --report eval/reports/fresh
	$(BIN)/reportqa eval --index-dir $(INDEX_DIR) --qa eval/fresh2/qa.jsonl --variant bm25 dense hybrid --report eval/reports/fresh2
	$(BIN)/reportqa eval --index-dir $(INDEX_DIR) --qa eval/refusal_dev/qa.jsonl --variant hybrid --report eval/reports/refusal_dev
	$(MAKE) eval-cmrc

eval-cmrc: install
	$(BIN)/reportqa eval --qa $(CMRC)/qa.jsonl --corpus $(CMRC)/corpus.jsonl --index-dir var/cmrc-index \
		--variant bm25 hybrid --report eval/reports/cmrc

calibrate: index
	$(BIN)/reportqa eval --index-dir $(INDEX_DIR) --calibrate

bench: index
	$(BIN)/python -m bench.run

check-reliability: index
	$(BIN)/python -m pytest -q tests/reliability
	$(BIN)/python -m bench.reliability --requests 20000 --concurrency 32
	$(BIN)/python -m bench.reliability --hostile --concurrency 16

clean:
	rm -rf var eval/reports .pytest_cache .mypy_cache .ruff_cache
