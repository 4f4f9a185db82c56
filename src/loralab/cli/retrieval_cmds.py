"""`loralab index`, `loralab search` and `loralab retrieve-eval`: thin wrappers over loralab.retrieval."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from loralab.errors import ConfigError

console = Console()

_MODE_HELP = "bm25 | dense | splade | hybrid (dense + BM25)"
_CHROMA_INDEX_HELP = ("keep a new index's dense vectors on this Chroma server (`chroma run`), e.g. http://127.0.0.1:8000; "
                      "recorded in index.json, so later commands reconnect by themselves")
_CHROMA_OPEN_HELP = "Chroma server URL to use instead of the one recorded in index.json (the server moved)"


def _index_config(index_dir: Path, dense: bool | None, bm25: bool | None, model: str | None,
                  chunk_tokens: int | None, overlap: int | None, query_prefix: str | None,
                  document_prefix: str | None, stemmer: str | None, splade: bool | None = None,
                  splade_model: str | None = None):
    """The existing index's config with only the options given on this command line changed."""
    from loralab.retrieval.bm25 import BM25Config
    from loralab.retrieval.chunking import ChunkConfig
    from loralab.retrieval.dense import DenseConfig
    from loralab.retrieval.index import IndexConfig
    from loralab.retrieval.splade import SpladeIndexConfig

    manifest = index_dir / "index.json"
    base = IndexConfig.from_dict(json.loads(manifest.read_text())["config"]) if manifest.is_file() else IndexConfig()
    chunking = ChunkConfig(chunk_tokens or base.chunking.max_tokens, base.chunking.overlap if overlap is None else overlap)
    bm25_cfg = base.bm25 if bm25 is None else (base.bm25 or BM25Config()) if bm25 else None
    if bm25_cfg is not None and stemmer is not None:
        bm25_cfg = replace(bm25_cfg, stemmer=None if stemmer == "none" else stemmer)
    dense_cfg = base.dense if dense is None else (base.dense or DenseConfig()) if dense else None
    if dense_cfg is not None:
        changes = {"model": model, "query_prefix": query_prefix, "document_prefix": document_prefix}
        dense_cfg = replace(dense_cfg, **{k: v for k, v in changes.items() if v is not None})
    splade_cfg = base.splade if splade is None else (base.splade or SpladeIndexConfig()) if splade else None
    if splade_cfg is not None and splade_model is not None:
        splade_cfg = replace(splade_cfg, model=splade_model)
    return IndexConfig(chunking=chunking, bm25=bm25_cfg, dense=dense_cfg, tokenizer=model or base.tokenizer,
                       splade=splade_cfg)


def index(
    index_dir: Path = typer.Option(..., help="folder that holds (or will hold) the index"),
    dataset: str = typer.Option(None, "--data", "--dataset", help="add this dataset's corpus (name or BEIR folder)"),
    add: Path = typer.Option(None, help="add/replace documents from a corpus file (BEIR jsonl: _id, title, text)"),
    delete: list[str] = typer.Option(None, help="delete a document by id (repeatable)"),
    dense: bool = typer.Option(None, "--dense/--no-dense", help="dense vectors in Chroma (default on)"),
    bm25: bool = typer.Option(None, "--bm25/--no-bm25", help="BM25 with bm25s (default on)"),
    splade: bool = typer.Option(None, "--splade/--no-splade", help="SPLADE sparse vectors (default off)"),
    splade_model: str = typer.Option(None, help="SPLADE masked LM (default splade-tiny)"),
    model: str = typer.Option(None, help="dense encoder (default minilm)"),
    chunk_tokens: int = typer.Option(None, help="tokens per chunk (default 512, capped by the encoder)"),
    overlap: int = typer.Option(None, help="tokens shared by neighbouring chunks (default 50)"),
    query_prefix: str = typer.Option(None, help='e.g. "query: " for e5 models'),
    document_prefix: str = typer.Option(None, help='e.g. "passage: " for e5 models'),
    stemmer: str = typer.Option(None, help="PyStemmer language for BM25, or 'none' (default english)"),
    limit: int = typer.Option(None, help="only the first N documents (quick runs)"),
    chroma_url: str = typer.Option(None, help=_CHROMA_INDEX_HELP),
    json_out: bool = typer.Option(False, "--json", help="print index stats as one JSON line last"),
) -> None:
    """Build or update a retrieval index: add documents (idempotent by id) or delete them."""
    from loralab.data.beir import read_corpus
    from loralab.data.registry import load_rerank_dataset
    from loralab.retrieval.index import RetrievalIndex

    config = _index_config(index_dir, dense, bm25, model, chunk_tokens, overlap, query_prefix, document_prefix, stemmer,
                           splade, splade_model)
    idx = RetrievalIndex.create(index_dir, config, chroma_url=chroma_url)
    if idx.recovered:
        console.print("[yellow]note:[/yellow] an interrupted write was found and repaired")
    docs = []
    if dataset:
        docs += list(load_rerank_dataset(dataset).corpus.values())
    if add:
        docs += list(read_corpus(add).values())
    if limit:
        docs = docs[:limit]
    added = idx.add(docs, show_progress=True) if docs else None
    removed = idx.delete(delete) if delete else 0
    stats = idx.stats()
    idx.close()
    if added:
        console.print(f"added {added['documents']} documents as {added['chunks']} chunks ({added['embedded']} embedded)")
    if delete:
        console.print(f"deleted {len(delete)} document ids ({removed} chunks)")
    console.print(f"index {index_dir}: " + ", ".join(f"{k} {v}" for k, v in stats.items()))
    if json_out:
        print(json.dumps(stats))


