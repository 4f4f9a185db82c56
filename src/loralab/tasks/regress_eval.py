"""Evaluate price prediction: an LM (greedy or top-K weighted decoding) or the predict-the-median baseline, on a
fixed seeded subset of a split; writes a run folder with predictions, metrics and a scatter plot."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loralab.errors import ConfigError
from loralab.eval.profile import LatencyProfile, peak_rss_bytes
from loralab.runs import RunFolder, atomic_write_text
from loralab.tasks.regress import PriceFormat, PriceItem, load_prices, seeded_subset
from loralab.tasks.regress_metrics import regression_metrics, scatter_plot

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


@dataclass
class PriceEvalResult:
    config: PriceEvalConfig
    metrics: dict[str, Any]
    predictions: list[dict[str, Any]]
    latency: LatencyProfile | None
    size_bytes: int | None
    peak_rss_bytes: int
    notes: list[str] = field(default_factory=list)


def evaluate_prices(cfg: PriceEvalConfig) -> PriceEvalResult:
    items = seeded_subset(load_prices(cfg.data, cfg.split), cfg.limit, cfg.seed)
    fallback = statistics.median(i.price for i in load_prices(cfg.data, "train"))
    if cfg.decoding == "median":
        preds = [{"id": i.id, "price": i.price, "pred": fallback, "parsed": True, "text": ""} for i in items]
        return _result(cfg, preds, None, None, [f"predicts the training median £{fallback:.2f}"])
    from loralab.tasks.lm_loading import load_lm

    loaded = load_lm(cfg.model, cfg.quantize, cfg.adapter)
    preds, seconds = _predict(loaded, items, cfg, PriceFormat.load(loaded.adapter_dir), fallback)
    unparsed = sum(not p["parsed"] for p in preds)
    notes = [f"{unparsed} unparseable outputs scored as the training median £{fallback:.2f}"] if unparsed else []
    return _result(cfg, preds, LatencyProfile.from_latencies(seconds, len(items)), loaded.size_bytes, notes)


def _predict(loaded, items: list[PriceItem], cfg: PriceEvalConfig, fmt: PriceFormat, fallback: float):
    from loralab.tasks.number_decoding import greedy_number, topk_weighted_number

    preds, seconds = [], []
    for item in items:
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


def _result(cfg, preds, latency, size, notes) -> PriceEvalResult:
    metrics = regression_metrics([p["price"] for p in preds], [p["pred"] for p in preds],
                                 sum(not p["parsed"] for p in preds))
    return PriceEvalResult(cfg, metrics, preds, latency, size, peak_rss_bytes(), notes)


def save_price_eval(result: PriceEvalResult, root: Path, name: str) -> RunFolder:
    """runs/<name>/: manifest.json, metrics.json, predictions.jsonl, scatter.png."""
    import dataclasses
    import json

    folder = RunFolder.create(Path(root), name)
    folder.write_manifest(dataclasses.asdict(result.config), _data_files(result.config.data), seed=result.config.seed)
    folder.write_metrics({**result.metrics, "latency": result.latency.to_dict() if result.latency else None,
                          "size_bytes": result.size_bytes, "peak_rss_bytes": result.peak_rss_bytes,
                          "notes": result.notes})
    atomic_write_text(folder.path / "predictions.jsonl", "".join(json.dumps(p) + "\n" for p in result.predictions))
    scatter_plot([p["price"] for p in result.predictions], [p["pred"] for p in result.predictions],
                 folder.path / "scatter.png", f"{name}: MAE £{result.metrics['mae']:.2f}")
    return folder


def _data_files(spec: str) -> list[Path]:
    """The files whose sha256 goes into the manifest: one file, a folder's JSONL files, or a registered dataset's."""
    from loralab.data.registry import get_spec

    path = Path(spec)
    if path.is_file():
        return [path]
    return sorted((path if path.is_dir() else get_spec(spec).folder).glob("*.jsonl*"))
