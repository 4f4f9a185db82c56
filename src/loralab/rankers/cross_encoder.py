"""Cross-encoder ranker: (query, document) jointly through a sequence classifier with one logit."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import torch

from loralab.data.schemas import Document
from loralab.artifacts.load import load
from loralab.models.batching import length_sorted_batches


@dataclass
class CrossEncoderConfig:
    kind: ClassVar[str] = "cross-encoder"
    model: str = "minilm"
    max_length: int = 256
    batch_size: int = 32
    dtype: str = "float32"
    # post-training quantization applied after loading: int8-dynamic, nf4, "int4-weight-only:group_size=32", ...
    quantize: str | None = None
    allow_untrained_head: bool = False  # a random relevance head scores noise: refused unless asked for


class CrossEncoderRanker:
    warm_up = True  # see rankers.base.Ranker

    def __init__(self, config: CrossEncoderConfig):
        self.config = config
        self.name = f"cross-encoder:{config.model}" + (f"+{config.quantize}" if config.quantize else "")
        # A folder saved by `loralab quantize` is restored as stored; `quantize` quantizes after loading.
        loaded = load(config.model, head="sequence-classifier", num_labels=1, dtype=config.dtype,
                      quantize=config.quantize, calibration_length=config.max_length,
                      allow_untrained_head=config.allow_untrained_head)
        self.tokenizer, self.model, self.head_is_new = loaded.tokenizer, loaded.model, loaded.head_is_new
        self.quantization = loaded.quantization
        self.model_size_bytes = loaded.size_bytes
        if self.head_is_new:
            warnings.warn(f"{config.model}: relevance head untrained (allowed): scores are random", stacklevel=2)

    def score(self, query: str, docs: Sequence[Document]) -> list[float]:
        return self.score_pairs([query] * len(docs), docs)

    @torch.no_grad()  # not inference_mode: quanto's int4 matmul cannot run on inference tensors
    def score_pairs(self, queries: Sequence[str], docs: Sequence[Document]) -> list[float]:
        """One score per (queries[i], docs[i]); lets a server batch pairs from many requests in one pass."""
        scores = [0.0] * len(docs)
        texts = [doc.full_text for doc in docs]
        batches = length_sorted_batches(
            self.tokenizer, list(queries), texts, self.config.max_length, self.config.batch_size
        )
        for idx, batch in batches:
            logits = self.model(**batch).logits[:, 0].float()
            for i, value in zip(idx, logits.tolist()):
                scores[i] = value
        return scores

