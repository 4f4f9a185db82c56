#!/usr/bin/env bash
# A MiniLM cross-encoder student trained with no DL19 query or judgment, from real unlabeled queries (a "query log":
# 1,200 BEIR Natural Questions test questions per fold) on the DL19 passages outside each fold's candidate pools,
# scored by the mpnet + SPLADE-tiny teacher ensemble; evaluated on TREC DL 2019 by 2-fold cross-fitting.
# Needs `make teachers` (mpnet, splade-tiny). Run from the repository root; each chain step resumes after a kill.
set -euo pipefail
E=experiments/labelfree-dl19-log
for f in 0 1; do
  loralab labelfree $E/fold$f.yaml          # sample queries → mine → score → groups, cached in $E/chain-fold$f/
done
for f in 0 1; do
  loralab train --task rerank --method lora --model minilm --data $E/chain-fold$f/groups/groups.jsonl.gz \
    --loss margin-mse --num-negatives 7 --max-length 256 --batch-size 8 --epochs 1 --lr 1e-3 --head-lr 3e-3 \
    --eval-steps 50 --save-steps 50 --max-eval-examples 48 --precision auto --out runs/labelfree-log-fold$f
done
loralab rerank --dataset trec-dl-2019 --ranker cross-encoder --crossfit runs/labelfree-log-fold0,runs/labelfree-log-fold1 \
  --out runs/labelfree-log-student.trec --runs-dir runs --json
