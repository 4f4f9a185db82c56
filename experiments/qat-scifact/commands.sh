#!/usr/bin/env bash
# Quantization-aware vs post-training quantization on SciFact (README.md). About 1 hour on 2 CPU cores.
set -euo pipefail
TRAIN="--task rerank --data scifact --teacher minilm --negative-pool 50 --max-length 192 --batch-size 4 --precision auto --max-eval-examples 48"

# 1. The float model: the SciFact LoRA recipe shortened to 100 steps of 4 groups, merged into fp32.
loralab train --method lora --out runs/qat-base-lora $TRAIN --lr 1e-3 --head-lr 3e-3 --max-steps 100 --eval-steps 50 --save-steps 50
loralab merge runs/qat-base-lora --out merged/qat-base

# 2. QAT from that model: every weight fine-tuned 60 steps against the deployed grid.
loralab train --method full --model merged/qat-base --qat int4-weight-only:group_size=128 --out runs/qat-int4 $TRAIN --lr 5e-5 --max-steps 60 --eval-steps 30 --save-steps 30
loralab train --method full --model merged/qat-base --qat int8-dynamic --out runs/qat-int8 $TRAIN --lr 5e-5 --max-steps 60 --eval-steps 30 --save-steps 30
# the control: the same 60 steps without --qat
loralab train --method full --model merged/qat-base --out runs/qat-control $TRAIN --lr 5e-5 --max-steps 60 --eval-steps 30 --save-steps 30

# 3. fp32, PTQ, the QAT runs' float weights, QAT, the control and its PTQ (SciFact test, 300 claims, BM25 top 30).
# In one go: the second command alone (without --reuse) scores all ten rows.
python benchmarks/qat_ablation.py --model merged/qat-base --qat runs/qat-int4 --qat runs/qat-int8 --dataset scifact --limit 300 --limit-candidates 30 --max-length 192 --out reports/qat-scifact
# the control rows were added in a second run that reused the first seven (as recorded):
python benchmarks/qat_ablation.py --model merged/qat-base --qat runs/qat-int4 --qat runs/qat-int8 --control runs/qat-control --dataset scifact --limit 300 --limit-candidates 30 --max-length 192 --out reports/qat-scifact --reuse reports/qat-scifact

# Addendum: post-training int8-dynamic with per-channel weight scales on the starting model and the control
python experiments/qat-scifact/per_channel.py merged/qat-base=fp32 "$PWD/runs/qat-control/model=fine-tuned without QAT"

# Addendum 2: smoothing (SmoothQuant-style) before per-channel int8-dynamic; the starting model at alpha 0.5 and 0.8,
# then the control at alpha 0.8 with fp32 and unsmoothed per-channel int8 timed in the same run
python experiments/qat-scifact/smooth_probe.py merged/qat-base=fp32 --alphas 0.5 0.8
python experiments/qat-scifact/smooth_probe.py "runs/qat-control/model=fine-tuned without QAT" --baselines --alphas 0.8
# the same through the library option (quantize=...), on the control
python experiments/qat-scifact/per_channel.py "runs/qat-control/model=fine-tuned without QAT" --spec "int8-dynamic:per_channel=true,smooth=0.8" --out smoothed.json
