#!/usr/bin/env bash
# Serving load test (README.md at 3aefd99). About 30 s per invocation on loopback.
set -euo pipefail
python benchmarks/serve_load.py --docs 1 --doc-chars 200     # row 1 (1 torch thread is the default)
python benchmarks/serve_load.py                              # row 2: 4 DL19 passages per request
python benchmarks/serve_load.py --threads 2                  # row 3
