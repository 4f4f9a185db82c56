"""HTTP errors as TEI does them: a JSON body {error, error_type} and a status code that fits."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from loralab.errors import LoralabError

log = logging.getLogger("loralab.serve")

# error_type names follow TEI's (Validation, Overloaded, ...) so TEI clients can branch on them.
_TYPE_BY_STATUS = {
    400: "Validation", 401: "Unauthorized", 404: "NotFound", 405: "MethodNotAllowed", 413: "Validation",
    422: "Validation", 429: "Overloaded", 503: "Unhealthy", 504: "Timeout",
}


class PayloadTooLarge(LoralabError):
    http_status = 413


class Overloaded(LoralabError):
    """The queue is full: the client should come back after `retry_after` seconds."""

    http_status = 429

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


class RequestTimeout(LoralabError):
    http_status = 504


class Unauthorized(LoralabError):
    http_status = 401


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    body = {"error": message, "error_type": _TYPE_BY_STATUS.get(status, "Backend")}
    return JSONResponse(body, status_code=status, headers=headers)


def _field_path(loc: tuple) -> str:
    """'documents.1.text' from pydantic's ('body', 'documents', 1, 'text')."""
    parts = [str(p) for p in loc if p != "body"]
    return ".".join(parts) or "body"


def validation_message(exc: RequestValidationError) -> str:
    problems = []
    for err in exc.errors():
        msg = err.get("msg", "invalid")
        problems.append(f"{_field_path(tuple(err.get('loc', ())))}: {msg}")
    return "; ".join(problems)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(422, validation_message(exc))

    @app.exception_handler(Overloaded)
    async def _overloaded(_: Request, exc: Overloaded) -> JSONResponse:
        return error_response(429, str(exc), {"Retry-After": str(exc.retry_after)})

    @app.exception_handler(LoralabError)
    async def _loralab(_: Request, exc: LoralabError) -> JSONResponse:
        return error_response(exc.http_status, str(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error_response(exc.status_code, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return error_response(500, f"internal error ({type(exc).__name__}); see the server log")
