"""Step 2: candidates for each query, BM25's top then a dense encoder's, never a generated query's source.

The dense encoder's candidates fill up to `bm25 + dense` when BM25 matches fewer passages than asked."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from loralab.data.schemas import Document
from loralab.progress import report
from loralab.tasks.rerank.labelfree.config import ChainConfig
from loralab.tasks.rerank.labelfree.steps import StepFolder


def _bm25(corpus: dict[str, Document], queries: dict[str, str], k: int) -> dict[str, list[str]]:
    from loralab.retrieval.bm25 import BM25Config, BM25Index, bm25_tokens

    config, ids = BM25Config(), list(corpus)
    index = BM25Index.build(config, ids, bm25_tokens([corpus[d].full_text for d in ids], config))
    ranking = index.search(queries, k=k)
    return {q: [d for d, _ in ranking.ranked(q)] for q in queries}


def _dense(config: ChainConfig, corpus: dict[str, Document], queries: dict[str, str], k: int) -> dict[str, list[str]]:
    from loralab.retrieval.dense import DenseConfig, DenseEncoder

    encoder = DenseEncoder(DenseConfig(model=config.mining.dense_model, max_length=config.mining.max_length))
    ids = list(corpus)
    docs = encoder.embed_documents([corpus[d].full_text for d in ids], show_progress=True)
    qids = list(queries)
    sims = encoder.embed_queries([queries[q] for q in qids]) @ docs.T  # unit vectors: cosine
    top = np.argsort(-sims, axis=1)[:, :k]
    return {q: [ids[j] for j in row] for q, row in zip(qids, top)}


def mine_candidates(config: ChainConfig, corpus: dict[str, Document], step: StepFolder) -> dict[str, Any]:
    from loralab.tasks.rerank.labelfree.chain import step_folder

    generated = [r for r in step_folder(config, "generate").rows() if r["query"]]
    queries = {r["query_id"]: r["query"] for r in generated}
    began = time.perf_counter()
    report(0, 2, "retriever")
    mining = config.mining
    bm25 = _bm25(corpus, queries, mining.bm25 + 1) if mining.bm25 else {}
    report(1, 2, "retriever")
    dense = _dense(config, corpus, queries, mining.dense + mining.bm25 + 1) if mining.dense else {}
    report(2, 2, "retriever")
    rows = []
    for r in generated:
        source, qid = r["passage_id"], r["query_id"]
        known = {source, *r.get("relevant", ())}  # a judged relevant document is never a negative
        lexical = [d for d in bm25.get(qid, []) if d not in known][: mining.bm25]
        # the dense list fills what BM25 left: a query with few lexical matches still gets its candidates
        semantic = [d for d in dense.get(qid, []) if d not in known and d not in lexical][: mining.bm25 + mining.dense - len(lexical)]
        rows.append({"query_id": qid, "query": r["query"], "passage_id": source,
                     "candidates": lexical + semantic, "from_bm25": len(lexical),
                     **({"relevant": r["relevant"]} if "relevant" in r else {})})
    summary = {"queries": len(rows), "candidates_per_query": round(float(np.mean([len(r["candidates"]) for r in rows])), 2)
               if rows else 0, "source_in_bm25_top": sum(r["passage_id"] in bm25.get(r["query_id"], [])[: mining.bm25 + 1]
                                                          for r in rows if r["passage_id"]), "seconds": round(time.perf_counter() - began, 1)}
    step.finish(rows, summary)
    return summary
