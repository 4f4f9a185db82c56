"""`POST /search`: retrieve from a `loralab index` folder and re-rank, via the same `retrieve_and_rerank`
that `loralab search` calls. Everything touching the index runs on the model thread, because its SQLite
connection belongs to the thread that opened it."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Literal

from fastapi import APIRouter, Depends
from pydantic import Field, model_validator

from loralab.errors import ConfigError, UnknownNameError
from loralab.serve.errors import RequestTimeout
from loralab.serve.schemas import LenientModel
from loralab.serve.state import ServeState, get_state

router = APIRouter()


class SearchRequest(LenientModel):
    query: str = Field(..., min_length=1)
    model: str | None = Field(None, description="re-ranker: the base model or an adapter name")
    top_n: int = Field(10, ge=1)
    retrieve_k: int = Field(100, ge=1, le=1000, description="documents retrieved before re-ranking")
    mode: Literal["bm25", "dense", "splade", "hybrid"] = "hybrid"
    rerank: bool = True
    return_documents: bool = True

    @model_validator(mode="after")
    def _top_n_within_k(self):
        if self.top_n > self.retrieve_k:
            raise ValueError(f"top_n ({self.top_n}) must not exceed retrieve_k ({self.retrieve_k})")
        return self


class SearchHit(LenientModel):
    doc_id: str
    score: float
    title: str | None = None
    text: str | None = None


class SearchResponse(LenientModel):
    id: str
    results: list[SearchHit]
    meta: dict


class SearchService:
    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        if not (self.folder / "index.json").is_file():
            raise ConfigError(
                f"--index {self.folder}: not an index folder (no index.json); build one with `loralab index`"
            )
        self.index = None

    def open(self) -> None:
        from loralab.retrieval.index import RetrievalIndex

        self.index = RetrievalIndex.open(self.folder)

    def close(self) -> None:
        if self.index is not None:
            self.index.close()

    def run(self, state: ServeState, key: str, req: SearchRequest) -> list[SearchHit]:
        from loralab.retrieval.pipeline import retrieve_and_rerank

        ranker = state.models.ranker if req.rerank else None
        with state.models.active(key):
            result = retrieve_and_rerank(
                self.index, {"q": req.query}, ranker, mode=req.mode, k=req.retrieve_k if ranker else req.top_n,
                n=req.top_n,
            )
        hits = result.final.ranked("q")
        docs = self.index.documents([d for d, _ in hits]) if req.return_documents else {}
        if not req.return_documents:
            return [SearchHit(doc_id=d, score=s) for d, s in hits]
        return [SearchHit(doc_id=d, score=s, title=docs[d].title, text=docs[d].text) for d, s in hits]


@router.post("/search", response_model=SearchResponse, response_model_exclude_none=True, tags=["search"])
async def search(body: SearchRequest, state: ServeState = Depends(get_state)):
    """Retrieve (BM25, dense, SPLADE or hybrid) from the server's index, then re-rank with the chosen model."""
    service: SearchService | None = state.search
    if service is None:
        raise UnknownNameError("no index is loaded; start the server with --index <folder built by `loralab index`>")
    key = state.models.resolve_ranker(body.model)
    state.check_text_lengths({"query": body.query})
    loop = asyncio.get_running_loop()
    work = loop.run_in_executor(state.executor, service.run, state, key, body)
    try:
        hits = await asyncio.wait_for(work, state.limits.request_timeout_s)
    except asyncio.TimeoutError:
        raise RequestTimeout(f"search did not finish within {state.limits.request_timeout_s:g} s") from None
    meta = {"mode": body.mode, "reranked_by": key if body.rerank else None}
    return SearchResponse(id=str(uuid.uuid4()), results=hits, meta=meta)
