#!/usr/bin/env bash
# Quantization ablation (README.md at 7d055fc, re-measured at f27ef44). Needs the runs of
# experiments/scifact-cross-encoder-training recipe 1 (192 tokens, no teacher): runs/ce-lora and runs/ce-qlora.
set -euo pipefail
python benchmarks/quant_ablation.py --model runs/ce-lora                         # the table (one run)
python benchmarks/quant_ablation.py --model runs/ce-lora --qlora runs/ce-qlora   # plus the QLoRA merge paths
loralab inspect runs/ce-lora --quant nf4 --json                                  # NF4 bytes, bits/weight, per-layer error
loralab inspect smollm2-135m-instruct                                            # parameter and footprint table
# single variants, as a user would ship them:
loralab quantize runs/ce-lora --method int8-dynamic --out quant/ce-int8
loralab quantize runs/ce-qlora --method nf4 --out quant/ce-qlora-nf4
loralab rerank --dataset trec-dl-2019 --ranker cross-encoder --model quant/ce-int8 --out int8.trec
loralab eval --task rerank --data trec-dl-2019 --run int8.trec --json
