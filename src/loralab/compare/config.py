"""The comparison config: one dataset, a list of methods, and the price used for cost columns."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from loralab.errors import ConfigError


class MethodSpec(BaseModel):
    """One row: a display name, a ranker kind and that ranker's options (model, max_length, ...)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    name: str
    ranker: str | None = None  # re-ranking rows: which ranker; other tasks take the model from options
    options: dict[str, Any] = Field(default_factory=dict)
    # Extra rows from the same scores blended with the first stage (alpha = re-ranker weight): no re-scoring.
    also_interpolated: list[float] = Field(default_factory=list)
    # Per-method quick-run limits (override the config's): slow methods, e.g. listwise prompting, on fewer queries.
    limit_queries: int | None = Field(None, ge=1)
    limit_candidates: int | None = Field(None, ge=1)

    @model_validator(mode="before")
    @classmethod
    def _collect_options(cls, data: Any) -> Any:
        # YAML users write options inline next to name/ranker; gather them into `options`.
        if isinstance(data, dict):
            known = {"name", "ranker", "options", "also_interpolated", "limit_queries", "limit_candidates"}
            extra = {k: v for k, v in data.items() if k not in known}
            data = {k: v for k, v in data.items() if k in known}
            options = data.get("options", {})
            # a non-mapping `options` is left for validation to report as `methods.N.options: ...`
            data["options"] = {**options, **extra} if isinstance(options, dict) else options
        return data

    @model_validator(mode="after")
    def _alphas_in_range(self) -> MethodSpec:
        bad = [a for a in self.also_interpolated if not 0.0 <= a <= 1.0]
        if bad:
            raise ValueError(f"also_interpolated weights must be between 0 and 1, got {bad}")
        if self.also_interpolated and self.ranker == "bm25":
            raise ValueError("also_interpolated blends a re-ranker with the first stage; 'bm25' is the first stage")
        return self


class BudgetSpec(BaseModel):
    """Limits the recommendation must respect (any subset); see loralab.compare.verdict.Budget."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    max_p95_ms: float | None = Field(None, gt=0)
    max_peak_rss_mb: float | None = Field(None, gt=0)
    max_cost_per_1m: float | None = Field(None, gt=0)
    min_quality: float | None = None


class CompareConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    task: str = "rerank"  # rerank | preference | regress (see loralab.compare.task_tables)
    dataset: str
    methods: list[MethodSpec] = Field(min_length=1)
    price_per_hour: float = Field(0.10, ge=0, description="USD per machine-hour, for cost per 1M queries")
    limit_queries: int | None = Field(None, ge=1)
    limit_candidates: int | None = Field(None, ge=1)
    title: str | None = None
    budget: BudgetSpec | None = None  # with a budget, the report ends in a recommendation

    @model_validator(mode="after")
    def _unique_names(self) -> CompareConfig:
        names = [m.name for m in self.methods]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"method names must be unique; repeated: {', '.join(dupes)}")
        from loralab.compare.task_tables import task_bench, task_names

        if self.task not in task_names():
            raise ValueError(f"unknown task '{self.task}'; choose one of: {', '.join(task_names())}")
        missing = [m.name for m in self.methods if task_bench(self.task).needs_ranker and not m.ranker]
        if missing:
            raise ValueError(f"{self.task} methods need a 'ranker'; missing on: {', '.join(missing)}")
        return self


def load_yaml_config(path: Path, model: type[BaseModel], expected: str) -> Any:
    """A YAML file validated by a pydantic model; every problem names its field (`methods.2.ranker: ...`)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found")
    raw = _read_yaml(path)
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping with {expected}")
    try:
        json.dumps(raw, default=str)
    except (ValueError, RecursionError):
        raise ConfigError(
            f"{path}: a YAML anchor refers to itself (or nesting is too deep); write the values out"
        ) from None
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'config'}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"{path}: {problems}") from None


def _read_yaml(path: Path) -> Any:
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ConfigError(
            f"{path}:{line}: not UTF-8 text (byte {data[exc.start]:#04x}); save the file as UTF-8"
        ) from None
    stream = io.StringIO(text)
    stream.name = str(path)  # marks in YAML errors then read 'in "<path>", line 3, column 5'
    try:
        return yaml.load(stream, Loader=_SafeLoader)
    except yaml.reader.ReaderError as exc:  # a control character; it knows only its offset
        line = text.count("\n", 0, exc.position) + 1
        raise ConfigError(
            f"{path}:{line}: invalid YAML (control character U+{exc.character:04X} is not allowed; remove it)"
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML ({exc})") from None
    except RecursionError:
        raise ConfigError(f"{path}: invalid YAML (nested too deeply)") from None


class _SafeLoader(yaml.SafeLoader):
    """SafeLoader whose bad scalars (a date 2024-13-01, an integer of 5000 digits) are YAML errors with a line."""

    def construct_object(self, node, deep=False):
        try:
            return super().construct_object(node, deep=deep)
        except ValueError as exc:
            raise yaml.constructor.ConstructorError(
                None, None, f"cannot read {node.value!r:.60} ({str(exc).split(';')[0]}); quote it to keep it as text",
                node.start_mark,
            ) from None


def load_compare_config(path: Path) -> CompareConfig:
    return load_yaml_config(path, CompareConfig, "'dataset' and 'methods'")
