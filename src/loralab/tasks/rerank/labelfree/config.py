"""The chain's typed config; it round-trips to YAML and each step hashes the part it depends on."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import yaml

from loralab.errors import ConfigError
from loralab.rankers.prompt.configs import PromptOptions, Sampling

STEPS = ("generate", "mine", "score", "groups")


@dataclass
class QueryGenConfig(PromptOptions):
    """The query writer: any prompt backend (a local causal LM or an OpenAI-compatible server). Greedy, one query
    per passage by default; GPL writes 3 per passage with nucleus sampling (top_p 0.95, top_k 25), which needs
    `temperature` > 0 (greedy decoding would write the same query each time)."""

    kind: ClassVar[str] = "querygen"
    mode: ClassVar[str] = "querygen"
    max_doc_words: int = 120
    max_new_tokens: int = 24
    max_batch_tokens: int = 4096
    min_words: int = 2  # a reply outside [min_words, max_words] after cleaning is dropped (counted)
    max_words: int = 16
    queries_per_passage: int = 1
    temperature: float = 0.0  # 0: greedy
    top_p: float = 1.0
    top_k: int | None = None

    # Settings a chain made before they existed had at these values: left out of the step key when unchanged, so
    # those chains' keys stay valid.
    SAMPLING_DEFAULTS: ClassVar[dict[str, Any]] = {"queries_per_passage": 1, "temperature": 0.0, "top_p": 1.0,
                                                   "top_k": None}

    def validate(self) -> None:
        super().validate()
        if self.queries_per_passage < 1:
            raise ConfigError(f"generator: queries_per_passage must be >= 1, got {self.queries_per_passage}")
        if self.temperature < 0 or not 0 < self.top_p <= 1 or (self.top_k is not None and self.top_k < 1):
            raise ConfigError(f"generator: need temperature >= 0, 0 < top_p <= 1 and top_k >= 1 (or unset), got "
                              f"{self.temperature}/{self.top_p}/{self.top_k}")
        if self.queries_per_passage > 1 and self.temperature == 0:
            raise ConfigError(f"generator: queries_per_passage {self.queries_per_passage} needs sampling: greedy "
                              "decoding (temperature 0) writes the same query each time; set e.g. temperature: 1.0, "
                              "top_p: 0.95, top_k: 25 (GPL's settings)")

    def sampling(self, seed: int) -> Sampling | None:
        return Sampling(self.temperature, self.top_p, self.top_k, seed) if self.temperature > 0 else None

    def key(self) -> dict[str, Any]:
        """The settings the generate step's hash covers."""
        settings = dataclasses.asdict(self)
        return {k: v for k, v in settings.items() if self.SAMPLING_DEFAULTS.get(k, ...) != v}


@dataclass
class HoldoutConfig:
    """Evaluation queries whose candidate pools no step may see: the passages in the top-`depth` candidates of
    fold `fold` of `folds` (the dataset's test queries sorted by id, cut into contiguous parts)."""

    dataset: str
    folds: int = 2
    fold: int = 0
    depth: int = 100


@dataclass
class QueryLogConfig:
    """Real, unlabeled queries instead of generated ones: a JSONL(.gz) file of {_id, text} rows (BEIR's queries
    layout), e.g. a search log. `sample` queries are drawn (seeded); none has a source passage, so a group's
    positive is the teacher's top candidate and the student learns the teacher's margins below it.
    With `qrels` (a TREC or BEIR qrels file) only the judged queries are drawn, and each group's positive is a
    judged relevant document: training queries with labels, e.g. SciFact's 809 training claims. A document is
    relevant from grade `relevance_level` up (graded collections such as TREC DL count 2 and 3, not 1)."""

    path: str
    sample: int = 1000
    qrels: str | None = None
    relevance_level: int = 1


@dataclass
class MiningConfig:
    bm25: int = 20  # BM25 top-N candidates per query (the source passage excluded)
    dense: int = 10  # dense top-N (dense_model), merged after BM25's without duplicates
    dense_model: str = "minilm"
    max_length: int = 256


