"""`loralab compare` rows for the `regress` task: one price evaluation per method (see bench/tasks.py).

A method's options: model (alias, folder or trained run), adapter, quantize (none | int8 | nf4),
decoding (greedy | topk | median), top_k, limit (items; default the config's limit_queries, else 300), seed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from loralab.errors import ConfigError

OPTIONS = {"model", "adapter", "quantize", "decoding", "top_k", "limit", "seed", "split", "max_new_tokens"}


def run_method(config_dict: dict[str, Any], method_dict: dict[str, Any], runs_root: str) -> list[dict[str, Any]]:
    from loralab.bench.compare import measured_columns, training_columns
    from loralab.bench.config import CompareConfig, MethodSpec
    from loralab.tasks.regress_eval import PriceEvalConfig, evaluate_prices, save_price_eval

    config = CompareConfig.model_validate(config_dict)
    method = MethodSpec.model_validate(method_dict)
    unknown = sorted(set(method.options) - OPTIONS)
    if unknown:
        raise ConfigError(f"regress method '{method.name}': unknown option {', '.join(unknown)}; "
                          f"valid: {', '.join(sorted(OPTIONS))}")
    options = dict(method.options)
    options.setdefault("limit", method.limit_queries or config.limit_queries or 300)
    result = evaluate_prices(PriceEvalConfig(data=config.dataset, **options))
    folder = save_price_eval(result, Path(runs_root), method.name)
    lat = result.latency
    row = {
        "method": method.name, "model": options.get("model") if result.config.decoding != "median" else None,
        "quantization": options.get("quantize"), "decoding": result.config.decoding,
        "num_queries": result.metrics["num_items"],
        **{k: result.metrics[k] for k in ("mae", "rmsle", "hit_rate", "unparsed", "median_abs_error")},
        **measured_columns(lat, "items_per_s", lat.queries_per_second if lat else None, config.price_per_hour,
                           result.peak_rss_bytes, result.size_bytes),
        "run_dir": str(folder.path), "notes": result.notes,
    }
    row.update(training_columns(options.get("model")))
    return [row]
