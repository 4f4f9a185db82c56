#!/usr/bin/env bash
# Long versions of the serving failure scenarios (short ones run in make test: tests/serve/test_serve_production.py).
set -euo pipefail
.venv/bin/python benchmarks/serve_load.py --scenarios soak,overload,kill \
  --soak-seconds 180 --overload-seconds 30 --kill-seconds 30 --docs 4 | tee experiments/serving-production/output.txt
