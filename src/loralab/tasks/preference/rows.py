"""`loralab compare` rows for the preference task: one trained run (optionally quantized) per row."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from loralab.tasks.rows import RowRequest, measured_columns, training_columns

OPTIONS = {"model", "quantize", "batch_size", "limit", "split", "latency_samples"}


def rows(request_dict: dict[str, Any]) -> list[dict[str, Any]]:
    from loralab.artifacts.run_folder import RunFolder
    from loralab.tasks.preference.evaluate import evaluate_preference

    request = RowRequest(**request_dict)
    options = request.check_options("preference", OPTIONS, required=("model",))
    limit = options.pop("limit", None) or request.queries
    result = evaluate_preference(options.pop("model"), request.dataset, limit=limit, **options)
    folder = RunFolder.create(Path(request.runs_root), request.name)
    folder.write_manifest({"task": "preference", "dataset": request.dataset, "method": request.to_dict()}, [])
    folder.write_metrics(result.to_dict())
    notes = [] if not limit else [f"first {limit} pairs of the {result.extra['split']} split"]
    return [{
        "method": request.name, "ranker": None, "model": request.options["model"],
        "quantization": result.extra["quantization"], "num_queries": result.num_examples,
        **{k: result.metrics.values[k] for k in ("accuracy", "log_loss", "decisive_accuracy", "swap_flip_rate",
                                                  "accuracy_one_order")},
        **measured_columns(result.latency, "items_per_s", result.throughput, request.price_per_hour,
                           result.peak_rss_bytes, result.size_bytes),
        "run_dir": str(folder.path), "notes": notes,
        **training_columns(request.options["model"]),
    }]
