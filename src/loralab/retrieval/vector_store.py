"""Where dense embeddings live: a six-method Protocol and its Chroma implementation.

Embedded Chroma (`chromadb.PersistentClient`, one folder on disk) is the default. When one machine is not
enough, run Chroma as a server (`chroma run --path /data --port 8000`) and build the index with
`VectorStoreConfig(url="http://host:8000")` (`loralab index --chroma-url`): `open_vector_store` is the one place
a store is chosen, from the config the index keeps in its manifest. Any other store (Qdrant, pgvector, ...)
plugs in by implementing `VectorStore` — the index only ever calls these six methods, and it keeps document
text itself, so a store only has to hold ids, vectors and metadata.
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import numpy as np

from loralab.errors import ConfigError, DataError
from loralab.optional import require

Where = dict[str, Any]  # Chroma-style metadata filter, e.g. {"doc_id": "d1"} or {"token_count": {"$gt": 50}}
CONNECT_TIMEOUT_S = 10.0  # chromadb's HTTP client waits forever; a dead host should fail fast instead


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

    def __init__(self, path: Path | None = None, collection: str = "chunks", client: Any = None, create: bool = True):
        chromadb = require("chromadb", "retrieval", "dense retrieval")
        if len(collection) < 3:
            raise ConfigError(f"Chroma collection names need at least 3 characters, got '{collection}'")
        if client is None:
            if path is None:
                raise ConfigError("ChromaVectorStore needs a path (embedded) or a client (server mode)")
            from chromadb.config import Settings

            client = chromadb.PersistentClient(path=str(path), settings=Settings(anonymized_telemetry=False))
        self.client = client
        if create:
            self.collection = client.get_or_create_collection(
                collection, metadata={"hnsw:space": "cosine"}, embedding_function=None
            )
        else:  # an existing index's vectors: an empty stand-in would silently lose every dense hit
            try:
                self.collection = client.get_collection(collection, embedding_function=None)
            except Exception as exc:  # noqa: BLE001 - chromadb's NotFoundError (ValueError in older versions)
                raise ConfigError(
                    f"the Chroma server has no collection '{collection}' ({exc}); this index's vectors are not "
                    "there: point --chroma-url at the server that holds them, or re-index into a new --index-dir"
                ) from None
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


@dataclass(frozen=True)
class VectorStoreConfig:
    """Where an index keeps its vectors: embedded Chroma in `<index>/chroma` (no url) or a Chroma server's collection."""

    url: str | None = None  # http(s)://host[:port] of a `chroma run` server
    collection: str = "chunks"

    def __post_init__(self) -> None:
        if self.url is not None:
            parse_chroma_url(self.url)

    @classmethod
    def for_new_index(cls, url: str | None) -> VectorStoreConfig:
        """Embedded, or on a server shared by many indexes, a collection of the new index's own."""
        return cls(url, f"loralab-{uuid.uuid4().hex[:16]}") if url else cls()

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict | None) -> VectorStoreConfig:
        return cls(**data) if data else cls()  # indexes written before server mode have no entry: embedded


def parse_chroma_url(url: str) -> tuple[str, int, bool]:
    """`http://host:8000` -> (host, port, ssl); without a port, 8000 (Chroma's default) or 443 for https."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ConfigError(f"--chroma-url {url!r} is not a URL ({exc}); expected e.g. http://127.0.0.1:8000") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/") or parts.query:
        raise ConfigError(f"--chroma-url {url!r}: expected http(s)://host[:port] of a `chroma run` server, "
                          "e.g. http://127.0.0.1:8000")
    ssl = parts.scheme == "https"
    return parts.hostname, port or (443 if ssl else 8000), ssl


def connect_chroma_server(url: str) -> Any:
    """A `chromadb.HttpClient` for `url`, or a `ConfigError` naming the URL when no Chroma server answers there."""
    chromadb = require("chromadb", "retrieval", "dense retrieval")
    from chromadb.config import Settings

    host, port, ssl = parse_chroma_url(url)
    hint = f"start one with `chroma run --path DIR --host {host} --port {port}` or fix --chroma-url"
    try:
        socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as exc:
        raise ConfigError(f"cannot reach the Chroma server at {url} ({exc}); {hint}") from None
    try:
        return chromadb.HttpClient(host=host, port=port, ssl=ssl, settings=Settings(anonymized_telemetry=False))
    except Exception as exc:  # noqa: BLE001 - ValueError, httpx errors, ...: not a (compatible) Chroma server
        raise ConfigError(f"no Chroma server answers at {url} ({exc}); {hint}") from None


def open_vector_store(config: VectorStoreConfig, folder: Path, new: bool = False) -> VectorStore:
    """The index's vector store: the one place that picks embedded Chroma or a Chroma server.

    On a server, only a `new` index creates its collection; reopening requires it to be there already.
    """
    if config.url is None:
        return ChromaVectorStore(Path(folder) / "chroma", collection=config.collection)
    client = connect_chroma_server(config.url)
    try:
        return ChromaVectorStore(client=client, collection=config.collection, create=new)
    except ConfigError as exc:
        raise ConfigError(f"{config.url}: {exc}") from None
