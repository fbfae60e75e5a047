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
SEALED ?=
# the answer verifier's fine-tuned layers in `make train-reader` (0: none; 6 trains the shipped kind, ~1.5 h more on 2 cores)
VERIFIER_LAYERS ?= 6
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: install index serve test test-fast check-install lint eval train-reader eval-sealed eval-cmrc calibrate bench \
	check-reliability clean

# torch is not pinned in the package metadata: install the CPU build first, or pip pulls the CUDA one (GBs).
# Elsewhere: make install TORCH="torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu"
TORCH ?= torch==2.13.0

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q $(TORCH)
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
	$(BIN)/python -m pytest -q -m "not integration and not browser and not install"

# a clean virtualenv, the CPU torch, then pip install '.[llm]': reportqa --version, and no eval packages in core
check-install: install
	$(BIN)/python -m pytest -q -m install tests/packaging

# mypy cannot follow package-dir mapping, so it reads a tree of links laid out as the installed package
lint: install
	$(BIN)/ruff check .
	rm -rf var/typecheck && mkdir -p var/typecheck/reportqa
	cd var/typecheck/reportqa && ln -s ../../../reportqa/* . && for d in ingest index answer api eval; do ln -s ../../../$$d $$d; done
	cd var/typecheck && ../../$(BIN)/mypy --config-file ../../pyproject.toml -p reportqa

# the learned system trained k-fold and scored out of fold beside the baselines, per type, with the rule
# ablation and the claim sets (eval/reports/experiment/report.md; docs/evaluation.md is written from it);
# then conversations turn by turn. CMRC 2018 is used when $(CMRC) exists.
eval: index
	$(BIN)/python -m reportqa.eval.experiment --report eval/reports/experiment $(if $(wildcard $(CMRC)/qa.jsonl),--cmrc $(CMRC))
	$(BIN)/reportqa eval --index-dir $(INDEX_DIR) --chat eval/chat.jsonl --report eval/reports/chat

# the shipped models (reportqa/models): ranker, reader, answerability and the claim verdict, fitted on every
# non-sealed set (and CMRC 2018 dev when present); about 15 minutes on 2 cores
train-reader: index
	$(BIN)/python -m reportqa.eval.train --out reportqa/models --verifier-layers $(VERIFIER_LAYERS) \
		$(if $(wildcard $(CMRC)/qa.jsonl),--cmrc $(CMRC))

# the sealed sets, written by people who never saw the system: scored once, with the shipped models
# (eval/datasets.py SEALED unless SEALED=eval/sealedN is given; the sets before it are training data now)
eval-sealed: index
	$(BIN)/python -m reportqa.eval.sealed $(if $(SEALED),--sets $(SEALED))

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
