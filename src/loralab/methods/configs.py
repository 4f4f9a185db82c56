"""Typed method and training configs; they round-trip to dicts and are saved in each run's manifest.

QLoRA is LoRA with a quantized frozen base (torchtune style): `QLoraConfig` only adds the base's
quantization fields; the training path is the same.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar

from loralab.errors import ConfigError, UnknownNameError


@dataclass
class FullConfig:
    """Every weight trains."""

    kind: ClassVar[str] = "full"


@dataclass
class LoraConfig:
    """PEFT LoRA adapters on the attention/MLP projections; the task head trains in full (modules_to_save)."""

    kind: ClassVar[str] = "lora"
    r: int = 16
    alpha: int = 32
    dropout: float = 0.1
    target_modules: list[str] = field(default_factory=lambda: ["query", "key", "value", "dense"])
    bias: str = "none"
    modules_to_save: list[str] | None = None  # None: the model's head modules (classifier, pooler, score)


@dataclass
class QLoraConfig(LoraConfig):
    """LoRA on a frozen 4-bit base: NF4 (or FP4), optional double quantization of the scales."""

    kind: ClassVar[str] = "qlora"
    quant_type: str = "nf4"
    double_quant: bool = True
    compute_dtype: str = "auto"  # bfloat16 where bf16 matmuls are fast (GPUs, AVX-512 CPUs), else float32



RERANK_RANKERS = ("cross-encoder", "bi-encoder")


@dataclass
class RerankOptions:
    """Re-ranking only: how training groups are made and scored (`TrainConfig.rerank`)."""

    # listwise (softmax CE, positive vs negatives; + KL to a teacher) | margin-mse (a teacher's score margins) | bce
    loss: str = "listwise"
    num_negatives: int = 7
    negative_pool: int | None = None  # from a BEIR folder: sample negatives from BM25's top N (default: hardest)
    teacher: str | None = None  # a bi-encoder whose group softmax is distilled into the cross-encoder
    distill_weight: float = 1.0
    teacher_bm25_weight: float = 0.0  # from a BEIR folder: fuse the teacher with BM25 (weighted min-max)
    teacher_scale: float = 20.0  # listwise KL: teacher scores x this are the target logits (20 suits cosines)
    # What is trained: a cross-encoder (one joint pass per pair, a new 1-logit head) or a bi-encoder (query and
    # document embedded apart, cosine: it starts where the backbone's embeddings are; `--ranker bi-encoder` scores it)
    ranker: str = "cross-encoder"

    def __post_init__(self):
        if self.loss not in ("listwise", "margin-mse", "bce"):
            raise ConfigError(f"rerank loss {self.loss!r}: choose listwise, margin-mse or bce")
        if self.teacher and self.loss == "bce":
            raise ConfigError("--teacher distills a ranking: it needs the listwise or margin-mse loss (got bce)")
        if self.teacher_scale <= 0:
            raise ConfigError(f"--teacher-scale must be > 0, got {self.teacher_scale}")
        if self.teacher_bm25_weight and not self.teacher:
            raise ConfigError("--teacher-bm25-weight fuses BM25 into a teacher's scores: it needs --teacher")
        if self.ranker not in RERANK_RANKERS:
            raise ConfigError(f"rerank ranker {self.ranker!r}: choose {' or '.join(RERANK_RANKERS)}")
        if not 0.0 <= self.teacher_bm25_weight <= 1.0:
            raise ConfigError(f"--teacher-bm25-weight must be in [0, 1], got {self.teacher_bm25_weight}")


@dataclass
class TrainConfig:
    """How to train: data, schedule, evaluation and checkpointing; task-specific options in their own group."""

    task: str = "rerank"  # rerank | classify | preference | regress | sft
    data: str = "scifact-train"
    model: str = "minilm"
    max_length: int = 256
    # Batches are padded to a multiple of this many tokens: a handful of shapes instead of one per batch length,
    # so oneDNN builds (and caches) kernels for fewer shapes (benchmarks/train_memory.py); 1: pad to the longest.
    pad_to_multiple_of: int = 32
    epochs: float = 1.0
    max_steps: int = -1
    batch_size: int = 8  # groups (rerank) or examples (classify) per step, over all processes
    # Examples per forward pass; the step's batch is made up by gradient accumulation (same gradient, less
    # memory). None: for re-ranking the groups that fit 2048 padded tokens (one group of 8 x 256), else the batch.
    forward_batch: int | None = None
    grad_accum: int = 1
    learning_rate: float = 2e-4
    head_learning_rate: float | None = None  # new heads often need a larger step than the adapters
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    scheduler: str = "cosine"
    eval_fraction: float = 0.1
    max_eval_examples: int = 200
    max_train_examples: int | None = None
    eval_steps: int = 50
    save_steps: int = 50
    save_total_limit: int = 2
    logging_steps: int = 10
    gradient_checkpointing: bool = False
    # fp32 | bf16 (autocast; ~2x faster matmuls on AVX512-BF16 CPUs and GPUs, refused on CPUs without bf16 units,
    # where it is 8-40x slower) | auto (bf16 where it is fast, else fp32) | fp16 (GPU)
    precision: str = "fp32"
    report_to: list[str] = field(default_factory=list)  # tensorboard | mlflow | wandb; off by default
    # Quantization-aware training: the post-training quantization spec to train for (loralab.quant.qat); full only.
    qat: str | None = None
    seed: int = 42
    dataloader_workers: int = 0
    rerank: RerankOptions = field(default_factory=RerankOptions)


METHODS: dict[str, type] = {cls.kind: cls for cls in (FullConfig, LoraConfig, QLoraConfig)}


def method_config(kind: str, **options: Any):
    if kind not in METHODS:
        raise UnknownNameError(f"unknown method '{kind}'; choose one of: {', '.join(METHODS)}")
    cls = METHODS[kind]
    valid = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(options) - valid)
    if unknown:
        raise ConfigError(f"method '{kind}' has no option {', '.join(unknown)}; valid: {', '.join(sorted(valid)) or 'none'}")
    config = cls(**options)
    if isinstance(config, QLoraConfig) and config.quant_type not in ("nf4", "fp4"):
        raise ConfigError(f"qlora quant_type must be nf4 or fp4, got '{config.quant_type}'")
    return config


def to_dict(config) -> dict[str, Any]:
    data = dataclasses.asdict(config)
    kind = getattr(config, "kind", None)
    return {"kind": kind, **data} if kind else data


def train_config(**options: Any) -> TrainConfig:
    """A TrainConfig from flat options (as the CLI and YAML give them); re-ranking options go to `.rerank` and are
    refused for other tasks. None means "the default"."""
    options = {k: v for k, v in options.items() if v is not None}
    rerank_fields = {f.name for f in dataclasses.fields(RerankOptions)}
    rerank = {k: options.pop(k) for k in list(options) if k in rerank_fields}
    valid = {f.name for f in dataclasses.fields(TrainConfig)} - {"rerank"}
    unknown = sorted(set(options) - valid)
    if unknown:
        raise ConfigError(f"training has no option {', '.join(unknown)}; valid: {', '.join(sorted(valid | rerank_fields))}")
    task = options.get("task", "rerank")
    if rerank and task != "rerank":
        raise ConfigError(f"{', '.join(sorted(rerank))}: re-ranking options; --task {task} does not take them")
    if rerank.get("ranker") == "bi-encoder" and options.get("head_learning_rate"):
        raise ConfigError("a bi-encoder re-ranker has no score head (its score is a scaled cosine): drop --head-lr")
    return TrainConfig(**options, rerank=RerankOptions(**rerank))
