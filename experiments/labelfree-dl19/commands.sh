#!/usr/bin/env bash
# A MiniLM cross-encoder student trained with no DL19 query or judgment, scored on TREC DL 2019 by 2-fold
# cross-fitting: the student of fold k was trained on a chain that never saw fold k's BM25 top-100 passages.
# Needs `make teachers` (mpnet, splade-tiny). Run from the repository root; each step resumes after a kill.
set -euo pipefail
E=experiments/labelfree-dl19
for f in 0 1; do
  loralab labelfree $E/fold$f.yaml          # generate → mine → score → groups, cached in $E/chain-fold$f/
done
for f in 0 1; do
  loralab train --task rerank --method lora --model minilm --data $E/chain-fold$f/groups/groups.jsonl.gz \
    --loss margin-mse --num-negatives 7 --max-length 256 --batch-size 8 --epochs 2 --lr 1e-3 --head-lr 3e-3 \
    --eval-steps 20 --save-steps 20 --max-eval-examples 48 --precision auto --out runs/labelfree-dl19-fold$f
done
loralab rerank --dataset trec-dl-2019 --ranker cross-encoder --crossfit runs/labelfree-dl19-fold0,runs/labelfree-dl19-fold1 \
  --out runs/labelfree-dl19-student.trec --runs-dir runs --json
loralab rerank --dataset trec-dl-2019 --ranker cross-encoder --crossfit runs/labelfree-dl19-fold0,runs/labelfree-dl19-fold1 \
  --interpolate 0.5 --out runs/labelfree-dl19-student-bm25.trec --runs-dir runs --json
# Bi-encoder students on the same groups (`--ranker bi-encoder`: they start at the zero-shot MiniLM bi-encoder): 3 epochs
# at lr 2e-4, then 2 at lr 1e-3 (the better SciFact bi-encoder student's lr; the first runs kept checkpoints within 2);
# then their cross-fitted scores against that start, the teacher, BM25 and the cross-encoder students.
for setting in "3 2e-4 dl19-gen ." "2 1e-3 dl19-gen-lr1e-3 lr1e-3"; do
  read -r epochs lr name scores <<< "$setting"
  for f in 0 1; do
    loralab train --task rerank --ranker bi-encoder --method lora --model minilm \
      --data $E/chain-fold$f/groups/groups.jsonl.gz \
      --loss listwise --teacher-scale 3 --distill-weight 1 --num-negatives 7 --max-length 256 --batch-size 8 \
      --epochs $epochs --lr $lr --eval-steps 11 --save-steps 11 --max-eval-examples 48 --precision auto \
      --out runs/bienc/$name-fold$f
  done
  loralab rerank --dataset trec-dl-2019 --ranker bi-encoder --crossfit runs/bienc/$name-fold0,runs/bienc/$name-fold1 \
    --out runs/bienc/$name.trec --runs-dir runs/bienc/$scores --json
done
loralab rerank --dataset trec-dl-2019 --ranker bi-encoder --model minilm --out runs/bienc/dl19-minilm.trec \
  --runs-dir runs/bienc/zero-shot --json
python $E/bi_encoder.py runs/bienc/zero-shot/rerank-trec-dl-2019-bi-encoder \
  "bi-encoder student, lr 2e-4 (cross-fitted)=runs/bienc/rerank-trec-dl-2019-bi-encoder" \
  "bi-encoder student, lr 1e-3 (cross-fitted)=runs/bienc/lr1e-3/rerank-trec-dl-2019-bi-encoder"
