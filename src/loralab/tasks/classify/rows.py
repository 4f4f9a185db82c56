"""`loralab compare` rows for classification: one model (a trained run, optionally quantized) per row.

A method's options: model (alias, folder, trained run or quantized folder), quantize (bf16, int8-dynamic, ...),
max_length, batch_size, split, limit (examples; default the comparison's limit_queries), latency_samples; for a
causal LM prompted zero-shot: labels (names in label-id order), template."""

from __future__ import annotations

from typing import Any

from loralab.tasks.rows import RowRequest, measured_columns, training_columns

OPTIONS = {"model", "quantize", "max_length", "batch_size", "split", "limit", "latency_samples", "labels", "template"}


def rows(request_dict: dict[str, Any]) -> list[dict[str, Any]]:
    from loralab.tasks.classify.evaluate import evaluate_classifier, save_classification

    request = RowRequest(**request_dict)
    options = request.check_options("classify", OPTIONS, required=("model",))
    options["limit"] = options.get("limit") or request.queries
    result = evaluate_classifier(data=request.dataset, **options)
    folder = save_classification(result, request.runs_root, request.name)
    notes = list(result.notes) + ([f"first {options['limit']} examples of the {options.get('split', 'test')} split"]
                                  if options["limit"] else [])
    return [{
        "method": request.name, "ranker": None, "model": options["model"],
        "quantization": result.extra["quantization"], "num_queries": result.num_examples,
        **result.metrics.values,
        **measured_columns(result.latency, "items_per_s", result.throughput, request.price_per_hour,
                           result.peak_rss_bytes, result.size_bytes),
        "run_dir": str(folder.path), "notes": notes,
        **training_columns(options["model"]),
    }]
