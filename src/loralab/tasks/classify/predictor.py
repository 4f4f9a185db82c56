"""Sequence classifiers (sentiment, topic, ...): texts in, one probability per label out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import torch

from loralab.artifacts.load import load
from loralab.models.batching import length_sorted_batches
from loralab.progress import report


@dataclass
class ClassifierConfig:
    kind: ClassVar[str] = "classifier"
    model: str = "minilm"
    max_length: int = 256
    batch_size: int = 32
    dtype: str = "float32"
    quantize: str | None = None  # post-training quantization after loading (int8-dynamic, bf16, ...)
    allow_untrained_head: bool = False  # random class scores: refused unless asked for


class SequenceClassifier:
    def __init__(self, config: ClassifierConfig):
        self.config = config
        self.name = f"classifier:{config.model}"
        # No num_labels: the saved config (or the run) knows the label count; another would re-initialise the head.
        loaded = load(config.model, head="sequence-classifier", dtype=config.dtype, quantize=config.quantize,
                      calibration_length=config.max_length, allow_untrained_head=config.allow_untrained_head)
        self.tokenizer, self.model, self.head_is_new = loaded.tokenizer, loaded.model, loaded.head_is_new
        self.quantization, self.model_size_bytes = loaded.quantization, loaded.size_bytes
        num_labels = self.model.config.num_labels
        self.labels = [str(self.model.config.id2label[i]) for i in range(num_labels)]
        self.multi_label = getattr(self.model.config, "problem_type", None) == "multi_label_classification"

    @torch.inference_mode()
    def predict_proba(self, texts: Sequence[str]) -> list[list[float]]:
        """Per text, one probability per label (softmax; sigmoid for multi-label or 1-logit heads)."""
        out: list[list[float]] = [[] for _ in texts]
        cfg = self.config
        batches = length_sorted_batches(self.tokenizer, list(texts), None, cfg.max_length, cfg.batch_size)
        done = 0
        for idx, batch in batches:
            report(done, len(texts), "text")
            done += len(idx)
            logits = self.model(**batch).logits.float()
            if self.multi_label or logits.shape[-1] == 1:
                probs = torch.sigmoid(logits)
            else:
                probs = torch.softmax(logits, dim=-1)
            for i, row in zip(idx, probs.tolist()):
                out[i] = row
        return out
