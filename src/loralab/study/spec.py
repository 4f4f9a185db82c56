"""The study file: a task and its data, a budget, a price, and the candidates by method family.

```yaml
task: rerank
data: {train: scifact-train, test: trec-dl-2019}
limit_queries: 20            # test size (quick studies); limit_candidates for re-ranking
budget: {max_p95_ms: 2000}
price_per_hour: 0.10
backbone: minilm
train: {max_steps: 60, batch_size: 8, max_length: 128}     # defaults for every trained candidate
quantize: [int8-dynamic]     # post-training variants of every trained candidate
candidates:
  - {name: BM25, method: baseline, ranker: bm25}
  - {name: SmolLM2 yes/no, method: prompt, ranker: prompt-pointwise, model: smollm2-135m-instruct}
  - {name: LoRA, method: lora, train: {lr: 1e-3}}
  - {name: QLoRA, method: qlora}
```
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from loralab.compare.config import BudgetSpec, load_yaml_config

TRAINED = ("full", "lora", "qlora")
METHODS = ("baseline", "prompt", *TRAINED)
# TrainConfig names a study may set (the CLI's short `lr`, `head_lr` are accepted too).
TRAIN_ALIASES = {"lr": "learning_rate", "head_lr": "head_learning_rate"}


class Candidate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    method: str
    ranker: str | None = None  # re-ranking rows: the ranker (trained candidates: what `train.ranker` trained)
    model: str | None = None  # baseline / prompt: the model; trained: the backbone (default: the study's)
    options: dict[str, Any] = Field(default_factory=dict)  # row options (max_length, batch_size, ...)
    train: dict[str, Any] = Field(default_factory=dict)  # training options over the study's `train`
    lora: dict[str, Any] = Field(default_factory=dict)  # method options: r, alpha, target_modules, ...
    quantize: list[str] | None = None  # overrides the study's post-training variants for this candidate

    @model_validator(mode="after")
    def _known_method(self) -> Candidate:
        if self.method not in METHODS:
            raise ValueError(f"unknown method '{self.method}'; choose one of: {', '.join(METHODS)}")
        return self


class DataSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    train: str | None = None
    test: str


class StudySpec(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    task: str = "rerank"
    title: str | None = None
    data: DataSpec
    backbone: str = "minilm"
    budget: BudgetSpec | None = None
    price_per_hour: float = Field(0.10, ge=0)
    limit_queries: int | None = Field(None, ge=1)
    limit_candidates: int | None = Field(None, ge=1)
    train: dict[str, Any] = Field(default_factory=dict)
    quantize: list[str] = Field(default_factory=list)
    candidates: list[Candidate] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> StudySpec:
        from loralab.compare.task_tables import task_names

        if self.task not in task_names():
            raise ValueError(f"unknown task '{self.task}'; choose one of: {', '.join(task_names())}")
        names = [c.name for c in self.candidates]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"candidate names must be unique; repeated: {', '.join(dupes)}")
        if any(c.method in TRAINED for c in self.candidates) and not self.data.train:
            raise ValueError("trained candidates need data.train (the training set)")
        return self

    def train_options(self, candidate: Candidate) -> dict[str, Any]:
        merged = {**self.train, **candidate.train}
        return {TRAIN_ALIASES.get(k, k): v for k, v in merged.items()}

    def variants(self, candidate: Candidate) -> list[str]:
        return list(self.quantize if candidate.quantize is None else candidate.quantize)


def load_study(path: Path) -> StudySpec:
    return load_yaml_config(path, StudySpec, "'task', 'data' and 'candidates'")
