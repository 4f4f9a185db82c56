"""What one server holds: a ranker (plus adapters on it) and optionally a classifier, by served name.

Model calls happen only on the batcher's single model thread, so switching adapters between batches
needs no lock.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass, field
from pathlib import Path

from loralab.data.schemas import Document
from loralab.errors import ConfigError, UnknownNameError
from loralab.artifacts.load import resolve_model
from loralab.serve.adapters import attach_adapters, check_adapter_folder, check_safetensors_model


@dataclass
class ServeModels:
    ranker: object
    ranker_kind: str
    base_name: str
    adapters: dict[str, Path] = field(default_factory=dict)
    classifier: object | None = None
    classifier_name: str | None = None
    peft_model: object | None = None

    @classmethod
    def load(cls, model: str, ranker_kind: str = "cross-encoder", adapters: dict[str, Path] | None = None,
             classifier: str | None = None, name: str | None = None, max_length: int = 256,
             batch_size: int = 64) -> ServeModels:
        from loralab.tasks.classify.predictor import ClassifierConfig, SequenceClassifier
        from loralab.rankers.registry import build_ranker, ranker_config

        if ranker_kind not in ("cross-encoder", "bi-encoder"):
            raise ConfigError(f"--ranker '{ranker_kind}': the server serves cross-encoder or bi-encoder")
        for adapter_name, folder in (adapters or {}).items():
            check_adapter_folder(adapter_name, folder)  # fail before the slow model load
        check_safetensors_model(resolve_model(model))
        ranker = build_ranker(ranker_config(ranker_kind, model=model, max_length=max_length, batch_size=batch_size))
        served = cls(ranker, ranker_kind, name or _default_name(model), dict(adapters or {}))
        if served.base_name in served.adapters:
            raise ConfigError(f"adapter name '{served.base_name}' is also the base model's name; rename one (--name)")
        if served.adapters:
            served.peft_model = attach_adapters(ranker.model, served.adapters)
            ranker.model = served.peft_model
        if classifier:
            check_safetensors_model(resolve_model(classifier))
            config = ClassifierConfig(model=classifier, max_length=max_length, batch_size=batch_size)
            served.classifier = SequenceClassifier(config)
            served.classifier_name = _default_name(classifier)
        return served

    @property
    def ranker_names(self) -> list[str]:
        return [self.base_name, *self.adapters]

    def resolve_ranker(self, requested: str | None) -> str:
        """The served name a request's `model` field picks; absent means the base model."""
        if requested is None or requested in self.ranker_names:
            return requested or self.base_name
        raise UnknownNameError(f"model '{requested}' is not served here; available: {', '.join(self.ranker_names)}")

    def resolve_classifier(self, requested: str | None) -> str:
        if self.classifier is None:
            raise UnknownNameError("no classifier is loaded; start the server with --classifier <model>")
        if requested in (None, self.classifier_name):
            return self.classifier_name
        raise UnknownNameError(f"classifier '{requested}' is not served here; available: {self.classifier_name}")

    def score_pairs(self, key: str, pairs: list[tuple[str, Document]]) -> list[float]:
        """Library scores (the same `score_pairs` that `ranker.score` uses) with `key`'s adapter active."""
        queries = [q for q, _ in pairs]
        docs = [d for _, d in pairs]
        with self.active(key):
            return self.ranker.score_pairs(queries, docs)

    @contextlib.contextmanager
    def active(self, key: str):
        """Make `key` (base model or adapter) the one the ranker's model computes with."""
        if self.peft_model is None:
            yield
        elif key == self.base_name:
            with self.peft_model.disable_adapter():
                yield
        else:
            self.peft_model.set_adapter(key)
            yield

    def classify(self, key: str, texts: list[str]) -> list[list[float]]:
        return self.classifier.predict_proba(texts)

    def normalize(self, score: float) -> float:
        """0..1 relevance as Cohere and TEI (raw_scores=false) report it: sigmoid of a cross-encoder logit."""
        if self.ranker_kind == "cross-encoder":
            return 1.0 / (1.0 + math.exp(-score)) if score >= -700 else 0.0
        return score

    @property
    def max_length(self) -> int:
        return self.ranker.config.max_length

    def info(self) -> dict:
        return {
            "model": self.base_name,
            "model_spec": self.ranker.config.model,
            "ranker": self.ranker_kind,
            "max_length": self.max_length,
            "adapters": {name: str(path) for name, path in self.adapters.items()},
            "classifier": None if self.classifier is None else {
                "name": self.classifier_name, "labels": self.classifier.labels,
            },
            "safetensors_only": True,
            "trust_remote_code": False,
        }


def _default_name(spec: str) -> str:
    path = Path(spec)
    return path.name if path.exists() else spec