def search(
    query: str = typer.Argument(..., help="the query text"),
    index_dir: Path = typer.Option(..., help="an index built by `loralab index`"),
    mode: str = typer.Option("hybrid", help=_MODE_HELP),
    k: int = typer.Option(10, "-k", help="results to show"),
    retrieve_k: int = typer.Option(100, help="documents retrieved before re-ranking"),
    rerank: str = typer.Option(None, help="re-ranker: kind:model (bi-encoder:minilm), a run folder, or a model"),
    fusion: str = typer.Option("rrf", help="hybrid fusion: rrf | weighted"),
    alpha: float = typer.Option(0.5, help="weighted fusion: weight of dense scores"),
    where: str = typer.Option(None, help='dense metadata filter as JSON, e.g. \'{"doc_id": "d1"}\''),
    interpolate: float = typer.Option(None, help="blend re-ranker and first-stage scores: ALPHA x re-ranker + "
                                      "(1-ALPHA) x first stage, min-max per query"),
    chroma_url: str = typer.Option(None, help=_CHROMA_OPEN_HELP),
    json_out: bool = typer.Option(False, "--json", help="print results as one JSON line"),
) -> None:
    """Search an index; optionally re-rank what was retrieved."""
    from loralab.retrieval.hybrid import FusionConfig
    from loralab.retrieval.index import RetrievalIndex
    from loralab.retrieval.pipeline import reranker_from_spec, retrieve_and_rerank

    idx = RetrievalIndex.open(index_dir, chroma_url=chroma_url)
    ranker = reranker_from_spec(rerank) if rerank else None
    result = retrieve_and_rerank(
        idx, {"q": query}, ranker, mode=mode, k=max(retrieve_k, k) if ranker else k, n=k,
        fusion=FusionConfig(fusion, alpha), where=_parse_where(where), interpolate=interpolate if ranker else None,
    )
    hits = result.final.ranked("q")
    docs = idx.documents([d for d, _ in hits])
    idx.close()
    if json_out:
        print(json.dumps([{"doc_id": d, "score": s, "title": docs[d].title} for d, s in hits]))
        return
    table = Table("rank", "doc_id", "score", "title / text", title=f"{mode}{' + ' + rerank if rerank else ''}: {query}")
    for rank, (doc_id, score) in enumerate(hits, start=1):
        doc = docs[doc_id]
        table.add_row(str(rank), doc_id, f"{score:.4f}", (doc.title + " | " if doc.title else "") + doc.text[:100])
    console.print(table)


def _parse_where(text: str | None):
    if not text:
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"--where is not valid JSON ({exc}); example: '{{\"doc_id\": \"d1\"}}'") from None
    if not isinstance(value, dict):
        raise ConfigError("--where must be a JSON object, e.g. '{\"doc_id\": \"d1\"}'")
    return value


def register(app: typer.Typer) -> None:
    app.command()(index)
    app.command()(search)
