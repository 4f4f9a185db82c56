"""HTTP routes: thin shape adapters around `ServeState.rank` / `.classify` (which call the library)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Response
from prometheus_client import CONTENT_TYPE_LATEST

import loralab
from loralab.serve.schemas import (
    ApiVersion,
    Classification,
    ClassifyRequest,
    ClassifyResponse,
    CohereMeta,
    CohereRerankRequest,
    CohereRerankResponse,
    CohereRerankResult,
    Health,
    LabelConfidence,
    RerankDocument,
    TEIRank,
    TEIRerankRequest,
)
from loralab.serve.state import ServeState, get_state

router = APIRouter()
_ERRORS = {code: {"description": text} for code, text in [
    (404, "unknown model or adapter name (the message lists what is served)"),
    (413, "body over --max-request-bytes, or more documents than --max-documents"),
    (422, "invalid body; the message names the field"), (429, "queue full; honour Retry-After"),
    (504, "not finished within --request-timeout"),
]}


def _meta(version: str) -> CohereMeta:
    return CohereMeta(api_version=ApiVersion(version=version))


def _best_first(scores: list[float]) -> list[int]:
    return sorted(range(len(scores)), key=lambda i: -scores[i])


async def _cohere(body: CohereRerankRequest, state: ServeState, version: str) -> CohereRerankResponse:
    texts = body.documents
    scores = await state.rank(body.model, body.query, texts)
    results = [
        CohereRerankResult(
            index=i,
            relevance_score=state.models.normalize(scores[i]),
            document=RerankDocument(text=texts[i]) if body.return_documents else None,
        )
        for i in _best_first(scores)[: body.top_n]
    ]
    return CohereRerankResponse(id=str(uuid.uuid4()), results=results, meta=_meta(version))


@router.post("/v1/rerank", response_model=CohereRerankResponse, response_model_exclude_none=True,
             responses=_ERRORS, tags=["rerank"])
async def rerank_v1(body: CohereRerankRequest, state: ServeState = Depends(get_state)):
    """Cohere v1 rerank: relevance_score is the sigmoid of a cross-encoder logit (a bi-encoder's cosine)."""
    return await _cohere(body, state, "1")


@router.post("/v2/rerank", response_model=CohereRerankResponse, response_model_exclude_none=True,
             responses=_ERRORS, tags=["rerank"])
async def rerank_v2(body: CohereRerankRequest, state: ServeState = Depends(get_state)):
    """Cohere v2 rerank (same body as v1; `model` picks the base model or an adapter)."""
    return await _cohere(body, state, "2")


@router.post("/rerank", response_model=list[TEIRank], response_model_exclude_none=True,
             responses=_ERRORS, tags=["rerank"])
async def rerank_tei(body: TEIRerankRequest, state: ServeState = Depends(get_state)):
    """Text Embeddings Inference rerank: best first; raw_scores=true gives the library's score unchanged."""
    scores = await state.rank(None, body.query, body.texts, truncate=body.truncate)
    return [
        TEIRank(
            index=i,
            score=scores[i] if body.raw_scores else state.models.normalize(scores[i]),
            text=body.texts[i] if body.return_text else None,
        )
        for i in _best_first(scores)
    ]


@router.post("/v1/classify", response_model=ClassifyResponse, responses=_ERRORS, tags=["classify"])
async def classify(body: ClassifyRequest, state: ServeState = Depends(get_state)):
    """Cohere-style classify with the server's sequence classifier (--classifier)."""
    labels, probs = await state.classify(body.model, body.inputs)
    multi = state.models.classifier.multi_label
    out = []
    for text, row in zip(body.inputs, probs):
        best = max(range(len(row)), key=row.__getitem__)
        chosen = [i for i, p in enumerate(row) if p >= 0.5] if multi else [best]
        out.append(Classification(
            id=str(uuid.uuid4()), input=text, prediction=labels[best], predictions=[labels[i] for i in chosen],
            confidence=row[best], confidences=[row[i] for i in chosen],
            labels={label: LabelConfidence(confidence=p) for label, p in zip(labels, row)},
            classification_type="multi-label" if multi else "single-label",
        ))
    return ClassifyResponse(id=str(uuid.uuid4()), classifications=out, meta=_meta("1"))


@router.get("/health", response_model=Health, tags=["ops"])
async def health(state: ServeState = Depends(get_state)):
    """Liveness: the process answers. Whether it should get traffic is /ready."""
    return Health(status="ok", ready=state.ready, queue_depth=state.queue_depth, in_flight=state.in_flight)


@router.get("/ready", response_model=Health, responses={503: {"description": "warming up, or warm-up failed"}},
            tags=["ops"])
async def ready(response: Response, state: ServeState = Depends(get_state)):
    """Readiness: 200 once every served model has run its first forward (compiled, kernels built), else 503."""
    status = "ready" if state.ready else ("failed: " + state.warm_up_error if state.warm_up_error else "warming up")
    if not state.ready:
        response.status_code = 503
    return Health(status=status, ready=state.ready, queue_depth=state.queue_depth, in_flight=state.in_flight)


@router.get("/info", tags=["ops"])
async def info(state: ServeState = Depends(get_state)) -> dict:
    """Served model, adapters, classifier, limits and batching settings."""
    return {
        **state.models.info(),
        "version": loralab.__version__,
        "limits": state.limits.to_dict(),
        "batching": state.batching.to_dict(),
        "index": None if state.search is None else str(state.search.folder),
        "endpoints": ["/v1/rerank", "/v2/rerank", "/rerank", "/v1/classify", "/search", "/health", "/ready", "/info", "/metrics",
                      "/docs"],
    }


@router.get("/metrics", tags=["ops"])
async def metrics(state: ServeState = Depends(get_state)) -> Response:
    state.metrics.queue_depth.set(state.queue_depth)
    return Response(state.metrics.render(), media_type=CONTENT_TYPE_LATEST)
