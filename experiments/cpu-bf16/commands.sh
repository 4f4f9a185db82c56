#!/usr/bin/env bash
# One run on a quiet machine (nothing else running), ~1 minute.
set -euo pipefail
python benchmarks/cpu_matmul.py --json experiments/cpu-bf16/results.json
