#!/usr/bin/env bash
# Several sampled queries per passage (GPL: 3, nucleus sampling) on labelfree-dl19's 600 fold-0 passages, and the
# same bi-encoder student recipe as labelfree-dl19-more, scored on fold 0's 22 DL19 queries against the greedy
# one-query-per-passage students on the same queries. No DL19 query or judgment is used for training. Needs
# `make teachers` (mpnet, splade-tiny). Run from the repository root; every step resumes after a kill.
set -euo pipefail
E=experiments/labelfree-dl19-sampled
for f in 0 1; do
  loralab labelfree $E/fold$f.yaml
  loralab train --task rerank --ranker bi-encoder --method lora --model minilm \
    --data $E/chain-fold$f/groups/groups.jsonl.gz \
    --loss listwise --teacher-scale 3 --distill-weight 1 --num-negatives 7 --max-length 256 --batch-size 8 \
    --epochs 2 --lr 1e-3 --eval-steps 20 --save-steps 20 --max-eval-examples 64 --precision auto \
    --out runs/dl19-sampled/gen-fold$f
done
# Fold 0's 22 queries: the student against the earlier rows on the same queries, and its agreement with the teacher
python $E/evaluate.py runs/dl19-sampled/gen-fold0
# Both folds, cross-fitted on all 43 queries (fold 1 run after fold 0 answered; same recipe, fixed before scoring)
python $E/crossfit.py runs/dl19-sampled/gen-fold1
