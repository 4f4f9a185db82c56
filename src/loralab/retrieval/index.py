"""A retrieval index in one folder: chunk store (SQLite), BM25 (bm25s), dense vectors (Chroma), SPLADE (optional).

Layout: `index.json` (config), `store.sqlite` (documents, chunks, BM25 tokens: the source of truth),
`bm25/` (generations of the bm25s matrix), `chroma/` (the embedded vector store), `splade/` (generations of the
SPLADE CSR matrix, when the index has a SPLADE part). With a Chroma server
(`chroma_url=`), the vectors live in a collection of their own on that server instead, and `index.json` records
the URL and collection so that opening the index reconnects to them; everything else stays in the folder.

Crash safety: an add writes vectors first (idempotent upserts keyed by content-hashed chunk ids), then commits
the store in one SQLite transaction (the commit point), then drops superseded vectors, rebuilds BM25 and
brings SPLADE in line (encoding only new chunks).
A `pending` flag is set for the whole operation; whoever opens the index next and finds it set reconciles
the derived indexes with the store (drop orphan vectors, embed any missing, rebuild BM25). So a killed add
is either fully visible or not at all, and re-running it skips the vectors already written. One writer at
a time is assumed (as with any embedded store).
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from tqdm.auto import tqdm

from loralab.data.schemas import Document, Ranking
from loralab.errors import ConfigError, DataError
from loralab.retrieval.bm25 import BM25Config, BM25Index, bm25_tokens
from loralab.retrieval.chunking import ChunkConfig, chunk_documents
from loralab.retrieval.dense import DenseConfig, DenseEncoder, dense_search
from loralab.retrieval.hybrid import FusionConfig, fuse, pool_to_documents
from loralab.retrieval.splade import SpladeEncoder, SpladeIndex, SpladeIndexConfig
from loralab.retrieval.store import ChunkStore
from loralab.retrieval.vector_store import VectorStore, VectorStoreConfig, Where, open_vector_store
from loralab.artifacts.atomic import atomic_write_json

MODES = ("bm25", "dense", "splade", "hybrid")
EMBED_BATCH = 256  # chunks embedded and upserted per step: a crash loses at most this much embedding work


@dataclass(frozen=True)
class IndexConfig:
    chunking: ChunkConfig = field(default_factory=ChunkConfig)
    bm25: BM25Config | None = field(default_factory=BM25Config)
    dense: DenseConfig | None = field(default_factory=DenseConfig)
    tokenizer: str = "minilm"  # counts chunk tokens when there is no dense model (else the dense model's)
    splade: SpladeIndexConfig | None = None

    def __post_init__(self) -> None:
        if self.bm25 is None and self.dense is None and self.splade is None:
            raise ConfigError("an index needs BM25, dense or SPLADE (pass --bm25, --dense and/or --splade)")

    def to_dict(self) -> dict:
        out = {
            "chunking": self.chunking.to_dict(), "bm25": self.bm25.to_dict() if self.bm25 else None,
            "dense": self.dense.to_dict() if self.dense else None, "tokenizer": self.tokenizer,
        }
        return out | ({"splade": self.splade.to_dict()} if self.splade else {})  # older index.json files have none

    @classmethod
    def from_dict(cls, data: dict) -> IndexConfig:
        return cls(
            chunking=ChunkConfig(**data["chunking"]), bm25=BM25Config(**data["bm25"]) if data.get("bm25") else None,
            dense=DenseConfig(**data["dense"]) if data.get("dense") else None, tokenizer=data.get("tokenizer", "minilm"),
            splade=SpladeIndexConfig(**data["splade"]) if data.get("splade") else None,
        )


def _store_config(folder: Path, manifest: dict, chroma_url: str | None) -> VectorStoreConfig:
    """The store an existing index recorded, re-pointed at `chroma_url` when one is given."""
    kept = VectorStoreConfig.from_dict(manifest.get("vector_store"))
    if chroma_url is None or chroma_url == kept.url:
        return kept
    if kept.url is None:
        raise ConfigError(
            f"{folder} keeps its vectors embedded in {Path(folder) / 'chroma'}; --chroma-url only re-points an index "
            "built on a Chroma server (to move to one, build a new index with `loralab index --chroma-url`)"
        )
    return replace(kept, url=chroma_url)


def chunk_doc_id(chunk_id: str) -> str:
    """Chunk ids are `<doc_id>#<index>@<hash>`; doc ids may contain '#', the suffix never does."""
    return chunk_id.rsplit("#", 1)[0]


class RetrievalIndex:
    def __init__(
        self, folder: Path, config: IndexConfig, vector_store: VectorStore | None = None,
        store_config: VectorStoreConfig | None = None,
    ):
        self.folder = Path(folder)
        self.config = config
        self.store_config = store_config = store_config or VectorStoreConfig()
        self.vectors = None
        if config.dense is not None:  # first, so that an unreachable server fails before anything is written
            self.vectors = vector_store or open_vector_store(store_config, self.folder)
        self.store = ChunkStore(self.folder / "store.sqlite")
        self.bm25 = BM25Index.load(self.folder / "bm25", config.bm25) if config.bm25 else None
        self.splade = (SpladeIndex.load(self.folder / "splade") or SpladeIndex([], None)) if config.splade else None
        self._encoder: DenseEncoder | None = None
        self._splade_encoder: SpladeEncoder | None = None
        self._tokenizer = None
        self.recovered = False
        if self.needs_recovery():
            self.recover()

    @classmethod
    def create(
        cls, folder: Path, config: IndexConfig, vector_store: VectorStore | None = None, chroma_url: str | None = None,
    ) -> RetrievalIndex:
        """A new index, or the existing one at `folder` when it was built with the same config.

        `chroma_url` puts a new index's vectors on that Chroma server; for an existing index it can only
        re-point a server index (see `open`). A new folder is written only once its store is reachable, and
        `index.json` last, so a failed create leaves no half-built index behind.
        """
        folder = Path(folder)
        manifest = folder / "index.json"
        if manifest.is_file():
            existing = json.loads(manifest.read_text())
            if existing.get("config") != config.to_dict():
                raise ConfigError(
                    f"{folder} already holds an index built with a different config ({existing.get('config')}); "
                    "use another --index-dir or delete that folder"
                )
            return cls(folder, config, vector_store, _store_config(folder, existing, chroma_url))
        if chroma_url and config.dense is None:
            raise ConfigError("--chroma-url holds dense vectors, and this index has none; drop it or add --dense")
        store_config = VectorStoreConfig.for_new_index(chroma_url)
        created, index = not folder.exists(), None
        try:
            if config.dense is not None and vector_store is None and store_config.url is not None:
                vector_store = open_vector_store(store_config, folder, new=True)  # connect before writing here
            folder.mkdir(parents=True, exist_ok=True)
            index = cls(folder, config, vector_store, store_config)
            atomic_write_json(manifest, {
                "version": 1, "created_at": time.time(), "config": config.to_dict(),
                "vector_store": store_config.to_dict(),
            })
        except BaseException:
            if index is not None:
                index.close()
            if created:
                shutil.rmtree(folder, ignore_errors=True)
            raise
        return index

    @classmethod
    def open(cls, folder: Path, vector_store: VectorStore | None = None, chroma_url: str | None = None) -> RetrievalIndex:
        """The index at `folder`, reconnected to the vector store its manifest records.

        `chroma_url` overrides the recorded server for this session (the server moved); the collection stays.
        """
        manifest = Path(folder) / "index.json"
        if not manifest.is_file():
            raise DataError(f"{folder}: no retrieval index here (no index.json); build one with `loralab index`")
        data = json.loads(manifest.read_text())
        return cls(folder, IndexConfig.from_dict(data["config"]), vector_store, _store_config(folder, data, chroma_url))

    def close(self) -> None:
        self.store.close()

    @property
    def encoder(self) -> DenseEncoder:
        if self.config.dense is None:
            raise ConfigError(f"{self.folder}: this index has no dense part; rebuild it with `loralab index --dense`")
        if self._encoder is None:
            self._encoder = DenseEncoder(self.config.dense)
        return self._encoder

    @property
    def splade_encoder(self) -> SpladeEncoder:
        if self.config.splade is None:
            raise ConfigError(f"{self.folder}: this index has no SPLADE part; rebuild it with `loralab index --splade`")
        if self._splade_encoder is None:
            self._splade_encoder = SpladeEncoder(self.config.splade)
        return self._splade_encoder

    @property
    def tokenizer(self):
        if self._tokenizer is None:
            if self.config.dense is not None:
                self._tokenizer = self.encoder.tokenizer
            elif self.config.splade is not None:
                self._tokenizer = self.splade_encoder.tokenizer
            else:
                from loralab.artifacts.load import load_tokenizer

                self._tokenizer = load_tokenizer(self.config.tokenizer)
        return self._tokenizer

    # ---- writes -------------------------------------------------------------------------------------
    def add(self, docs: Iterable[Document], show_progress: bool = False) -> dict[str, int]:
        """Insert or replace documents by id; idempotent, and safe to re-run after a crash."""
        unique = list({d.id: d for d in docs}.values())  # last copy of a repeated id wins
        if not unique:
            return {"documents": 0, "chunks": 0, "embedded": 0}
        chunks = chunk_documents(unique, self.tokenizer, self.chunking_for_model())
        tokens = bm25_tokens([c.text for c in chunks], self.config.bm25) if self.config.bm25 else [[] for _ in chunks]
        self.store.set_meta("pending", "1")
        embedded = self._embed_missing(chunks, show_progress) if self.vectors is not None else 0
        stale = self.store.replace_documents(unique, chunks, tokens)
        if self.vectors is not None and stale:
            self.vectors.delete(sorted(stale))
        self._rebuild_bm25()
        self._sync_splade(show_progress)
        self.store.set_meta("pending", "0")
        return {"documents": len(unique), "chunks": len(chunks), "embedded": embedded}

    def delete(self, doc_ids: Iterable[str]) -> int:
        """Remove documents by id (unknown ids are ignored); returns how many chunks went."""
        self.store.set_meta("pending", "1")
        removed = self.store.delete_documents(list(doc_ids))
        if self.vectors is not None and removed:
            self.vectors.delete(sorted(removed))
        self._rebuild_bm25()
        self._sync_splade()
        self.store.set_meta("pending", "0")
        return len(removed)

    def chunking_for_model(self) -> ChunkConfig:
        """Chunks never exceed what the dense or SPLADE encoder reads (minus [CLS]/[SEP])."""
        cfg = self.config.chunking
        lengths = [part.max_length for part in (self.config.dense, self.config.splade) if part is not None]
        if not lengths:
            return cfg
        limit = min(lengths) - 2
        return cfg if cfg.max_tokens <= limit else ChunkConfig(limit, min(cfg.overlap, limit // 2 - 1))

    def _embed_missing(self, chunks, show_progress: bool) -> int:
        have = self.vectors.contains([c.id for c in chunks])
        todo = [c for c in chunks if c.id not in have]
        steps = range(0, len(todo), EMBED_BATCH)
        for start in tqdm(steps, desc="embed", unit=f"x{EMBED_BATCH} chunks", disable=not show_progress):
            part = todo[start : start + EMBED_BATCH]
            vectors = self.encoder.embed_documents([c.text for c in part])
            self.vectors.upsert([c.id for c in part], vectors, [c.metadata() for c in part])
        return len(todo)

    def _rebuild_bm25(self) -> None:
        if self.config.bm25 is None:
            return
        ids, tokens = self.store.bm25_corpus()
        self.bm25 = BM25Index.build(self.config.bm25, ids, tokens, generation=self.store.generation)
        self.bm25.save(self.folder / "bm25")

    def _sync_splade(self, show_progress: bool = False) -> None:
        """SPLADE rows for exactly the committed chunks: new ones encoded, dropped ones removed."""
        if self.config.splade is None:
            return

        def encode(texts: list[str]):
            return self.splade_encoder.encode(texts, show_progress=show_progress)

        self.splade = self.splade.synced(self.store.chunk_ids(), encode, self.store.chunk_texts, self.store.generation)
        self.splade.save(self.folder / "splade")

    # ---- recovery -----------------------------------------------------------------------------------
    def needs_recovery(self) -> bool:
        if self.store.get_meta("pending", "0") == "1":
            return True
        if self.splade is not None and self.splade.generation != self.store.generation:
            return True
        if self.config.bm25 is None:
            return False
        saved = self.bm25.generation if self.bm25 is not None else 0  # a fresh index has saved nothing yet
        return saved != self.store.generation

    def recover(self) -> None:
        """Make BM25 and the vector store agree with the committed store again."""
        if self.vectors is not None:
            want = set(self.store.chunk_ids())
            have = self.vectors.ids()
            if have - want:
                self.vectors.delete(sorted(have - want))
            missing = want - have
            if missing:
                rows = self.store.chunk_rows(sorted(missing))
                self._upsert_rows(rows)
        self._rebuild_bm25()
        self._sync_splade()
        self.store.set_meta("pending", "0")
        self.recovered = True

    def _upsert_rows(self, rows: dict[str, dict]) -> None:
        ids = list(rows)
        for start in range(0, len(ids), EMBED_BATCH):
            part = ids[start : start + EMBED_BATCH]
            vectors = self.encoder.embed_documents([rows[i]["text"] for i in part])
            metas = [{k: v for k, v in rows[i].items() if k != "text"} for i in part]
            self.vectors.upsert(part, vectors, metas)

    # ---- reads --------------------------------------------------------------------------------------
    def search_chunks(self, queries: dict[str, str], mode: str, k: int, where: Where | None = None) -> Ranking:
        """Top-k chunk ids per query from one retriever ('bm25', 'dense' or 'splade')."""
        if mode == "bm25":
            if self.bm25 is None:
                raise ConfigError(f"{self.folder}: this index has no BM25 part; rebuild it with `loralab index --bm25`")
            if where:
                raise ConfigError("metadata filters apply to dense search only; use --mode dense or drop the filter")
            return self.bm25.search(queries, k)
        if mode == "dense":
            return dense_search(self.encoder, self.vectors, queries, k, where=where)
        if mode == "splade":
            if where:
                raise ConfigError("metadata filters apply to dense search only; use --mode dense or drop the filter")
            encoder = self.splade_encoder  # raises when this index has no SPLADE part
            return self.splade.search(encoder, queries, k)
        raise ConfigError(f"unknown retrieval mode '{mode}'; choose one of: bm25, dense, splade")

    def search(
        self, queries: dict[str, str], mode: str = "hybrid", k: int = 100,
        fusion: FusionConfig = FusionConfig(), where: Where | None = None,
    ) -> Ranking:
        """Top-k documents per query (each scored by its best chunk)."""
        if mode not in MODES:
            raise ConfigError(f"unknown retrieval mode '{mode}'; choose one of: {', '.join(MODES)}")
        if mode != "hybrid":
            return self._documents(queries, mode, k, where)
        return fuse(self._documents(queries, "dense", k, where), self._documents(queries, "bm25", k, where), fusion).top(k)

    def _documents(self, queries: dict[str, str], mode: str, k: int, where: Where | None) -> Ranking:
        # A document's first chunk in score order is its best, so top-k documents are exact as soon as
        # the chunk list holds k distinct documents; documents rarely have many chunks, so 2k usually does.
        n_chunks = self.store.count()[1]
        fetch = min(2 * k, n_chunks)
        while True:
            chunks = self.search_chunks(queries, mode, fetch, where)
            docs = pool_to_documents(chunks, {c: chunk_doc_id(c) for s in chunks.scores.values() for c in s})
            short = any(len(docs.scores[q]) < k and len(chunks.scores[q]) >= fetch for q in docs.scores)
            if not short or fetch >= n_chunks:
                return docs.top(k)
            fetch = min(fetch * 4, n_chunks)

    def documents(self, doc_ids: list[str] | None = None) -> dict[str, Document]:
        return self.store.documents(doc_ids)

    def stats(self) -> dict[str, int]:
        docs, chunks = self.store.count()
        out = {"documents": docs, "chunks": chunks}
        if self.vectors is not None:
            out["vectors"] = self.vectors.count()
        if self.bm25 is not None:
            out["bm25_chunks"] = len(self.bm25.ids)
        if self.splade is not None:
            out["splade_chunks"] = len(self.splade.ids)
        return out
