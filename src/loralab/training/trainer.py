"""The one training path: full fine-tuning, LoRA and QLoRA differ only in their config.

Hugging Face Trainer underneath, so gradient accumulation, checkpointing, cosine schedule with warmup,
best-checkpoint selection, report_to and `accelerate launch` behave as users expect.
"""

from __future__ import annotations

import dataclasses

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from accelerate import PartialState
from rich.console import Console
from transformers import Trainer, TrainingArguments, set_seed
from transformers.trainer_pt_utils import LengthGroupedSampler

from loralab.data.registry import data_files
from loralab.errors import ConfigError
from loralab.eval.profile import peak_rss_bytes
from loralab.models.hardware import training_precision
from loralab.quant.qat import convert_qat, prepare_qat, qat_target
from loralab.training.callbacks import CurvesCallback, ProgressCallback
from loralab.training.checkpoints import last_complete_checkpoint
from loralab.methods.configs import FullConfig, LoraConfig, TrainConfig, to_dict
from loralab.methods.model_setup import build_classifier, head_modules
from loralab.training.tasks import training_task
from loralab.artifacts.load import load_tokenizer
from loralab.artifacts.atomic import atomic_write_json, save_artifact
from loralab.artifacts.run_folder import RunFolder

console = Console(stderr=True)


class LoralabTrainer(Trainer):
    """Adds a task loss hook, a separate head learning rate, and length grouping for grouped examples."""

    def __init__(self, *args, task_loss=None, head_lr: float | None = None, **kwargs):
        self.task_loss = task_loss
        self.head_lr = head_lr
        super().__init__(*args, **kwargs)
        if task_loss is not None:
            # A task loss is a mean over its forward pass's examples: the Trainer must divide it by the
            # accumulation steps. Left to decide (None), it skips that for models whose forward takes **kwargs
            # (BERT in transformers 5), and each forward pass would weigh as much as the whole step.
            self.loss_is_scaled_for_ga = False

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        if self.task_loss is None:
            return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
        labels = inputs.pop("labels")
        outputs = model(**inputs)
        loss, logits = self.task_loss(outputs.logits.float(), labels)
        return (loss, {"logits": logits}) if return_outputs else loss

    def create_optimizer(self, model=None):
        if self.optimizer is None and self.head_lr:
            heads = tuple(head_modules(self.model))
            params = [(n, p) for n, p in self.model.named_parameters() if p.requires_grad]
            is_head = [any(f".{h}." in f".{n}" for h in heads) for n, _ in params]
            groups = [
                {"params": [p for (_, p), h in zip(params, is_head) if not h], "lr": self.args.learning_rate},
                {"params": [p for (_, p), h in zip(params, is_head) if h], "lr": self.head_lr},
            ]
            self.optimizer = torch.optim.AdamW(groups, weight_decay=self.args.weight_decay)
            return self.optimizer
        return super().create_optimizer(model) if model is not None else super().create_optimizer()

    def _get_train_sampler(self, train_dataset=None):
        dataset = train_dataset if train_dataset is not None else self.train_dataset
        if hasattr(dataset, "lengths") and self.args.train_sampling_strategy == "group_by_length":
            # Mega-batches span every process: accelerate hands process i the i-th slice of each global
            # batch, so N processes see the same global batches in the same order as one process.
            global_batch = self.args.train_batch_size * self.args.world_size
            return LengthGroupedSampler(global_batch * self.args.gradient_accumulation_steps, lengths=dataset.lengths)
        return super()._get_train_sampler(train_dataset)

    def _get_eval_sampler(self, eval_dataset):
        if hasattr(eval_dataset, "lengths"):
            return torch.utils.data.SequentialSampler(eval_dataset)
        return super()._get_eval_sampler(eval_dataset)


@dataclass
class TrainResult:
    run_dir: Path
    metrics: dict[str, Any]
    main_process: bool = True  # under `accelerate launch`, only the main process wrote the run folder


