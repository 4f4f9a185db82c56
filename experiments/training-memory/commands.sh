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

# 2026-12-07: quality at fixed steps. The recipe cut to 40 steps under both settings (seed 42, run folders kept), the
# same at seed 7, then every adapter scored on SciFact test (300 claims, top 30, max length 256); ~2 h in all
python benchmarks/train_memory.py --steps 40 --rows one-pass-unbucketed,default --keep runs/train-memory-40 --json experiments/training-memory/recipe_memory_40.json
R="loralab train --task rerank --method lora --max-length 256 --lr 1e-3 --head-lr 3e-3 --precision auto --max-eval-examples 48 --teacher minilm --data scifact --negative-pool 50 --max-steps 40 --eval-steps 20 --save-steps 20"  # the 40-step recipe; --seed below
$R --seed 7 --out runs/train-memory-40/default-seed7
$R --seed 7 --forward-batch 8 --pad-to-multiple-of 1 --out runs/train-memory-40/one-pass-unbucketed-seed7
python experiments/training-memory/quality.py runs/train-memory-40 --rows one-pass-unbucketed,default,one-pass-unbucketed-seed7,default-seed7 --pairs "default:one-pass-unbucketed,default-seed7:one-pass-unbucketed-seed7,mean(default+default-seed7):mean(one-pass-unbucketed+one-pass-unbucketed-seed7),one-pass-unbucketed-seed7:one-pass-unbucketed,default-seed7:default"

# 2026-12-07 (later): two more seeds of each setting at 40 steps, each pair scored as soon as it is trained (~2 h)
for seed in 1 2; do
  $R --seed $seed --out runs/train-memory-40/default-seed$seed
  $R --seed $seed --forward-batch 8 --pad-to-multiple-of 1 --out runs/train-memory-40/one-pass-unbucketed-seed$seed
  python experiments/training-memory/quality.py runs/train-memory-40 --rows one-pass-unbucketed,default,one-pass-unbucketed-seed7,default-seed7,one-pass-unbucketed-seed$seed,default-seed$seed
done
# every row scored above (stored in quality.json, not scored again): per-seed tests and the comparison over seeds
python experiments/training-memory/quality.py runs/train-memory-40 --rows one-pass-unbucketed,default,one-pass-unbucketed-seed7,default-seed7,one-pass-unbucketed-seed1,default-seed1,one-pass-unbucketed-seed2,default-seed2 --pairs default:one-pass-unbucketed,default-seed7:one-pass-unbucketed-seed7,default-seed1:one-pass-unbucketed-seed1,default-seed2:one-pass-unbucketed-seed2 --seeds default:one-pass-unbucketed
