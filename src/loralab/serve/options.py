"""Everything `loralab serve` is started with, in one value: the CLI fills it, each worker process builds its
app from it (workers are spawned fresh, so it travels as JSON in an environment variable)."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from loralab.errors import ConfigError
from loralab.serve.batcher import BatchSettings
from loralab.serve.limits import ServeLimits

OPTIONS_ENV = "LORALAB_SERVE_OPTIONS"


@dataclass
class ServeOptions:
    model: str = "minilm"
    ranker: str = "cross-encoder"
    ranker_options: dict = field(default_factory=dict)  # the ranker's own options (a study winner's prompt, ...)
    adapters: dict[str, str] = field(default_factory=dict)  # served name -> PEFT folder
    classifier: str | None = None
    index: str | None = None
    served_names: list[str] = field(default_factory=list)  # names of the base model; default its folder name
    max_length: int = 256
    allow_untrained_head: bool = False
    threads: int | None = None  # torch intra-op threads per worker
    limits: ServeLimits = field(default_factory=ServeLimits)
    batching: BatchSettings = field(default_factory=BatchSettings)

    def to_env(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_env(cls) -> ServeOptions:
        text = os.environ.get(OPTIONS_ENV)
        if not text:
            raise ConfigError(f"{OPTIONS_ENV} is not set: start workers with `loralab serve --workers N`")
        raw = json.loads(text)
        raw["limits"] = ServeLimits(**raw["limits"])
        raw["batching"] = BatchSettings(**raw["batching"])
        return cls(**raw)


def load_models(options: ServeOptions):
    """The models one server process holds (the slow part of starting)."""
    from loralab.serve.served_models import ServeModels

    if options.threads:
        import torch

        torch.set_num_threads(options.threads)
    return ServeModels.load(
        options.model, options.ranker, {k: Path(v) for k, v in options.adapters.items()},
        classifier=options.classifier, served_names=options.served_names or None, max_length=options.max_length,
        batch_size=options.batching.max_batch_size, allow_untrained_head=options.allow_untrained_head,
        ranker_options=options.ranker_options,
    )


def build_app(options: ServeOptions, models=None):
    from loralab.serve.app import create_app

    models = models if models is not None else load_models(options)
    return create_app(models, options.limits, options.batching, index=options.index)


def app_from_env():
    """The app factory each uvicorn worker calls (`uvicorn ... --factory`)."""
    return build_app(ServeOptions.from_env())
