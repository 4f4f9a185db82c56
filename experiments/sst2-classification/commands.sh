#!/usr/bin/env bash
# SST-2 LoRA (README.md at f5dfefe and f377505).
set -euo pipefail
# recorded in the README (the 400-step row):
loralab train --task classify --method lora --data sst2 --out runs/sst2-lora --max-steps 400 --batch-size 32
# the 800-step row: the README gives its settings (800 steps x 32, max length 64) but not the command line;
# reconstructed from those settings:
loralab train --task classify --method lora --data sst2 --out runs/sst2-lora --max-steps 800 --batch-size 32 --max-length 64
loralab eval --task classify --data sst2 --model runs/sst2-lora --split test_glue_dev --json
# (recorded: loralab classify-eval --model runs/sst2-lora --data sst2 --split test_glue_dev)
