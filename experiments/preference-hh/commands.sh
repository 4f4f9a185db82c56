#!/usr/bin/env bash
# HH-RLHF preference (README.md at e33f235 and ffb7891; recipes from src/loralab/configs/preference_hh.yaml).
# About 20 minutes per training run on one core.
set -euo pipefail
loralab train --task preference --method lora  --data hh-rlhf-pairs --out runs/pref-lora  --max-length 160 --batch-size 16 --lr 1e-4 --head-lr 1e-4 --precision bf16 --max-eval-examples 300
loralab train --task preference --method qlora --data hh-rlhf-pairs --out runs/pref-qlora --max-length 160 --batch-size 16 --lr 1e-4 --head-lr 1e-4 --precision bf16 --max-eval-examples 300
loralab train --task preference --method full  --data hh-rlhf-pairs --out runs/pref-full  --max-length 160 --batch-size 16 --lr 3e-5 --head-lr 1e-4 --precision bf16 --max-eval-examples 300
loralab compare --config experiments/preference-hh/preference_hh.yaml --out reports/preference-hh
# one row:
loralab eval --task preference --data hh-rlhf-pairs --model runs/pref-lora
# (recorded: loralab preference-eval --model runs/pref-lora --split test)
