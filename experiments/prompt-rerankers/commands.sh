#!/usr/bin/env bash
# Prompt-based re-ranking on DL19 (README.md at e5a0c0d).
set -euo pipefail
loralab compare --config experiments/prompt-rerankers/prompt_dl19.yaml --out reports/prompt-dl19
# (recorded: loralab compare --config src/loralab/configs/prompt_dl19.yaml --out reports/prompt-dl19)
# single modes:
loralab rerank --dataset trec-dl-2019 --ranker prompt-pointwise --limit-candidates 20 --out runs/yesno.trec
loralab rerank --dataset trec-dl-2019 --ranker prompt-listwise -o window=20 -o step=10 --limit-candidates 20 --out lw.trec
loralab eval --task rerank --data trec-dl-2019 --run lw.trec --json
