#!/usr/bin/env bash
# Instruction SFT (README.md at dc93d12).
set -euo pipefail
loralab train --task sft --method qlora --model smollm2-135m-instruct --data amazon-uk-instructions --out runs/sft-qlora --max-train-examples 480 --max-eval-examples 48 --batch-size 8 --precision bf16 --eval-steps 20 --save-steps 20 --max-length 160
loralab eval --task sft --data amazon-uk-instructions --model smollm2-135m-instruct --limit 100
loralab eval --task sft --data amazon-uk-instructions --model runs/sft-qlora --limit 100
# (recorded: loralab sft-eval --model runs/sft-qlora --limit 100; the base row with --model smollm2-135m-instruct)
loralab generate "Which brand makes this product? Answer with the brand only." --input "Disney Frozen Musical and Light-Up Elsa Fancy Dress Costume 9-10yrs Made by 'George'" --model smollm2-135m-instruct --adapter runs/sft-qlora/adapter
