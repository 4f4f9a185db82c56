#!/usr/bin/env bash
# Two fold-0 variants of the label-free DL19 student, each scored on fold 0's 22 queries only:
#  (1) real unlabeled queries instead of generated ones: 1,200 BEIR Natural Questions test questions (a "query log")
#      on the DL19 passages outside fold 0's candidate pools, scored by the mpnet + SPLADE-tiny ensemble;
#  (2) the generated-query groups of labelfree-dl19 with full fine-tuning instead of LoRA.
# Needs `make teachers` (mpnet, splade-tiny). Run from the repository root; each chain step resumes after a kill.
set -euo pipefail
E=experiments/labelfree-dl19-log
for f in 0 1; do
  loralab labelfree $E/fold$f.yaml          # sample queries → mine → score → groups, cached in $E/chain-fold$f/
done
# (1) LoRA student on the query-log groups (1,080 train / 48 held out; 135 steps, 1,224 s here)
loralab train --task rerank --method lora --model minilm --data $E/chain-fold0/groups/groups.jsonl.gz \
  --loss margin-mse --num-negatives 7 --max-length 256 --batch-size 8 --epochs 1 --lr 1e-3 --head-lr 3e-3 \
  --eval-steps 50 --save-steps 50 --max-eval-examples 48 --precision auto --out runs/labelfree-log-fold0
# (2) full fine-tuning on labelfree-dl19's generated-query groups (175 train / 20 held out; 44 steps)
loralab train --task rerank --method full --model minilm --data experiments/labelfree-dl19/chain-fold0/groups/groups.jsonl.gz \
  --loss margin-mse --num-negatives 7 --max-length 256 --batch-size 8 --epochs 2 --lr 5e-5 --head-lr 1e-3 \
  --eval-steps 20 --save-steps 100 --max-eval-examples 48 --precision auto --out runs/labelfree-gen-full-fold0
python $E/fold0_students.py "query-log LoRA student=runs/labelfree-log-fold0" \
  "generated-query full fine-tune=runs/labelfree-gen-full-fold0"
