"""Remote backend: any OpenAI-compatible server (vLLM, Ollama, llama.cpp's server, hosted APIs) over httpx.

`/chat/completions` or `/completions`; log-probabilities are asked for when the server offers them and the
generated text is used otherwise. Each request has a timeout and bounded retries with exponential backoff
(transport errors, timeouts, 429 and 5xx); at most `concurrency` requests are in flight. A request that still
fails, or an answer that is not the expected JSON, becomes a `Reply` with `error` set: never an exception.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from loralab.errors import ConfigError
from loralab.rankers.prompt.configs import Sampling
from loralab.rankers.prompt.templates import Prompt
from loralab.rankers.prompt.usage import Reply

ENDPOINTS = {"chat": "/chat/completions", "completions": "/completions"}
RETRY_STATUS = {408, 409, 429, 500, 502, 503, 504}


class BadResponse(Exception):
    """The server answered, but not with an OpenAI-shaped completion."""


class RemoteBackend:
    def __init__(
        self, base_url: str, model: str, endpoint: str = "chat", api_key_env: str | None = None,
        timeout_s: float = 60.0, max_retries: int = 2, backoff_s: float = 0.5, concurrency: int = 4,
        top_logprobs: int = 10,
    ):
        if endpoint not in ENDPOINTS:
            raise ConfigError(f"endpoint must be one of {', '.join(ENDPOINTS)}, got '{endpoint}'")
        if max_retries < 0 or concurrency < 1 or timeout_s <= 0:
            raise ConfigError("remote backend needs max_retries >= 0, concurrency >= 1 and timeout_s > 0")
        headers = {}
        if api_key_env:
            key = os.environ.get(api_key_env)
            if not key:
                raise ConfigError(f"api_key_env names the environment variable {api_key_env}, which is not set")
            headers["Authorization"] = f"Bearer {key}"
        self.name = f"openai:{model}@{base_url}"
        self.model, self.endpoint, self.top_logprobs = model, endpoint, top_logprobs
        self.max_retries, self.backoff_s, self.concurrency = max_retries, backoff_s, concurrency
        self.logprobs_offered = True  # turned off for good when the server rejects a logprobs request
        self.model_size_bytes = None
        self.client = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout_s, headers=headers)

    def next_token(self, prompts: Sequence[Prompt], words: Sequence[str]) -> list[Reply]:
        """One answer token per prompt, with its top log-probabilities when the server offers them."""
        return self._map(prompts, max_tokens=1, logprobs=True)

    def generate(self, prompts: Sequence[Prompt], max_new_tokens: int,
                 sampling: Sampling | None = None) -> list[Reply]:
        """Greedy (temperature 0), or sampled with `sampling`: prompt i is sent with seed `sampling.seed + i`, so a
        prompt repeated in the list gets different samples; the call repeats only where the server honours seeds
        (OpenAI's API: best effort; llama-cpp-python's server: no)."""
        if sampling is None:
            return self._map(prompts, max_tokens=max_new_tokens, logprobs=False)
        extra = [{"temperature": sampling.temperature, "top_p": sampling.top_p, "seed": sampling.seed + i,
                  **({"top_k": sampling.top_k} if sampling.top_k else {})} for i in range(len(prompts))]
        return self._map(prompts, max_tokens=max_new_tokens, logprobs=False, extra=extra)

    def _map(self, prompts: Sequence[Prompt], max_tokens: int, logprobs: bool,
             extra: Sequence[dict[str, Any]] | None = None) -> list[Reply]:
        extra = extra or [{}] * len(prompts)
        if len(prompts) <= 1 or self.concurrency == 1:
            return [self._call(p, max_tokens, logprobs, e) for p, e in zip(prompts, extra)]
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(prompts))) as pool:
            return list(pool.map(lambda p, e: self._call(p, max_tokens, logprobs, e), prompts, extra))

    def _payload(self, prompt: Prompt, max_tokens: int, logprobs: bool,
                 extra: dict[str, Any] | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"model": self.model, "max_tokens": max_tokens, "temperature": 0.0, **(extra or {})}
        if self.endpoint == "chat":
            body["messages"] = prompt.messages
            if logprobs:
                body.update(logprobs=True, top_logprobs=self.top_logprobs)
        else:
            body["prompt"] = prompt.text
            if logprobs:
                body["logprobs"] = self.top_logprobs
        return body

    def _call(self, prompt: Prompt, max_tokens: int, logprobs: bool, extra: dict[str, Any] | None = None) -> Reply:
        logprobs = logprobs and self.logprobs_offered
        error = ""
        for attempt in range(self.max_retries + 1):
            if attempt:
                time.sleep(self.backoff_s * 2 ** (attempt - 1))
            try:
                body = self._payload(prompt, max_tokens, logprobs, extra)
                response = self.client.post(ENDPOINTS[self.endpoint], json=body)
            except httpx.TimeoutException as exc:
                error = f"timeout: {type(exc).__name__} after {self.client.timeout.read}s"
                continue
            except httpx.HTTPError as exc:
                error = f"connection: {type(exc).__name__}: {exc}"
                continue
            if response.status_code in RETRY_STATUS:
                error = f"http_{response.status_code}: {response.text[:200]}"
                continue
            if response.status_code >= 400 and logprobs and "logprob" in response.text.lower():
                self.logprobs_offered = logprobs = False  # ask again without them (generation only)
                error = f"http_{response.status_code}: {response.text[:200]}"
                continue
            if response.status_code >= 400:
                return Reply(error=f"http_{response.status_code}: {response.text[:200]}")
            try:
                return parse_completion(response, self.endpoint)
            except BadResponse as exc:
                return Reply(error=f"bad_response: {exc}")
        return Reply(error=f"{error} ({self.max_retries + 1} attempts)")


def parse_completion(response: httpx.Response, endpoint: str) -> Reply:
    """Text, token counts and first-position top log-probabilities from a chat or completions answer."""
    try:
        data = response.json()
        choice = data["choices"][0]
        text = (choice["message"].get("content") or "") if endpoint == "chat" else choice["text"]
    except (json.JSONDecodeError, KeyError, IndexError, TypeError, AttributeError) as exc:
        raise BadResponse(f"{type(exc).__name__} {exc} in {response.text[:200]!r}") from None
    usage = data.get("usage") or {}
    return Reply(
        text=str(text),
        tokens_in=int(usage.get("prompt_tokens") or 0),
        tokens_out=int(usage.get("completion_tokens") or 0),
        logprobs=_top_logprobs(choice.get("logprobs"), endpoint),
    )


def _top_logprobs(block: Any, endpoint: str) -> dict[str, float] | None:
    """{token: logprob} at the first generated position, or None when the server sent none."""
    try:
        if endpoint == "chat":
            first = block["content"][0]
            found = {t["token"]: float(t["logprob"]) for t in first.get("top_logprobs") or []}
            found.setdefault(first["token"], float(first["logprob"]))
            return found
        top = block["top_logprobs"][0]
        return {str(k): float(v) for k, v in top.items()} if top else None
    except (KeyError, IndexError, TypeError, ValueError, AttributeError):
        return None
