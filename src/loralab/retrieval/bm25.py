"""BM25 first stage with bm25s (sparse-matrix BM25, orders of magnitude faster than rank_bm25)."""

from __future__ import annotations

import time

from loralab.data.schemas import Document, RerankDataset, Ranking
from loralab.errors import MissingDependencyError


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
