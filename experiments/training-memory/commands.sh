#!/usr/bin/env bash
# Peak-RSS probe (README.md at bd21bf6). The exact command of the 60-step preference runs was not recorded; this is
# the preference recipe of experiments/preference-hh cut to 60 steps, under each setting.
set -euo pipefail
base="loralab train --task preference --method lora --data hh-rlhf-pairs --max-length 160 --batch-size 16 --lr 1e-4 --head-lr 1e-4 --max-steps 60"
$base --precision bf16 --out runs/rss-default
MALLOC_ARENA_MAX=2 $base --precision bf16 --out runs/rss-arena2
$base --precision fp32 --out runs/rss-fp32
ONEDNN_PRIMITIVE_CACHE_CAPACITY=0 $base --precision bf16 --out runs/rss-onednn0
# peak RSS is in each run's metrics.json

# 2026-12-03: one training step by pass size and attention dropout (~4 minutes; nothing else running)
python benchmarks/train_step_memory.py --json experiments/training-memory/step_memory.json
# the whole SciFact recipe cut to 12 steps, one pass unbucketed (before) vs the new default (~25 minutes)
python benchmarks/train_memory.py --steps 12 --rows one-pass-unbucketed,default --json experiments/training-memory/recipe_memory.json