@dataclass
class ChainConfig:
    corpus: str  # a dataset name or BEIR folder: only its corpus is read, never its queries or qrels
    out: str
    passages: int = 200  # passages sampled (seeded) from the corpus, generator.queries_per_passage queries each
    seed: int = 42
    holdout: HoldoutConfig | None = None
    generator: QueryGenConfig = field(default_factory=QueryGenConfig)
    query_log: QueryLogConfig | None = None  # set: queries come from this file, the generator is not used
    mining: MiningConfig = field(default_factory=MiningConfig)
    # any ranker spec {ranker: kind, **options}; an ensemble fuses several, calibrated per query
    teacher: dict[str, Any] = field(default_factory=lambda: {"ranker": "splade", "model": "splade-tiny"})
    teacher_batch: int = 16  # queries scored between two resume points
    keep_top: int = 3  # keep a query when its source passage is in the teacher's top keep_top of the group
    negatives: int = 7  # per training group, drawn (seeded) from the candidates

    def __post_init__(self):
        if self.passages < 1 or self.negatives < 1 or self.keep_top < 1:
            raise ConfigError("passages, negatives and keep_top must be >= 1")
        if self.query_log and self.query_log.sample < 1:
            raise ConfigError("query_log sample must be >= 1")
        if self.query_log and self.query_log.relevance_level < 1:
            raise ConfigError(f"query_log relevance_level must be >= 1 (grade 0 is 'not relevant'), "
                              f"got {self.query_log.relevance_level}")
        if self.mining.bm25 + self.mining.dense < self.negatives:
            raise ConfigError(f"mining finds at most {self.mining.bm25 + self.mining.dense} candidates per query, "
                              f"fewer than negatives={self.negatives}")
        if self.holdout and not 0 <= self.holdout.fold < self.holdout.folds:
            raise ConfigError(f"holdout fold must be in [0, {self.holdout.folds}), got {self.holdout.fold}")
        if not isinstance(self.teacher, dict) or "ranker" not in self.teacher:
            raise ConfigError("teacher must be a ranker spec, e.g. {ranker: bi-encoder, model: mpnet}")

    @property
    def folder(self) -> Path:
        return Path(self.out)

    @property
    def sample_size(self) -> int:
        """What the chain samples: log queries, or passages (the step record's `sample`)."""
        return self.query_log.sample if self.query_log else self.passages

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def step_key(self, step: str) -> str:
        """A hash of the settings `step` and the steps before it depend on. Not `out`, and not `passages`: a
        larger sample extends a smaller one, so a step redone for more passages keeps the rows it has."""
        parts = {"corpus": self.corpus, "seed": self.seed,
                 "holdout": dataclasses.asdict(self.holdout) if self.holdout else None}
        if self.query_log:  # the log's path, not its sample size (which grows like `passages`)
            parts["query_log"] = self.query_log.path
            if self.query_log.qrels:  # only when set: the keys of chains made before this option stay valid
                parts["query_log_qrels"] = self.query_log.qrels
                if self.query_log.relevance_level != 1:
                    parts["query_log_relevance_level"] = self.query_log.relevance_level
        else:
            parts["generator"] = self.generator.key()
        if STEPS.index(step) >= 1:
            parts["mining"] = dataclasses.asdict(self.mining)
        if STEPS.index(step) >= 2:
            parts["teacher"] = self.teacher
        if STEPS.index(step) >= 3:
            parts.update(keep_top=self.keep_top, negatives=self.negatives)
        return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]


def _typed(cls, raw: Any, where: str):
    if not isinstance(raw, dict):
        raise ConfigError(f"{where} must be a mapping, got {type(raw).__name__}")
    valid = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(raw) - valid)
    if unknown:
        raise ConfigError(f"{where} has no option {', '.join(unknown)}; valid: {', '.join(sorted(valid))}")
    try:
        return cls(**raw)
    except TypeError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def chain_config(raw: dict[str, Any], where: str = "chain config") -> ChainConfig:
    raw = dict(raw)
    for key, cls in (("generator", QueryGenConfig), ("mining", MiningConfig), ("holdout", HoldoutConfig),
                     ("query_log", QueryLogConfig)):
        if raw.get(key) is not None:
            raw[key] = _typed(cls, raw[key], f"{where}: {key}")
    config = _typed(ChainConfig, raw, where)
    config.generator.validate()
    return config


def load_chain_config(path: Path, **overrides: Any) -> ChainConfig:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: chain config not found")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML ({exc})") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: a chain config is a mapping (corpus, out, passages, teacher, ...)")
    raw.update({k: v for k, v in overrides.items() if v is not None})
    return chain_config(raw, str(path))
