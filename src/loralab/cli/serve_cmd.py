"""`loralab serve`: load the model (and adapters) once, then answer Cohere/TEI-shaped HTTP requests."""

from __future__ import annotations

import typer
from rich.console import Console

err_console = Console(stderr=True)


def serve(
    model: str = typer.Option("minilm", help="packaged alias, local folder, GGUF file or hub id"),
    study: str = typer.Option(None, help="serve the winner of `loralab study run ... --out DIR` (sets --model, --ranker)"),
    ranker: str = typer.Option("cross-encoder", help="cross-encoder | bi-encoder"),
    adapter: list[str] = typer.Option([], "--adapter", help="name=path of a PEFT LoRA folder; repeatable"),
    classifier: str = typer.Option(None, help="sequence-classifier model served at /v1/classify"),
    index: str = typer.Option(None, help="a `loralab index` folder served at /search (retrieve, then re-rank)"),
    name: str = typer.Option(None, help="name clients send as `model` for the base model (default: folder name)"),
    host: str = typer.Option("127.0.0.1", help="bind address; anything but loopback should set an API key"),
    port: int = typer.Option(8080),
    max_length: int = typer.Option(256, help="max tokens per input (query + document for cross-encoders)"),
    batching: bool = typer.Option(True, help="micro-batch concurrent requests (--no-batching: one at a time)"),
    max_batch_size: int = typer.Option(64, help="items per forward pass"),
    max_batch_tokens: int = typer.Option(16384, help="padded tokens per forward pass"),
    max_wait_ms: float = typer.Option(5.0, help="how long a request waits for others to batch with"),
    min_fill: float = typer.Option(0.5, help="split a batch where items fall below this fraction of its longest"),
    max_documents: int = typer.Option(1000, help="documents (or inputs) per request; more gets 413"),
    max_request_bytes: int = typer.Option(2_000_000, help="request body bytes; more gets 413"),
    max_queue: int = typer.Option(64, help="requests waiting for the model; more gets 429 + Retry-After"),
    request_timeout: float = typer.Option(30.0, help="seconds before a request gets 504"),
    api_key_env: str = typer.Option("LORALAB_API_KEY", help="env var holding the Bearer key (unset: no auth)"),
    threads: int = typer.Option(None, help="torch intra-op threads (default: torch's choice); 1 is far faster on "
                                "a CPU shared with other busy processes"),
    log_level: str = typer.Option("info"),
) -> None:
    """Serve re-ranking (Cohere v1/v2, TEI) and classification over HTTP, with Prometheus /metrics."""
    from loralab.serve.adapters import parse_adapter_specs
    from loralab.serve.app import create_app
    from loralab.serve.batcher import BatchSettings
    from loralab.serve.limits import ServeLimits, api_key_from_env
    from loralab.serve.served_models import ServeModels
    from loralab.serve.runner import LOOPBACK, serve_forever

    if study:
        from loralab.study.ship import served_winner

        model, ranker = served_winner(study)
    if threads:
        import torch

        torch.set_num_threads(threads)
    models = ServeModels.load(
        model, ranker, parse_adapter_specs(adapter), classifier=classifier, name=name, max_length=max_length,
        batch_size=max_batch_size,
    )
    limits = ServeLimits(max_documents, max_request_bytes, max_queue, request_timeout, api_key_env)
    settings = BatchSettings(batching, max_batch_size, max_batch_tokens, max_wait_ms, min_fill)
    if host != LOOPBACK and not api_key_from_env(api_key_env):
        err_console.print(f"[yellow]warning:[/yellow] binding {host} without an API key (set {api_key_env})")
    err_console.print(f"serving {', '.join(models.ranker_names)} on http://{host}:{port} (docs at /docs)")
    app = create_app(models, limits, settings, index=index)
    serve_forever(app, host=host, port=port, log_level=log_level)


def register(app: typer.Typer) -> None:
    app.command()(serve)
