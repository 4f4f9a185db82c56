#!/usr/bin/env bash
# The label-free DL19 students (experiments/labelfree-dl19/student-fold{0,1}) quantized int8-dynamic: quality against
# themselves (2-fold cross-fitted NDCG@10 on all 43 queries) and speed against the mpnet teacher on the same pairs.
set -euo pipefail
S=experiments/labelfree-dl19
E=experiments/labelfree-student-int8
loralab rerank --dataset trec-dl-2019 --ranker cross-encoder --crossfit $S/student-fold0,$S/student-fold1 \
  --out runs/student-fp32.trec --runs-dir runs --json | tail -1 > $E/fp32.json
loralab rerank --dataset trec-dl-2019 --ranker cross-encoder --crossfit $S/student-fold0,$S/student-fold1 \
  -o quantize=int8-dynamic --out runs/student-int8.trec --runs-dir runs --json | tail -1 > $E/int8.json
python $E/paired.py runs/student-int8.trec runs/student-fp32.trec $E/int8_vs_fp32.json
# the same with one weight scale per output channel (activations still one scale per batch)
loralab rerank --dataset trec-dl-2019 --ranker cross-encoder --crossfit $S/student-fold0,$S/student-fold1 \
  -o quantize=int8-dynamic:per_channel=true --out runs/student-int8pc.trec --runs-dir runs --json | tail -1 > $E/int8_per_channel.json
python $E/paired.py runs/student-int8pc.trec runs/student-fp32.trec $E/int8_per_channel_vs_fp32.json
# speed, one run: each ranker warmed up on the first query, best of 2 passes over the first 8 queries' 100 candidates;
# the teacher re-encodes every passage on every pass (document_cache=0)
python benchmarks/student_vs_teacher.py --ranker teacher=bi-encoder:mpnet \
  --ranker student=cross-encoder:$S/student-fold0 --ranker student-int8=cross-encoder:$S/student-fold0@int8-dynamic \
  --ranker student-int8-per-channel=cross-encoder:$S/student-fold0@int8-dynamic:per_channel=true \
  --queries 8 --rounds 2 --json $E/speed.json
