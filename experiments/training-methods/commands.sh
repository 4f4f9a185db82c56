#!/usr/bin/env bash
# LoRA vs QLoRA vs full (README.md at 9aa5787). Defaults: --steps 20 --batch-size 4 --max-length 128.
set -euo pipefail
python benchmarks/train_methods.py
