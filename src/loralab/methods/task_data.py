"""What the one training path needs from a task: datasets, collator, loss and metrics."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from loralab.errors import DataError, UnknownNameError
from loralab.methods.configs import TrainConfig


@dataclass
class TrainingTask:
    num_labels: int
    train_dataset: Any
    eval_dataset: Any
    collator: Callable
    compute_metrics: Callable
    metric_for_best: str
    loss: Callable | None = None  # (logits, labels) -> (loss, logits to report); None: the model's own loss
    description: str = ""
    # Tasks whose model is not a sequence classifier (Siamese pairs, causal LMs) build and save their own:
    # build_model(backbone, method, gradient_checkpointing) -> (model, ParamCount, base_param_bytes)
    build_model: Callable | None = None
    # save_artifact(model, tokenizer, method, out_dir) -> artifact folder (adapter/ or model/)
    save_artifact: Callable | None = None
    # prepare_model(model) runs once on a fresh model before training (not on --resume: the checkpoint has it)
    prepare_model: Callable | None = None
    greater_is_better: bool = True  # False for losses (LM tasks pick the best checkpoint by eval loss)


def rerank_task(cfg: TrainConfig, tokenizer) -> TrainingTask:
    from loralab.tasks.rerank_train import (
        GroupCollator, GroupDataset, group_loss, group_metrics, load_training_groups, split_by_query,
    )

    groups = load_training_groups(cfg.data, max(cfg.num_negatives, 8), cfg.negative_pool, cfg.seed)
    train, held = split_by_query(groups, cfg.eval_fraction, cfg.seed)
    train = train[: cfg.max_train_examples] if cfg.max_train_examples else train
    fused = f" fused with BM25 x{cfg.teacher_bm25_weight:g}" if cfg.teacher_bm25_weight else ""
    distilling = f", distilling {cfg.teacher}{fused}, weight {cfg.distill_weight:g}" if cfg.teacher else ""
    return TrainingTask(
        num_labels=1,
        train_dataset=GroupDataset(train, cfg.num_negatives, cfg.teacher, cfg.max_length, cfg.teacher_bm25_weight),
        eval_dataset=GroupDataset(held[: cfg.max_eval_examples], cfg.num_negatives),
        collator=GroupCollator(tokenizer, cfg.max_length),
        compute_metrics=group_metrics,
        metric_for_best="mrr",
        loss=lambda logits, labels: group_loss(logits, labels, cfg.loss, cfg.distill_weight),
        description=f"{len(train)} training groups, {min(len(held), cfg.max_eval_examples)} held-out groups "
        f"(1 positive + {cfg.num_negatives} negatives, {cfg.loss} loss{distilling})",
    )


def classify_task(cfg: TrainConfig, tokenizer) -> TrainingTask:
    import random

    from transformers import DataCollatorWithPadding

    from loralab.tasks.classify import TokenizedTexts, classification_metrics, load_labeled

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
        collator=DataCollatorWithPadding(tokenizer),
        compute_metrics=classification_metrics,
        metric_for_best="accuracy",
        description=f"{len(train)} training examples, {len(held)} held-out, {num_labels} labels",
    )


def regress_task(cfg: TrainConfig, tokenizer) -> TrainingTask:
    from loralab.methods.lm_tasks import regress_training_task

    return regress_training_task(cfg, tokenizer)


def sft_task(cfg: TrainConfig, tokenizer) -> TrainingTask:
    from loralab.methods.lm_tasks import sft_training_task

    return sft_training_task(cfg, tokenizer)


def preference_task(cfg: TrainConfig, tokenizer) -> TrainingTask:
    from loralab.tasks.preference_train import preference_task as build

    return build(cfg, tokenizer)


TASKS = {
    "rerank": rerank_task, "classify": classify_task, "preference": preference_task,
    "regress": regress_task, "sft": sft_task,
}


def training_task(cfg: TrainConfig, tokenizer) -> TrainingTask:
    if cfg.task not in TASKS:
        raise UnknownNameError(f"unknown training task '{cfg.task}'; choose one of: {', '.join(TASKS)}")
    return TASKS[cfg.task](cfg, tokenizer)
