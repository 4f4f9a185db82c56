#!/usr/bin/env bash
# SciFact student from the label-free chain: the 809 training claims and their qrels as a labelled query log,
# BM25 + dense negatives, the mpnet + SPLADE-tiny ensemble as teacher; a LoRA MiniLM cross-encoder trained with
# listwise cross-entropy on the judged positive plus KL towards the teacher's softmax; then the 300 test claims.
# Needs `make teachers` (mpnet, splade-tiny). Run from the repository root; each chain step resumes after a kill.
set -euo pipefail
E=experiments/labelfree-scifact
loralab labelfree $E/chain.yaml                      # sample judged claims → mine → score → groups
loralab train --task rerank --method lora --model minilm --data $E/chain/groups/groups.jsonl.gz \
  --loss listwise --teacher-scale 3 --distill-weight 1 --num-negatives 7 --max-length 256 --batch-size 8 \
  --epochs 2 --lr 1e-3 --head-lr 3e-3 --eval-steps 50 --save-steps 50 --max-eval-examples 48 --precision auto \
  --out runs/labelfree-scifact
mkdir -p $E/student && cp -r runs/labelfree-scifact/{adapter,manifest.json,metrics.json,train_config.json,curves.jsonl} $E/student/
loralab compare --config $E/compare.yaml --out reports/labelfree-scifact
