"""Evaluate price prediction: an LM (greedy or top-K weighted decoding) or the predict-the-median baseline, on a
fixed seeded subset of a split; writes a run folder with predictions, metrics and a scatter plot."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from loralab.data.registry import data_files
from loralab.errors import ConfigError
from loralab.eval.metrics import Metrics
from loralab.eval.profile import LatencyProfile, peak_rss_bytes
from loralab.eval.result import EvalResult
from loralab.artifacts.atomic import atomic_write_text
from loralab.artifacts.run_folder import RunFolder
from loralab.progress import report
from loralab.tasks.regress.data import PriceFormat, PriceItem, load_prices, seeded_subset
from loralab.tasks.regress.metrics import regression_metrics, scatter_plot

DECODINGS = ("greedy", "topk", "median")


@dataclass
class PriceEvalConfig:
    model: str | None = "smollm2-135m-instruct"  # alias, folder, trained run or adapter; unused for "median"
    data: str = "amazon-uk-prices"
    split: str = "test"
    limit: int | None = 300  # fixed seeded subset: every row of a comparison sees the same items
    seed: int = 42
    decoding: str = "greedy"  # greedy | topk | median (baseline: the training split's median price)
    top_k: int = 5
    max_new_tokens: int = 8
    quantize: str | None = None  # none | int8 | nf4 (a base model only)
    adapter: str | None = None

    def __post_init__(self):
        if self.decoding not in DECODINGS:
            raise ConfigError(f"decoding '{self.decoding}': choose one of {', '.join(DECODINGS)}")


def evaluate_prices(cfg: PriceEvalConfig) -> EvalResult:
    items = seeded_subset(load_prices(cfg.data, cfg.split), cfg.limit, cfg.seed)
    fallback = statistics.median(i.price for i in load_prices(cfg.data, "train"))
    if cfg.decoding == "median":
        preds = [{"id": i.id, "price": i.price, "pred": fallback, "parsed": True, "text": ""} for i in items]
        return _result(cfg, preds, None, None, [f"predicts the training median £{fallback:.2f}"])
    from loralab.artifacts.load import load

    loaded = load(cfg.adapter or cfg.model, head="causal-lm", quantize=cfg.quantize,
                  base=cfg.model if cfg.adapter else None)
    preds, seconds = _predict(loaded, items, cfg, PriceFormat.load(loaded.adapter_dir), fallback)
    unparsed = sum(not p["parsed"] for p in preds)
    notes = [f"{unparsed} unparseable outputs scored as the training median £{fallback:.2f}"] if unparsed else []
    return _result(cfg, preds, LatencyProfile.from_latencies(seconds, len(items)), loaded.size_bytes, notes)


def _predict(loaded, items: list[PriceItem], cfg: PriceEvalConfig, fmt: PriceFormat, fallback: float):
    from loralab.tasks.regress.number_decoding import greedy_number, topk_weighted_number

    preds, seconds = [], []
    for done, item in enumerate(items):
        report(done, len(items), "item")
        start = time.perf_counter()
        if cfg.decoding == "topk":
            out = topk_weighted_number(loaded.model, loaded.tokenizer, fmt.prompt(item.text), cfg.top_k,
                                       cfg.max_new_tokens)
        else:
            out = greedy_number(loaded.model, loaded.tokenizer, fmt.prompt(item.text), cfg.max_new_tokens)
        seconds.append(time.perf_counter() - start)
        preds.append({"id": item.id, "price": item.price, "pred": out.value if out.parsed else fallback,
                      "parsed": out.parsed, "text": out.text})
    return preds, seconds


def _result(cfg: PriceEvalConfig, preds, latency, size, notes) -> EvalResult:
    import dataclasses

    values = regression_metrics([p["price"] for p in preds], [p["pred"] for p in preds],
                                sum(not p["parsed"] for p in preds))
    metrics = Metrics(values, primary="mae", greater_is_better=False, num_queries=len(preds))
    per_item = {"mae": {str(p["id"]): abs(p["pred"] - p["price"]) for p in preds}}  # their mean is the MAE
    return EvalResult("regress", metrics, dataclasses.asdict(cfg), per_item, latency,
                      latency.queries_per_second if latency else None, "items/s", peak_rss_bytes(), size, notes,
                      outputs=preds)


def save_price_eval(result: EvalResult, root: Path, name: str) -> RunFolder:
    """runs/<name>/: manifest.json, metrics.json, predictions.jsonl, scatter.png."""
    import json

    folder = RunFolder.create(Path(root), name)
    folder.write_manifest(result.config, data_files(result.config["data"]), seed=result.config["seed"])
    folder.write_metrics(result.to_dict())
    atomic_write_text(folder.path / "predictions.jsonl", "".join(json.dumps(p) + "\n" for p in result.outputs))
    scatter_plot([p["price"] for p in result.outputs], [p["pred"] for p in result.outputs],
                 folder.path / "scatter.png", f"{name}: MAE £{result.primary_value:.2f}")
    return folder
