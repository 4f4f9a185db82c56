"""Causal-LM training tasks: `regress` (price prediction) and `sft` (instruction tuning).

Both learn a completion after a prompt with completion-only loss (labels -100 on the prompt; the model's own
loss), keep the best checkpoint by held-out loss, and save a PEFT adapter plus what evaluation needs to prompt
the same way."""

from __future__ import annotations

import random
from pathlib import Path

from loralab.methods.configs import TrainConfig
from loralab.methods.model_setup import build_causal_lm
from loralab.methods.task_data import TrainingTask
from loralab.tasks.lm_data import CompletionCollator, CompletionDataset


def _split(items: list, cfg: TrainConfig) -> tuple[list, list]:
    """Shuffle with the seed; hold out eval_fraction (capped at max_eval_examples); the test split is never used."""
    items = list(items)
    random.Random(cfg.seed).shuffle(items)
    cut = max(1, int(len(items) * cfg.eval_fraction))
    held, train = items[:cut][: cfg.max_eval_examples], items[cut:]
    return (train[: cfg.max_train_examples] if cfg.max_train_examples else train), held


def _lm_task(train_pairs, held_pairs, tokenizer, cfg: TrainConfig, description: str, save_extra) -> TrainingTask:
    from loralab.methods.train import save_artifact

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


def regress_training_task(cfg: TrainConfig, tokenizer) -> TrainingTask:
    from loralab.tasks.regress import PriceFormat, load_prices

    fmt = PriceFormat()
    train, held = _split(load_prices(cfg.data, "train"), cfg)
    pairs = [(fmt.prompt(i.text), fmt.answer(i.price)) for i in train]
    held_pairs = [(fmt.prompt(i.text), fmt.answer(i.price)) for i in held]
    return _lm_task(pairs, held_pairs, tokenizer, cfg,
                    f"{len(train)} priced items, {len(held)} held-out (completion-only loss on the price)", fmt.save)


def sft_training_task(cfg: TrainConfig, tokenizer) -> TrainingTask:
    from loralab.tasks.sft import InstructionFormat, load_instructions

    fmt = InstructionFormat(style="chat" if tokenizer.chat_template else "alpaca")
    train, held = _split(load_instructions(cfg.data, "train"), cfg)
    pairs = [(fmt.prompt(tokenizer, e), e.output) for e in train]
    held_pairs = [(fmt.prompt(tokenizer, e), e.output) for e in held]
    return _lm_task(pairs, held_pairs, tokenizer, cfg,
                    f"{len(train)} instructions ({fmt.style} format), {len(held)} held-out (completion-only loss)",
                    fmt.save)
