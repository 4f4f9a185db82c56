"""HTTP serving: Cohere/TEI-compatible rerank and classify over the same library calls the CLI makes."""

from loralab.optional import missing_extra

# Every module here builds on fastapi / uvicorn / prometheus-client (the `serve` extra): say so once, up front.
_missing = missing_extra(("fastapi", "uvicorn", "prometheus_client"), "serve", "serving over HTTP")
if _missing is not None:
    raise _missing
