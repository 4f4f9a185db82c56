"""Server limits and the two ASGI guards that run before any route: body size (413) and API key (401)."""

from __future__ import annotations

import hmac
import os
from dataclasses import asdict, dataclass

from loralab.serve.errors import error_response


@dataclass
class ServeLimits:
    max_documents: int = 1000  # per rerank request (Cohere's own cap); texts per classify request too
    max_request_bytes: int = 2_000_000
    # Per text (query, document, classify input): tokenizing a huge string costs CPU before truncation
    # throws it away, so a long text is refused (413) rather than cut. 100k characters is ~25k tokens.
    max_text_chars: int = 100_000
    max_queue: int = 64  # requests waiting for the model; beyond this the server answers 429
    request_timeout_s: float = 30.0
    api_key_env: str = "LORALAB_API_KEY"  # the key is read from this env var at start; unset = no auth

    def to_dict(self) -> dict:
        return asdict(self)


class BodySizeLimit:
    """Rejects bodies over `max_bytes` with 413, by Content-Length when sent, else while reading."""

    def __init__(self, app, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            return await self._reject(scope, receive, send, int(declared))
        # Chunked bodies have no length up front: read them here (bounded) and replay them to the app.
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            more = message.get("more_body", False)
            if size > self.max_bytes:
                return await self._reject(scope, receive, send, size)
        body = b"".join(chunks)
        sent = False

        async def replay():
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _reject(self, scope, receive, send, size: int):
        message = f"request body is {size} bytes; this server accepts at most {self.max_bytes} (--max-request-bytes)"
        await error_response(413, message)(scope, receive, send)


class ApiKeyGuard:
    """Requires `Authorization: Bearer <key>` on every path but the open ones, when a key is configured."""

    OPEN_PATHS = frozenset({"/health", "/ready", "/docs", "/redoc", "/openapi.json", "/docs/oauth2-redirect"})

    def __init__(self, app, key: str | None):
        self.app = app
        self.expected = f"Bearer {key}".encode() if key else None

    async def __call__(self, scope, receive, send):
        if self.expected is None or scope["type"] != "http" or scope["path"] in self.OPEN_PATHS:
            return await self.app(scope, receive, send)
        given = dict(scope["headers"]).get(b"authorization", b"")
        if not hmac.compare_digest(given, self.expected):
            response = error_response(401, "missing or wrong API key: send 'Authorization: Bearer <key>'")
            response.headers["WWW-Authenticate"] = "Bearer"
            return await response(scope, receive, send)
        await self.app(scope, receive, send)


def api_key_from_env(env_var: str) -> str | None:
    return os.environ.get(env_var) or None
