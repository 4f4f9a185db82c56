"""Dense retrieval: L2-normalized embeddings from any encoder loralab loads, searched in a `VectorStore`."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from loralab.data.schemas import Ranking
from loralab.retrieval.vector_store import VectorStore, Where


@dataclass(frozen=True)
class DenseConfig:
    model: str = "minilm"  # packaged alias, local folder or hub id
    query_prefix: str = ""  # e5-style models want "query: "
    document_prefix: str = ""  # ... and "passage: "
    max_length: int = 512  # chunks are cut to fit this, so nothing is silently truncated
    batch_size: int = 32
    dtype: str = "float32"

    def to_dict(self) -> dict:
        return asdict(self)


class DenseEncoder:
    """The bi-encoder ranker's `encode` (mean pooling + L2 normalization), with the prefixes applied."""

    def __init__(self, config: DenseConfig):
        from loralab.rankers.bi_encoder import BiEncoderConfig, BiEncoderRanker

        self.config = config
        self.ranker = BiEncoderRanker(
            BiEncoderConfig(
                model=config.model, max_length=config.max_length, batch_size=config.batch_size, dtype=config.dtype,
                query_prefix=config.query_prefix, document_prefix=config.document_prefix,
            )
        )
        self.tokenizer = self.ranker.tokenizer

    def embed_documents(self, texts: list[str], show_progress: bool = False) -> np.ndarray:
        prefix = self.config.document_prefix
        return self.ranker.encode([prefix + t for t in texts], show_progress=show_progress).numpy()

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        prefix = self.config.query_prefix
        return self.ranker.encode([prefix + t for t in texts]).numpy()


def dense_search(
    encoder: DenseEncoder, store: VectorStore, queries: dict[str, str], k: int, where: Where | None = None
) -> Ranking:
    """Top-k chunk ids per query by cosine similarity."""
    qids = list(queries)
    if not qids:
        return Ranking()
    hits = store.query(encoder.embed_queries([queries[q] for q in qids]), k, where=where)
    return Ranking({qid: dict(row) for qid, row in zip(qids, hits)})