def per_process_batch(cfg: TrainConfig, processes: int) -> int:
    """batch_size is the global batch of one step: N processes take batch_size / N each, so a run under
    `accelerate launch --num_processes N` follows the same schedule and loss as one process."""
    if cfg.batch_size % processes:
        raise ConfigError(
            f"batch_size {cfg.batch_size} is the global batch of a step and must divide evenly over "
            f"{processes} processes; choose a multiple of {processes}"
        )
    return cfg.batch_size // processes


# Re-ranking: padded tokens per forward pass by default. A group is 1 + num_negatives pairs of up to max_length
# tokens, so at 8 x 256 one group is 2048 tokens: one group per pass peaked at 1.9 GB RSS and ran a 64-pair step
# in 19.8 s, against 10.2 GB and 29.5 s for the 64 pairs at once (MiniLM, LoRA, fp32; experiments/training-memory).
RERANK_FORWARD_TOKENS = 2048


def forward_batch(cfg: TrainConfig, per_process: int) -> int:
    """Examples per forward pass: `cfg.forward_batch`, or by default for re-ranking the groups that fit
    RERANK_FORWARD_TOKENS (other tasks: the whole batch), lowered to a divisor of the per-process batch.
    Gradient accumulation makes up the rest of the step, so the gradient is the same and only memory changes."""
    want = cfg.forward_batch
    if want is None:
        if cfg.task != "rerank":
            return per_process
        want = RERANK_FORWARD_TOKENS // ((1 + cfg.rerank.num_negatives) * cfg.max_length)
    want = max(1, min(want, per_process))
    while per_process % want:
        want -= 1
    return want


