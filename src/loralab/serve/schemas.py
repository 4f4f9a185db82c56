"""Request and response bodies in the shapes existing clients send: Cohere v1/v2 rerank, TEI rerank,
Cohere-style classify. Unknown extra fields are accepted (clients send more than we use)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field


class LenientModel(BaseModel):
    model_config = ConfigDict(extra="allow", protected_namespaces=())


def _document_text(value: Any) -> Any:
    """Cohere v1 also takes documents as objects; their `text` field is what gets ranked."""
    if isinstance(value, dict):
        if not isinstance(value.get("text"), str):
            raise ValueError("a document object needs a 'text' string")
        return value["text"]
    if not isinstance(value, str):
        raise ValueError("each document must be a string or an object with a 'text' string")
    return value


DocumentText = Annotated[str, BeforeValidator(_document_text)]


class CohereRerankRequest(LenientModel):
    model: str | None = Field(None, description="served model or adapter name; omitted = the base model")
    query: str = Field(..., min_length=1)
    documents: list[DocumentText] = Field(..., min_length=1, description="strings, or objects with a 'text' field")
    top_n: int | None = Field(None, ge=1, description="return only the best N; default all")
    return_documents: bool = False
    max_chunks_per_doc: int | None = Field(None, ge=1, description="accepted for compatibility; unused")
    max_tokens_per_doc: int | None = Field(
        None, ge=1, description="accepted for compatibility; the model's max_length applies"
    )


class RerankDocument(BaseModel):
    text: str


class CohereRerankResult(BaseModel):
    index: int
    relevance_score: float
    document: RerankDocument | None = None


class ApiVersion(BaseModel):
    version: str


class BilledUnits(BaseModel):
    search_units: int = 1


class CohereMeta(BaseModel):
    api_version: ApiVersion
    billed_units: BilledUnits = BilledUnits()


class CohereRerankResponse(BaseModel):
    id: str
    results: list[CohereRerankResult]
    meta: CohereMeta


class TEIRerankRequest(LenientModel):
    query: str = Field(..., min_length=1)
    texts: list[str] = Field(..., min_length=1)
    raw_scores: bool = Field(False, description="true: the model's raw score; false: sigmoid of it (cross-encoder)")
    return_text: bool = False
    truncate: bool | None = Field(
        None, description="false: inputs over max_length are an error (413); default truncates"
    )
    truncation_direction: Literal["Right", "right"] = Field("Right", description="only right truncation is supported")


class TEIRank(BaseModel):
    index: int
    score: float
    text: str | None = None


class ClassifyRequest(LenientModel):
    model: str | None = None
    inputs: list[str] = Field(..., min_length=1)


class LabelConfidence(BaseModel):
    confidence: float


class Classification(BaseModel):
    id: str
    input: str
    prediction: str
    predictions: list[str]
    confidence: float
    confidences: list[float]
    labels: dict[str, LabelConfidence]
    classification_type: Literal["single-label", "multi-label"] = "single-label"


class ClassifyResponse(BaseModel):
    id: str
    classifications: list[Classification]
    meta: CohereMeta


class Health(BaseModel):
    status: str
    ready: bool  # models warmed up; see /ready
    queue_depth: int  # requests waiting for the model
    in_flight: int  # requests whose batch the model is running
