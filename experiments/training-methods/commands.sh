#!/usr/bin/env bash
# LoRA vs QLoRA vs full (README.md at 9aa5787). Defaults: --steps 20 --batch-size 4 --max-length 128.
set -euo pipefail
python benchmarks/train_methods.py
# loralab's recipes vs a plain PEFT + Trainer script (README section, 2026-12-06):
python benchmarks/train_methods.py --vs-plain --rerank-steps 8 --classify-steps 30
