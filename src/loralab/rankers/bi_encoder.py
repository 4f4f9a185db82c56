"""Bi-encoder ranker: cosine similarity of L2-normalized, mean-pooled embeddings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from loralab.data.schemas import Document
from loralab.artifacts.load import load
from loralab.models.batching import length_sorted_batches, mean_pool
from loralab.rankers.base import DocumentCache, distinct_rows


@dataclass
class BiEncoderConfig:
    kind: ClassVar[str] = "bi-encoder"
    model: str = "minilm"
    max_length: int = 256
    batch_size: int = 32
    dtype: str = "float32"
    query_prefix: str = ""  # e.g. "query: " for e5 models
    document_prefix: str = ""  # e.g. "passage: "
    document_cache: int = 200_000  # document vectors kept between calls (0: none); 3 KB each at 768 dims
    # post-training quantization applied after loading (a LoRA run is merged first): int8-dynamic, nf4, ...
    quantize: str | None = None


class BiEncoderRanker:
    warm_up = True  # see rankers.base.Ranker

    def __init__(self, config: BiEncoderConfig):
        self.config = config
        self.name = f"bi-encoder:{config.model}" + (f"+{config.quantize}" if config.quantize else "")
        loaded = load(config.model, head="encoder", dtype=config.dtype, quantize=config.quantize,
                      calibration_length=config.max_length)
        self.tokenizer, self.model = loaded.tokenizer, loaded.model
        self.quantization = loaded.quantization
        self.model_size_bytes = loaded.size_bytes
        self.documents = DocumentCache(config.document_cache)

    @torch.inference_mode()
    def encode(self, texts: Sequence[str], show_progress: bool = False) -> torch.Tensor:
        """Unit-length embeddings, in the order of `texts`."""
        out = torch.empty(len(texts), self.model.config.hidden_size)
        batches = length_sorted_batches(self.tokenizer, texts, None, self.config.max_length, self.config.batch_size)
        total = -(-len(texts) // self.config.batch_size)
        for idx, batch in tqdm(batches, total=total, disable=not show_progress, desc="encode", unit="batch"):
            hidden = self.model(**batch).last_hidden_state
            out[idx] = F.normalize(mean_pool(hidden, batch["attention_mask"]).float(), dim=-1)
        return out

    def score(self, query: str, docs: Sequence[Document]) -> list[float]:
        return self.score_pairs([query] * len(docs), docs)

    def score_pairs(self, queries: Sequence[str], docs: Sequence[Document]) -> list[float]:
        """One cosine per (queries[i], docs[i]); each distinct query is encoded once per call, each distinct
        document once per ranker (`document_cache`)."""
        if not docs:
            return []
        query_texts, rows = distinct_rows(list(queries))
        doc_texts, cols = distinct_rows([doc.full_text for doc in docs])
        q = self.encode([self.config.query_prefix + text for text in query_texts])
        prefix = self.config.document_prefix
        d = torch.stack(self.documents.rows(doc_texts, lambda texts: self.encode([prefix + t for t in texts])))
        return (d[torch.tensor(cols, dtype=torch.long)] * q[torch.tensor(rows, dtype=torch.long)]).sum(dim=-1).tolist()
