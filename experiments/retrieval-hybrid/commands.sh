#!/usr/bin/env bash
# SciFact retrieval (README.md at 1dcbecd and 0841386).
set -euo pipefail
loralab index --dataset scifact --index-dir idx/scifact                      # BM25 (bm25s) + dense (minilm in Chroma)
loralab eval --task retrieve --data scifact --index-dir idx/scifact --mode bm25 --json
loralab eval --task retrieve --data scifact --index-dir idx/scifact --mode dense --json
loralab eval --task retrieve --data scifact --index-dir idx/scifact --mode hybrid --fusion rrf --json
loralab eval --task retrieve --data scifact --index-dir idx/scifact --mode hybrid --fusion weighted --json
# (recorded form: loralab retrieve-eval --dataset scifact --index-dir idx/scifact --mode hybrid --fusion weighted --json;
#  the bm25/dense/rrf rows used the same verb with --mode / --fusion changed)
python benchmarks/bm25_vs_rank_bm25.py                                       # bm25s vs rank_bm25, 300 queries
# Retrieve -> re-rank with the bi-encoder over the BM25 top 20: the exact commands (and the DL19 sub-corpus index)
# are not recorded in the README. The pipeline form is:
loralab search --index-dir idx/scifact "vitamin D and bone density" --mode hybrid --rerank bi-encoder:minilm
