"""`loralab serve`: load the model (and adapters) once, then answer Cohere/TEI-shaped HTTP requests."""

from __future__ import annotations

import typer
from rich.console import Console

err_console = Console(stderr=True)


def serve(
    model: str = typer.Option("minilm", help="packaged alias, local folder, GGUF file or hub id"),
    study: str = typer.Option(None, help="serve the winner of `loralab study run ... --out DIR` (sets --model, --ranker)"),
    ranker: str = typer.Option("cross-encoder", help="cross-encoder | bi-encoder | splade | prompt-pointwise"),
    adapter: list[str] = typer.Option([], "--adapter", help="name=path of a PEFT LoRA folder; repeatable"),
    classifier: str = typer.Option(None, help="sequence-classifier model served at /v1/classify"),
    index: str = typer.Option(None, help="a `loralab index` folder served at /search (retrieve, then re-rank)"),
    served_model_name: list[str] = typer.Option(
        [], "--served-model-name", help="a name clients may send as `model` for the base model, e.g. a hosted API's "
        "(rerank-english-v3.0); repeatable; the first is the one reported (default: the folder's name)"),
    name: str = typer.Option(None, hidden=True, help="old spelling of --served-model-name"),
    allow_untrained_head: bool = typer.Option(
        False, help="serve a cross-encoder/classifier whose head is untrained (random scores; experiments only)"),
    workers: int = typer.Option(1, min=1, help="worker processes sharing the port, each with its own model copy; "
                                "a worker that dies is restarted"),
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
    max_text_chars: int = typer.Option(100_000, help="characters per query, document or input; more gets 413"),
    max_queue: int = typer.Option(64, help="requests waiting for the model; more gets 429 + Retry-After"),
    request_timeout: float = typer.Option(30.0, help="seconds before a request gets 504"),
    api_key_env: str = typer.Option("LORALAB_API_KEY", help="env var holding the Bearer key (unset: no auth)"),
    threads: int = typer.Option(None, help="torch intra-op threads per worker (default: cores / workers; torch's "
                                "choice with one worker); 1 is far faster on a CPU shared with other busy processes"),
    log_level: str = typer.Option("info"),
) -> None:
    """Serve re-ranking (Cohere v1/v2, TEI) and classification over HTTP, with Prometheus /metrics."""
    from loralab.serve.adapters import parse_adapter_specs
    from loralab.serve.batcher import BatchSettings
    from loralab.serve.limits import ServeLimits, api_key_from_env
    from loralab.serve.options import ServeOptions, build_app, load_models
    from loralab.serve.runner import LOOPBACK, default_threads, serve_forever
    from loralab.serve.served_models import check_serve_inputs

    if study:
        from loralab.study.ship import served_winner

        model, ranker, ranker_options = served_winner(study)
    else:
        ranker_options = {}
    adapters = parse_adapter_specs(adapter)
    options = ServeOptions(
        model=model, ranker=ranker, ranker_options=ranker_options, adapters={k: str(v) for k, v in adapters.items()}, classifier=classifier,
        index=index, served_names=[*served_model_name, *([name] if name else [])], max_length=max_length,
        allow_untrained_head=allow_untrained_head,
        threads=threads or (default_threads(workers) if workers > 1 else None),
        limits=ServeLimits(max_documents=max_documents, max_request_bytes=max_request_bytes,
                           max_text_chars=max_text_chars, max_queue=max_queue, request_timeout_s=request_timeout,
                           api_key_env=api_key_env),
        batching=BatchSettings(batching, max_batch_size, max_batch_tokens, max_wait_ms, min_fill),
    )
    if host != LOOPBACK and not api_key_from_env(api_key_env):
        err_console.print(f"[yellow]warning:[/yellow] binding {host} without an API key (set {api_key_env})")
    if workers > 1:
        check_serve_inputs(model, ranker, adapters, classifier)  # fail here, not in every worker
        err_console.print(f"serving {model} with {workers} workers on http://{host}:{port} (docs at /docs)")
        serve_forever(options, host=host, port=port, workers=workers, log_level=log_level)
        return
    models = load_models(options)
    err_console.print(f"serving {', '.join(models.ranker_names)} on http://{host}:{port} (docs at /docs)")
    serve_forever(options, host=host, port=port, log_level=log_level, app=build_app(options, models))


def register(app: typer.Typer) -> None:
    app.command()(serve)