def training_arguments(cfg: TrainConfig, output_dir: Path, metric: str, greater_is_better: bool = True,
                       processes: int = 1) -> TrainingArguments:
    if cfg.save_steps % cfg.eval_steps:
        raise ConfigError(
            f"save_steps ({cfg.save_steps}) must be a multiple of eval_steps ({cfg.eval_steps}): the best "
            "checkpoint is chosen among evaluated ones"
        )
    if cfg.precision not in ("fp32", "bf16", "fp16"):
        raise ConfigError(f"precision {cfg.precision!r}: choose fp32, bf16, fp16 or auto")
    if cfg.precision == "fp16" and not torch.cuda.is_available():
        raise ConfigError("precision fp16 needs a CUDA GPU (mixed fp16 with loss scaling); use bf16 on CPU")
    per_process = per_process_batch(cfg, processes)
    per_pass = forward_batch(cfg, per_process)
    return TrainingArguments(
        output_dir=str(output_dir),
        num_train_epochs=cfg.epochs,
        max_steps=cfg.max_steps,
        per_device_train_batch_size=per_pass,
        per_device_eval_batch_size=per_process,
        gradient_accumulation_steps=cfg.grad_accum * (per_process // per_pass),
        learning_rate=cfg.learning_rate,
        weight_decay=cfg.weight_decay,
        warmup_steps=cfg.warmup_ratio,  # transformers 5: a float < 1 is a fraction of total steps
        lr_scheduler_type=cfg.scheduler,
        eval_strategy="steps",
        eval_steps=cfg.eval_steps,
        save_strategy="steps",
        save_steps=cfg.save_steps,
        save_total_limit=cfg.save_total_limit,
        load_best_model_at_end=True,
        metric_for_best_model=metric,
        greater_is_better=greater_is_better,
        logging_steps=cfg.logging_steps,
        report_to=cfg.report_to or "none",
        seed=cfg.seed,
        data_seed=cfg.seed,
        train_sampling_strategy="group_by_length",
        dataloader_num_workers=cfg.dataloader_workers,
        use_cpu=not torch.cuda.is_available(),
        bf16=cfg.precision == "bf16",
        fp16=cfg.precision == "fp16",
        disable_tqdm=False,
        remove_unused_columns=False,  # grouped examples carry raw text; the collator tokenizes it
    )


def train(method: FullConfig | LoraConfig, cfg: TrainConfig, out: Path, resume: bool = False) -> TrainResult:
    """Train, keep the best checkpoint, and write the run folder (adapter/ or model/, metrics, curves).

    Under `accelerate launch` (DDP, FSDP, DeepSpeed) every process trains; only the main one writes.
    """
    out = Path(out)
    # The same state TrainingArguments sets up (without cpu=True a CPU-only torchrun run looks like 1 process).
    state = PartialState(cpu=not torch.cuda.is_available())
    if out.exists() and any(out.iterdir()) and not resume:
        raise ConfigError(f"{out}: run folder exists and is not empty; pass --resume to continue it or choose --out")
    if cfg.qat:
        check_qat(method, cfg.qat)  # before any folder, data or model: a refused --qat costs nothing
    state.wait_for_everyone()  # every process has checked the folder before the main one writes into it
    main = state.is_main_process
    if main:
        out.mkdir(parents=True, exist_ok=True)
    cfg = dataclasses.replace(cfg, precision=training_precision(cfg.precision))  # recorded as it ran ("auto" resolved)
    set_seed(cfg.seed)
    tokenizer = load_tokenizer(cfg.model)
    task = training_task(cfg, tokenizer)
    if task.build_model is not None:
        model, counts, base_bytes = task.build_model(cfg.model, method, cfg.gradient_checkpointing)
    else:
        model, counts, base_bytes = build_classifier(cfg.model, method, task.num_labels, cfg.gradient_checkpointing)
    if cfg.qat:
        model = prepare_qat(model, cfg.qat)
    console.print(f"[bold]{method.kind}[/bold] on {cfg.model}: {counts}; {task.description}")
    if task.prepare_model is not None and not resume:
        task.prepare_model(model)
    config = {"method": to_dict(method), "train": to_dict(cfg), "num_labels": task.num_labels,
              "processes": state.num_processes}
    if main:
        atomic_write_json(out / "train_config.json", config)
        RunFolder(out).write_manifest(config, data_files(cfg.data), seed=cfg.seed)
    trainer = LoralabTrainer(
        model=model,
        args=training_arguments(cfg, out / "checkpoints", task.metric_for_best, task.greater_is_better,
                                state.num_processes),
        train_dataset=task.train_dataset,
        eval_dataset=task.eval_dataset,
        data_collator=task.collator,
        compute_metrics=task.compute_metrics,
        processing_class=tokenizer,
        callbacks=[CurvesCallback(out / "curves.jsonl"), ProgressCallback()],
        task_loss=task.loss,
        head_lr=cfg.head_learning_rate,
    )
    checkpoint = last_complete_checkpoint(out / "checkpoints") if resume else None
    start = time.perf_counter()
    trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    seconds = time.perf_counter() - start
    final_eval = trainer.evaluate()
    artifact = out / ("model" if method.kind == "full" else "adapter")
    if cfg.qat:
        convert_qat(trainer.model)  # plain nn.Linear with the trained weights: quantize them with cfg.qat
    if main:
        artifact = (task.save_artifact or save_artifact)(trainer.model, tokenizer, method, out)
    metrics = {
        "task": cfg.task, "method": method.kind, "eval": final_eval,
        "train_seconds": seconds, "resumed_from": str(checkpoint) if checkpoint else None,
        "global_step": trainer.state.global_step, "best_checkpoint": trainer.state.best_model_checkpoint,
        "peak_rss_bytes": peak_rss_bytes(), "trainable_params": counts.trainable, "total_params": counts.total,
        "trainable_percent": counts.percent, "base_param_bytes": base_bytes,
        "artifact": artifact.name, "artifact_bytes": _weights_bytes(artifact) if main else 0,
        "processes": state.num_processes,
    }
    if main:
        atomic_write_json(out / "metrics.json", metrics)
    state.wait_for_everyone()
    return TrainResult(out, metrics, main_process=main)


def check_qat(method, spec: str) -> None:
    """QAT needs every weight to train: LoRA's low-rank update on a frozen base would be rounded away by the very grid
    it should adapt to. The spec must be a QAT target (`qat_target` raises otherwise)."""
    if not isinstance(method, FullConfig):
        raise ConfigError(f"--qat trains every weight against the quantization grid: use --method full (got "
                          f"{method.kind}; to start from a LoRA run, `loralab merge` it and pass --model <merged>)")
    qat_target(spec)


def _weights_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.glob("*.safetensors"))
