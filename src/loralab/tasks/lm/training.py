"""Causal-LM training tasks: `regress` (price prediction) and `sft` (instruction tuning).

Both learn a completion after a prompt with completion-only loss (labels -100 on the prompt; the model's own
loss), keep the best checkpoint by held-out loss, and save a PEFT adapter plus what evaluation needs to prompt
the same way."""

from __future__ import annotations

import random
from pathlib import Path

from loralab.methods.configs import TrainConfig
from loralab.artifacts.atomic import save_artifact
from loralab.methods.model_setup import build_causal_lm
from loralab.tasks.training_task import TrainingTask
from loralab.tasks.lm.data import CompletionCollator, CompletionDataset


def split_train_held(items: list, cfg: TrainConfig) -> tuple[list, list]:
    """Shuffle with the seed; hold out eval_fraction (capped at max_eval_examples); the test split is never used."""
    items = list(items)
    random.Random(cfg.seed).shuffle(items)
    cut = max(1, int(len(items) * cfg.eval_fraction))
    held, train = items[:cut][: cfg.max_eval_examples], items[cut:]
    return (train[: cfg.max_train_examples] if cfg.max_train_examples else train), held


def completion_task(train_pairs, held_pairs, tokenizer, cfg: TrainConfig, description: str, save_extra) -> TrainingTask:
    def save(model, tok, method, out: Path) -> Path:
        folder = save_artifact(model, tok, method, out)
        save_extra(folder)
        return folder

    return TrainingTask(
        num_labels=1,
        train_dataset=CompletionDataset(train_pairs, tokenizer, cfg.max_length),
        eval_dataset=CompletionDataset(held_pairs, tokenizer, cfg.max_length),
        collator=CompletionCollator(tokenizer),
        compute_metrics=None,  # None: the Trainer reports eval_loss only and never gathers vocab-sized logits
        metric_for_best="loss",
        greater_is_better=False,
        description=description,
        build_model=build_causal_lm,
        save_artifact=save,
    )
