"""BM25 first stage with bm25s (sparse-matrix BM25, orders of magnitude faster than rank_bm25)."""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from loralab.data.schemas import Document, RerankDataset, Ranking
from loralab.errors import DataError, MissingDependencyError
from loralab.artifacts.atomic import atomic_write_text


def empty_generation_folder(folder: Path, generation: int) -> Path:
    """`folder/g<generation>`, emptied: a derived index is rewritten whole for each generation."""
    target = Path(folder) / f"g{generation}"
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    return target


def _stemmer(language: str | None):
    if not language:
        return None
    try:
        import Stemmer
    except ImportError:
        raise MissingDependencyError("BM25 stemming needs PyStemmer: pip install PyStemmer") from None
    return Stemmer.Stemmer(language)


def bm25_search(
    corpus: dict[str, Document],
    queries: dict[str, str],
    k: int = 100,
    stemmer: str | None = "english",
    stopwords: str | None = "en",
) -> tuple[Ranking, float]:
    """Index `corpus`, retrieve top-k for every query; returns the Ranking and query seconds."""
    import bm25s

    stem = _stemmer(stemmer)
    doc_ids = list(corpus)
    doc_tokens = bm25s.tokenize([corpus[d].full_text for d in doc_ids], stopwords=stopwords, stemmer=stem, show_progress=False)
    retriever = bm25s.BM25()
    retriever.index(doc_tokens, show_progress=False)
    qids = list(queries)
    start = time.perf_counter()
    query_tokens = bm25s.tokenize([queries[q] for q in qids], stopwords=stopwords, stemmer=stem, show_progress=False)
    results, scores = retriever.retrieve(query_tokens, k=min(k, len(doc_ids)), show_progress=False, n_threads=1)
    seconds = time.perf_counter() - start
    ranking = Ranking()
    for row, qid in enumerate(qids):
        ranking.add(qid, {doc_ids[int(i)]: float(s) for i, s in zip(results[row], scores[row]) if float(s) > 0})
    return ranking, seconds


def with_bm25_candidates(dataset: RerankDataset, k: int = 100) -> RerankDataset:
    """The dataset itself when it ships candidates; otherwise a copy whose candidates are BM25's top-k."""
    if dataset.candidates is not None:
        return dataset
    ranking, _ = bm25_search(dataset.corpus, dataset.queries, k=k)
    return RerankDataset(
        name=dataset.name,
        corpus=dataset.corpus,
        queries=dataset.queries,
        qrels=dataset.qrels,
        relevance_level=dataset.relevance_level,
        candidates=ranking,
        files=dataset.files,
    )


@dataclass(frozen=True)
class BM25Config:
    stemmer: str | None = "english"  # a PyStemmer language, or None for no stemming
    stopwords: str | None = "en"  # a bm25s stop-word list name, or None to keep every word
    k1: float = 1.5
    b: float = 0.75
    method: str = "lucene"

    def to_dict(self) -> dict:
        return asdict(self)


def bm25_tokens(texts: list[str], config: BM25Config) -> list[list[str]]:
    """Lower-cased, stop-worded, stemmed tokens: what both the index and the queries go through."""
    import bm25s

    if not texts:
        return []
    return bm25s.tokenize(
        texts, stopwords=config.stopwords, stemmer=_stemmer(config.stemmer), return_ids=False, show_progress=False
    )


class BM25Index:
    """A bm25s index over chunk ids, saved as numpy arrays under `folder/g<generation>/`.

    BM25 weights depend on corpus-wide statistics (IDF, mean length), so any add or delete changes every
    column; the matrix is therefore rebuilt from the stored tokens (no re-tokenizing, about a second per
    10k chunks) rather than patched. A new generation is written beside the old one and `CURRENT` is
    switched atomically, so a crash leaves either the old or the new index, never half of one.
    """

    def __init__(self, config: BM25Config, ids: list[str], retriever, generation: int):
        self.config, self.ids, self.retriever, self.generation = config, ids, retriever, generation

    @classmethod
    def build(cls, config: BM25Config, ids: list[str], tokens: list[list[str]], generation: int = 0) -> BM25Index:
        import bm25s

        retriever = bm25s.BM25(k1=config.k1, b=config.b, method=config.method)
        if ids:
            retriever.index(tokens, show_progress=False)
        return cls(config, ids, retriever, generation)

    def save(self, folder: Path) -> None:
        folder = Path(folder)
        target = empty_generation_folder(folder, self.generation)
        if self.ids:
            self.retriever.save(str(target), show_progress=False)
        (target / "chunk_ids.json").write_text(json.dumps(self.ids))
        atomic_write_text(folder / "CURRENT", target.name)
        for old in folder.glob("g*"):
            if old.name != target.name:
                shutil.rmtree(old, ignore_errors=True)

    @classmethod
    def load(cls, folder: Path, config: BM25Config) -> BM25Index | None:
        """The current saved generation, or None when nothing was saved yet."""
        import bm25s

        pointer = Path(folder) / "CURRENT"
        if not pointer.is_file():
            return None
        target = Path(folder) / pointer.read_text().strip()
        try:
            ids = json.loads((target / "chunk_ids.json").read_text())
            retriever = bm25s.BM25.load(str(target), show_progress=False) if ids else bm25s.BM25()
        except (OSError, ValueError) as exc:
            raise DataError(f"{target}: BM25 index unreadable ({exc}); run `loralab index` again to rebuild it") from None
        return cls(config, ids, retriever, int(target.name[1:]))

    def search(self, queries: dict[str, str], k: int) -> Ranking:
        """Top-k chunk ids per query (chunks with score 0 share no term with the query and are left out)."""
        qids = list(queries)
        return self.search_tokens(qids, bm25_tokens([queries[q] for q in qids], self.config), k)

    def search_tokens(self, qids: list[str], tokens: list[list[str]], k: int) -> Ranking:
        """Like `search` for already tokenized queries.

        Scores come from bm25s' sparse matrix; the top-k is a plain argpartition: bm25s 0.3's own numpy
        top-k made retrieval about 3x slower on SciFact, and its numba backend JIT-compiles for ~11 s in
        every new process (measured here).
        """
        ranking = Ranking()
        for qid, toks in zip(qids, tokens):
            scores = self._scores(toks)
            if scores is None:
                ranking.add(qid, {})
                continue
            top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
            ranking.add(qid, {self.ids[int(i)]: float(scores[i]) for i in top if scores[i] > 0})
        return ranking

    def scores_of(self, queries: dict[str, str], wanted: dict[str, list[str]]) -> dict[str, dict[str, float]]:
        """The score of each query's `wanted` ids, also those outside any top-k (0: no term in common)."""
        position = {chunk_id: i for i, chunk_id in enumerate(self.ids)}
        qids = list(wanted)
        result = {}
        for qid, toks in zip(qids, bm25_tokens([queries[q] for q in qids], self.config)):
            scores = self._scores(toks)
            result[qid] = {d: 0.0 if scores is None else float(scores[position[d]]) for d in wanted[qid]}
        return result

    def _scores(self, tokens: list[str]) -> np.ndarray | None:
        """Every id's score for one tokenized query; None when no query word is in the index."""
        vocab = self.retriever.vocab_dict if self.ids else {}
        ids = [vocab[t] for t in tokens if t in vocab]  # unseen words cannot match anything
        return self.retriever.get_scores(ids) if ids else None
