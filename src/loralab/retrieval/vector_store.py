"""Where dense embeddings live: a six-method Protocol and its Chroma implementation.

Embedded Chroma (`chromadb.PersistentClient`, one folder on disk) is the default. When one machine is not
enough, run Chroma as a server (`chroma run --path /data --port 8000`) and pass
`ChromaVectorStore(client=chromadb.HttpClient(host=..., port=8000))`; any other store (Qdrant, pgvector, ...)
plugs in by implementing `VectorStore` — the index only ever calls these six methods, and it keeps document
text itself, so a store only has to hold ids, vectors and metadata.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from loralab.errors import ConfigError, DataError
from loralab.optional import require

Where = dict[str, Any]  # Chroma-style metadata filter, e.g. {"doc_id": "d1"} or {"token_count": {"$gt": 50}}


class VectorStore(Protocol):
    def upsert(self, ids: Sequence[str], embeddings: np.ndarray, metadatas: Sequence[dict]) -> None: ...

    def delete(self, ids: Sequence[str]) -> None: ...

    def ids(self) -> set[str]: ...

    def contains(self, ids: Sequence[str]) -> set[str]:
        """The subset of `ids` already stored."""
        ...

    def count(self) -> int: ...

    def query(self, embeddings: np.ndarray, k: int, where: Where | None = None) -> list[list[tuple[str, float]]]:
        """Per query row, (id, cosine similarity) best first."""
        ...


class ChromaVectorStore:
    """A Chroma collection with cosine distance over L2-normalized vectors (similarity = 1 - distance)."""

    def __init__(self, path: Path | None = None, collection: str = "chunks", client: Any = None):
        chromadb = require("chromadb", "retrieval", "dense retrieval")
        if len(collection) < 3:
            raise ConfigError(f"Chroma collection names need at least 3 characters, got '{collection}'")
        if client is None:
            if path is None:
                raise ConfigError("ChromaVectorStore needs a path (embedded) or a client (server mode)")
            from chromadb.config import Settings

            client = chromadb.PersistentClient(path=str(path), settings=Settings(anonymized_telemetry=False))
        self.client = client
        self.collection = client.get_or_create_collection(
            collection, metadata={"hnsw:space": "cosine"}, embedding_function=None
        )
        # Chroma rejects batches above its own limit; stay under it rather than fail mid-add.
        self.max_batch = int(getattr(client, "get_max_batch_size", lambda: 5000)())

    def upsert(self, ids: Sequence[str], embeddings: np.ndarray, metadatas: Sequence[dict]) -> None:
        for start in range(0, len(ids), self.max_batch):
            end = start + self.max_batch
            self.collection.upsert(
                ids=list(ids[start:end]), embeddings=np.asarray(embeddings[start:end], dtype=np.float32),
                metadatas=list(metadatas[start:end]),
            )

    def delete(self, ids: Sequence[str]) -> None:
        ids = list(ids)
        for start in range(0, len(ids), self.max_batch):
            self.collection.delete(ids=ids[start : start + self.max_batch])

    def ids(self) -> set[str]:
        return set(self.collection.get(include=[])["ids"])

    def contains(self, ids: Sequence[str]) -> set[str]:
        ids = list(ids)
        found: set[str] = set()
        for start in range(0, len(ids), self.max_batch):
            found |= set(self.collection.get(ids=ids[start : start + self.max_batch], include=[])["ids"])
        return found

    def count(self) -> int:
        return self.collection.count()

    def query(self, embeddings: np.ndarray, k: int, where: Where | None = None) -> list[list[tuple[str, float]]]:
        total = self.count()
        if total == 0 or len(embeddings) == 0:
            return [[] for _ in range(len(embeddings))]
        try:
            result = self.collection.query(
                query_embeddings=np.asarray(embeddings, dtype=np.float32), n_results=min(k, total), where=where,
                include=["distances"],
            )
        except ValueError as exc:  # Chroma raises ValueError for malformed filters
            raise DataError(f"vector store query failed ({exc}); check the metadata filter {where!r}") from None
        return [
            [(i, 1.0 - float(d)) for i, d in zip(ids, dists)]
            for ids, dists in zip(result["ids"], result["distances"])
        ]
