"""Sequence classifiers (sentiment, topic, ...): texts in, one probability per label out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import torch

from loralab.models.load import load_sequence_classifier, resolve_model
from loralab.models.batching import length_sorted_batches


@dataclass
class ClassifierConfig:
    kind: ClassVar[str] = "classifier"
    model: str = "minilm"
    max_length: int = 256
    batch_size: int = 32
    dtype: str = "float32"


class SequenceClassifier:
    def __init__(self, config: ClassifierConfig):
        from transformers import AutoConfig

        self.config = config
        self.name = f"classifier:{config.model}"
        # The saved config knows the label count; passing a different one would re-initialise the head.
        num_labels = AutoConfig.from_pretrained(resolve_model(config.model)).num_labels
        self.tokenizer, self.model, self.head_is_new = load_sequence_classifier(
            config.model, num_labels=num_labels, dtype=config.dtype
        )
        self.labels = [str(self.model.config.id2label[i]) for i in range(num_labels)]
        self.multi_label = getattr(self.model.config, "problem_type", None) == "multi_label_classification"

    @torch.inference_mode()
    def predict_proba(self, texts: Sequence[str]) -> list[list[float]]:
        """Per text, one probability per label (softmax; sigmoid for multi-label or 1-logit heads)."""
        out: list[list[float]] = [[] for _ in texts]
        cfg = self.config
        batches = length_sorted_batches(self.tokenizer, list(texts), None, cfg.max_length, cfg.batch_size)
        for idx, batch in batches:
            logits = self.model(**batch).logits.float()
            if self.multi_label or logits.shape[-1] == 1:
                probs = torch.sigmoid(logits)
            else:
                probs = torch.softmax(logits, dim=-1)
            for i, row in zip(idx, probs.tolist()):
                out[i] = row
        return out
