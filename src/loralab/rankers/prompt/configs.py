"""Typed, flat configs for the three prompt rankers (they round-trip to YAML like every ranker config)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from loralab.errors import ConfigError

BACKENDS = ("local", "openai")


@dataclass(frozen=True)
class Sampling:
    """Nucleus sampling for `generate` (without it: greedy). `top_k` None: no top-k cut. `seed` makes a local call
    repeatable (the same prompts in the same order give the same replies); a server repeats only if it honours it."""

    temperature: float
    top_p: float = 1.0
    top_k: int | None = None
    seed: int = 0


@dataclass
class PromptOptions:
    """Shared by every prompt mode. `backend: local` loads `model` here; `openai` sends it to `base_url`."""

    model: str = "smollm2-135m-instruct"
    backend: str = "local"  # local | openai (any OpenAI-compatible server)
    template: str | None = None  # built-in name (loralab/prompts/*.yaml) or a YAML path; None: the mode's default
    max_doc_words: int = 100  # documents are cut to this many words before they go into a prompt
    fallback_score: float = 0.0  # score of a document whose answer could not be read (recorded as a failure)
    # local backend
    dtype: str = "float32"
    batch_size: int = 8
    max_length: int = 4096  # longest prompt in tokens; a longer one is a recorded failure, never truncated
    max_batch_tokens: int = 512  # local: a batch also stops at this many tokens once padded (0: batch_size only)
    prefix_cache: bool = True  # pointwise: run the shared system prompt + query once per query, score documents from its cache
    quantize: str | None = None  # post-training quantization of the local model (e.g. int8-dynamic)
    # remote backend
    base_url: str = "http://127.0.0.1:8000/v1"
    endpoint: str = "chat"  # chat | completions
    api_key_env: str | None = None  # name of the environment variable holding the API key (never the key)
    timeout_s: float = 60.0
    max_retries: int = 2
    backoff_s: float = 0.5
    concurrency: int = 4
    top_logprobs: int = 10
    # cost: USD per 1M tokens (remote); None prices the run by machine time (compare's price_per_hour)
    price_in_per_1m: float | None = None
    price_out_per_1m: float | None = None

    def validate(self) -> None:
        if self.backend not in BACKENDS:
            raise ConfigError(f"{self.kind}: backend must be one of {', '.join(BACKENDS)}, got '{self.backend}'")
        for name in ("max_doc_words", "batch_size", "max_length", "concurrency"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{self.kind}: {name} must be >= 1, got {getattr(self, name)}")
        if self.max_batch_tokens < 0:
            raise ConfigError(f"{self.kind}: max_batch_tokens must be >= 0 (0: no token limit), got {self.max_batch_tokens}")


@dataclass
class PointwiseConfig(PromptOptions):
    kind: ClassVar[str] = "prompt-pointwise"
    mode: ClassVar[str] = "pointwise"


@dataclass
class ListwiseConfig(PromptOptions):
    kind: ClassVar[str] = "prompt-listwise"
    mode: ClassVar[str] = "listwise"
    window: int = 20
    step: int = 10
    max_doc_words: int = 60
    max_new_tokens: int | None = None  # None: 6 per passage in the window + 8

    def validate(self) -> None:
        super().validate()
        if self.window < 2 or not 1 <= self.step <= self.window:
            raise ConfigError(f"{self.kind}: need window >= 2 and 1 <= step <= window, got {self.window}/{self.step}")


@dataclass
class RatingConfig(PromptOptions):
    kind: ClassVar[str] = "prompt-rating"
    mode: ClassVar[str] = "rating"
    max_new_tokens: int = 8
