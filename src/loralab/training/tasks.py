"""Each task's training recipe, by name: `loralab.tasks.<name>.train.training_task(cfg, tokenizer)`."""

from __future__ import annotations

from loralab.errors import UnknownNameError
from loralab.methods.configs import TrainConfig
from loralab.tasks.training_task import TrainingTask

TASKS = ("rerank", "classify", "preference", "regress", "sft")


def training_task(cfg: TrainConfig, tokenizer) -> TrainingTask:
    if cfg.task not in TASKS:
        raise UnknownNameError(f"unknown training task '{cfg.task}'; choose one of: {', '.join(TASKS)}")
    import importlib

    # Imported by name so that training one task loads only that task's modules.
    return importlib.import_module(f"loralab.tasks.{cfg.task}.train").training_task(cfg, tokenizer)
