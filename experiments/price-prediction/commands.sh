#!/usr/bin/env bash
# Amazon UK price prediction (README.md at dc93d12). Training: 1,872 s measured on 1 CPU thread.
set -euo pipefail
loralab train --task regress --method qlora --model smollm2-135m-instruct --data amazon-uk-prices --out runs/price-qlora --max-train-examples 3000 --batch-size 8 --precision bf16 --eval-steps 125 --save-steps 125 --max-length 128
loralab compare --config experiments/price-prediction/price_uk.yaml --out reports/price_uk
# one row:
loralab eval --task regress --data amazon-uk-prices --model runs/price-qlora --decoding topk --top-k 5 --limit 300 --json
# (recorded: loralab price-eval --model runs/price-qlora --decoding topk --top-k 5 --limit 300 --json)
loralab tokens      # how each installed tokenizer splits numbers
