#!/usr/bin/env bash
# CPU re-ranking throughput against sentence-transformers and onnxruntime (README.md). About 3 minutes.
# The model is experiments/qat-scifact's float model: train and merge it with steps 1 of that folder's commands.sh.
set -euo pipefail
# bf16 and torchao are skipped on this AVX2 CPU: its bf16 matmul runs at 16 GFLOP/s and torch._int_mm at 2.5 GOP/s
# (measured by this script's peaks), so those rows would take many minutes and cannot be the fast path here.
python benchmarks/rerank_vs_peers.py --model "$PWD/merged/qat-base" --pairs 600 --rounds 2 --skip bf16,torchao --json experiments/rerank-vs-peers/results.json
# Addendum (2026-12-07): the same with the per-channel and smoothed int8 rows added (smoothed.json)
python benchmarks/rerank_vs_peers.py --model "$PWD/merged/qat-base" --pairs 600 --rounds 2 --skip bf16,torchao --json experiments/rerank-vs-peers/smoothed.json
