#!/usr/bin/env bash
# SciFact bi-encoder student: the chain of labelfree-scifact (809 training claims with their qrels as a labelled
# query log, BM25 + dense negatives, the mpnet + SPLADE-tiny ensemble as teacher; its step outputs are committed
# there) trains a LoRA MiniLM bi-encoder (`--ranker bi-encoder`: query and abstract embedded apart, cosine x 20)
# with listwise cross-entropy on the judged positive plus KL towards the teacher's softmax; then the 300 test claims.
# Run from the repository root.
set -euo pipefail
E=experiments/labelfree-scifact-bi-encoder
loralab labelfree experiments/labelfree-scifact/chain.yaml     # every step cached: nothing to redo
for lr in 2e-4 1e-3; do                  # 2e-4 first; 1e-3 tried after it was scored (the committed student/)
  loralab train --task rerank --ranker bi-encoder --method lora --model minilm \
    --data experiments/labelfree-scifact/chain/groups/groups.jsonl.gz \
    --loss listwise --teacher-scale 3 --distill-weight 1 --num-negatives 7 --max-length 256 --batch-size 8 \
    --epochs 1 --lr $lr --eval-steps 25 --save-steps 25 --max-eval-examples 48 --precision auto \
    --out runs/labelfree-scifact-bi-encoder$([ $lr = 2e-4 ] || echo -lr$lr)
done
mkdir -p $E/student && cp -r runs/labelfree-scifact-bi-encoder-lr1e-3/{adapter,manifest.json,metrics.json,train_config.json,curves.jsonl} $E/student/
loralab compare --config $E/compare.yaml --out reports/labelfree-scifact-bi-encoder
loralab compare --config $E/compare-lr1e-3.yaml --out reports/labelfree-scifact-bi-encoder-lr1e-3
python experiments/labelfree-scifact/paired.py reports/labelfree-scifact-bi-encoder reports/labelfree-scifact-bi-encoder-lr1e-3 \
  --out $E/results.json --against "MiniLM bi-encoder (zero-shot, the student's start)" --against "chain student (bi-encoder, LoRA)"
