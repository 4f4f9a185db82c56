"""`loralab compare` rows for the preference task: one trained run (optionally quantized) per row."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from loralab.errors import ConfigError

OPTIONS = {"model", "quantize", "batch_size", "limit", "split", "latency_samples"}


def run_method(config_dict: dict[str, Any], method_dict: dict[str, Any], runs_root: str) -> list[dict[str, Any]]:
    from loralab.bench.compare import measured_columns, training_columns
    from loralab.bench.config import CompareConfig, MethodSpec
    from loralab.eval.profile import LatencyProfile
    from loralab.runs import RunFolder
    from loralab.tasks.preference_eval import evaluate_preference

    config = CompareConfig.model_validate(config_dict)
    method = MethodSpec.model_validate(method_dict)
    unknown = sorted(set(method.options) - OPTIONS)
    if unknown or "model" not in method.options:
        raise ConfigError(f"preference method '{method.name}': needs 'model' (a trained run folder); "
                          f"options are {', '.join(sorted(OPTIONS))}" + (f"; unknown: {', '.join(unknown)}" if unknown else ""))
    options = dict(method.options)
    limit = options.pop("limit", None) or config.limit_queries or method.limit_queries
    result = evaluate_preference(options.pop("model"), config.dataset, limit=limit, **options)
    folder = RunFolder.create(Path(runs_root), method.name)
    folder.write_manifest({"task": "preference", "dataset": config.dataset, "method": method.model_dump()}, [])
    folder.write_metrics(result)
    notes = [] if not limit else [f"first {limit} pairs of the {result['split']} split"]
    one_at_a_time = LatencyProfile(**result["latency"]) if result["latency"] else None  # what cost is priced on
    return [{
        "method": method.name, "ranker": None, "model": method.options["model"], "quantization": result["quantization"],
        "num_queries": result["num_pairs"],
        **{k: result[k] for k in ("accuracy", "log_loss", "decisive_accuracy", "swap_flip_rate", "accuracy_one_order")},
        **measured_columns(one_at_a_time, "items_per_s", result["items_per_s"], config.price_per_hour,
                           result["peak_rss_bytes"], result["size_bytes"]),
        "run_dir": str(folder.path), "notes": notes,
        **training_columns(method.options["model"]),
    }]
