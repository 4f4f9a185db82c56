"""SPLADE ranker: sparse vocabulary-sized vectors from a masked LM, scored by dot product.

A text's vector is, per vocabulary term, the max over its tokens of log(1 + relu(MLM logit)) (padding masked out),
as in SPLADE v2 / SPLADE++ (Formal et al. 2021, 2022). Vectors are non-negative and mostly zero, so they are kept
as scipy CSR rows: the same vectors serve re-ranking here and the sparse first stage in `loralab.retrieval.splade`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch
from tqdm.auto import tqdm

from loralab.artifacts.load import load
from loralab.data.schemas import Document
from loralab.models.batching import length_sorted_batches
from loralab.rankers.base import DocumentCache, distinct_rows


@dataclass
class SpladeConfig:
    kind: ClassVar[str] = "splade"
    model: str = "splade-tiny"  # a masked LM trained for SPLADE (packaged alias, folder or hub id)
    max_length: int = 256
    batch_size: int = 16  # the logits are (batch, tokens, vocab): 16 x 256 x 30,522 floats is 0.5 GB
    dtype: str = "float32"
    document_cache: int = 200_000  # document vectors kept between calls (0: none); sparse, ~1-2 KB each


def splade_pool(logits: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """(batch, tokens, vocab) MLM logits -> (batch, vocab) term weights: max over real tokens of log(1 + relu).

    log(1 + relu(x)) is monotone, so the max is taken first and the rest runs on (batch, vocab) only: the same
    floats, in one pass over the logits. Padding is masked in place (float32 `logits` are the largest tensor
    of the forward pass; a copy would double the peak).
    """
    masked = logits.float().masked_fill_(attention_mask.unsqueeze(-1) == 0, float("-inf"))
    return torch.log1p(torch.relu(masked.amax(dim=1)))


class SpladeRanker:
    warm_up = True  # see rankers.base.Ranker

    def __init__(self, config: SpladeConfig):
        self.config = config
        self.name = f"splade:{config.model}"
        loaded = load(config.model, head="masked-lm", dtype=config.dtype)
        self.tokenizer, self.model = loaded.tokenizer, loaded.model
        self.model_size_bytes = loaded.size_bytes
        self.documents = DocumentCache(config.document_cache)

    @property
    def vocab_size(self) -> int:
        return self.model.config.vocab_size

    @torch.inference_mode()
    def encode(self, texts: Sequence[str], show_progress: bool = False):
        """One sparse row per text (scipy CSR, float32, shape (len(texts), vocab)), in the order of `texts`."""
        from scipy import sparse

        if not texts:
            return sparse.csr_matrix((0, self.vocab_size), dtype=np.float32)
        blocks, order = [], []
        batches = length_sorted_batches(self.tokenizer, texts, None, self.config.max_length, self.config.batch_size)
        total = -(-len(texts) // self.config.batch_size)
        for idx, batch in tqdm(batches, total=total, disable=not show_progress, desc="splade", unit="batch"):
            vectors = splade_pool(self.model(**batch).logits, batch["attention_mask"])
            blocks.append(sparse.csr_matrix(vectors.numpy()))
            order.extend(idx)
        position = np.empty(len(order), dtype=np.int64)
        position[order] = np.arange(len(order))  # text i is row position[i] of the length-sorted stack
        return sparse.vstack(blocks, format="csr", dtype=np.float32)[position]

    def score(self, query: str, docs: Sequence[Document]) -> list[float]:
        return self.score_pairs([query] * len(docs), docs)

    def score_pairs(self, queries: Sequence[str], docs: Sequence[Document]) -> list[float]:
        """One dot product per (queries[i], docs[i]); each distinct query is encoded once per call, each distinct
        document once per ranker (`document_cache`)."""
        from scipy import sparse

        if not docs:
            return []
        query_texts, rows = distinct_rows(list(queries))
        doc_texts, cols = distinct_rows([doc.full_text for doc in docs])
        q = self.encode(query_texts)
        d = sparse.vstack(self.documents.rows(doc_texts, self.encode), format="csr", dtype=np.float32)
        rows, cols = np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)
        return np.asarray(d[cols].multiply(q[rows]).sum(axis=1)).ravel().astype(float).tolist()
