"""The FastAPI app factory: models are loaded by the caller, so one process can host several apps."""

from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

import loralab
from loralab.serve.batcher import BatchSettings
from loralab.serve.errors import install_error_handlers
from loralab.serve.limits import ApiKeyGuard, BodySizeLimit, ServeLimits, api_key_from_env
from loralab.serve.metrics import MetricsMiddleware
from loralab.serve.served_models import ServeModels
from loralab.serve.routes import router
from loralab.serve.search import SearchService
from loralab.serve.search import router as search_router
from loralab.serve.state import ServeState


def create_app(models: ServeModels, limits: ServeLimits | None = None, batching: BatchSettings | None = None,
               api_key: str | None = None, index: str | Path | None = None) -> FastAPI:
    """`api_key` overrides the env var named by `limits.api_key_env` (read here, at start); `index` is a
    `loralab index` folder served at /search."""
    limits = limits or ServeLimits()
    state = ServeState(models, limits, batching or BatchSettings())
    state.search = SearchService(index) if index else None

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        await state.start()
        try:
            yield
        finally:
            await state.stop()

    app = FastAPI(
        title="loralab serve",
        version=loralab.__version__,
        description="Cohere- and TEI-compatible re-ranking and classification over loralab models.",
        lifespan=lifespan,
    )
    app.state.serve = state
    install_error_handlers(app)
    app.include_router(router)
    app.include_router(search_router)
    # Added last = runs first: metrics see every response, including 401 and 413 from the guards.
    app.add_middleware(BodySizeLimit, max_bytes=limits.max_request_bytes)
    app.add_middleware(ApiKeyGuard, key=api_key or api_key_from_env(limits.api_key_env))
    app.add_middleware(MetricsMiddleware, metrics=state.metrics)
    return app
