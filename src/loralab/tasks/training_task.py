"""What the one training path (loralab.training) needs from a task: datasets, collator, loss and metrics."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


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
