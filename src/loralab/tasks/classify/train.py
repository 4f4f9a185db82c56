"""The classification training recipe: labeled texts, cross-entropy, accuracy picks the best checkpoint."""

from __future__ import annotations

from loralab.errors import DataError
from loralab.methods.configs import TrainConfig
from loralab.tasks.training_task import TrainingTask


def training_task(cfg: TrainConfig, tokenizer) -> TrainingTask:
    import random

    from transformers import DataCollatorWithPadding

    from loralab.tasks.classify.data import TokenizedTexts, classification_metrics, load_labeled

    train = load_labeled(cfg.data, "train")
    random.Random(cfg.seed).shuffle(train)
    train = train[: cfg.max_train_examples] if cfg.max_train_examples else train
    try:
        held = load_labeled(cfg.data, "validation")
    except DataError:  # no validation split: hold out part of train
        cut = int(len(train) * (1 - cfg.eval_fraction))
        train, held = train[:cut], train[cut:]
    held = held[: cfg.max_eval_examples]
    num_labels = max(e.label for e in train + held) + 1
    return TrainingTask(
        num_labels=max(num_labels, 2),
        train_dataset=TokenizedTexts(train, tokenizer, cfg.max_length),
        eval_dataset=TokenizedTexts(held, tokenizer, cfg.max_length),
        collator=DataCollatorWithPadding(tokenizer, pad_to_multiple_of=cfg.pad_to_multiple_of),
        compute_metrics=classification_metrics,
        metric_for_best="accuracy",
        description=f"{len(train)} training examples, {len(held)} held-out, {num_labels} labels",
    )
