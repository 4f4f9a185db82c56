"""`loralab compare` rows for the `regress` task: one price evaluation per method (see bench/tasks.py).

A method's options: model (alias, folder or trained run), adapter, quantize (none | int8 | nf4),
decoding (greedy | topk | median), top_k, limit (items; default the config's limit_queries, else 300), seed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from loralab.tasks.rows import RowRequest, measured_columns, training_columns

OPTIONS = {"model", "adapter", "quantize", "decoding", "top_k", "limit", "seed", "split", "max_new_tokens"}


def rows(request_dict: dict[str, Any]) -> list[dict[str, Any]]:
    from loralab.tasks.regress.evaluate import PriceEvalConfig, evaluate_prices, save_price_eval

    request = RowRequest(**request_dict)
    options = request.check_options("regress", OPTIONS)
    options.setdefault("limit", request.queries or 300)
    result = evaluate_prices(PriceEvalConfig(data=request.dataset, **options))
    folder = save_price_eval(result, Path(request.runs_root), request.name)
    lat = result.latency
    row = {
        "method": request.name, "model": options.get("model") if result.config["decoding"] != "median" else None,
        "quantization": options.get("quantize"), "decoding": result.config["decoding"],
        "num_queries": result.num_examples,
        **{k: result.metrics.values[k] for k in ("mae", "rmsle", "hit_rate", "unparsed", "median_abs_error")},
        **measured_columns(lat, "items_per_s", lat.queries_per_second if lat else None, request.price_per_hour,
                           result.peak_rss_bytes, result.size_bytes),
        "run_dir": str(folder.path), "notes": result.notes,
    }
    row.update(training_columns(options.get("model")))
    return [row]
