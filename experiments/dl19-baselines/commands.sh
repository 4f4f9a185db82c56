#!/usr/bin/env bash
# TREC DL 2019: BM25 vs MiniLM bi-encoder (from README.md at fe78884). About a few minutes on 2 CPU cores.
set -euo pipefail
make demo    # = loralab compare --config src/loralab/configs/demo.yaml --out reports/demo
# or the same comparison from this folder's copy of the config:
loralab compare --config experiments/dl19-baselines/demo.yaml --out reports/demo
# one ranker at a time:
loralab rerank --dataset trec-dl-2019 --ranker bi-encoder --model minilm --out runs/minilm.trec
loralab eval --task rerank --data trec-dl-2019 --run runs/minilm.trec --json
# (recorded form before the CLI change: loralab eval --dataset trec-dl-2019 --run runs/minilm.trec --json)
