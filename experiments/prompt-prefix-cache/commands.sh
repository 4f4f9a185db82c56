#!/usr/bin/env bash
# Pointwise prompt re-ranking speed, each variant in its own process, one after the other, on a quiet machine.
set -euo pipefail
.venv/bin/python benchmarks/prompt_rerank_speed.py --queries 43 --candidates 20 --batch-size 20 \
  | tee experiments/prompt-prefix-cache/output.txt
